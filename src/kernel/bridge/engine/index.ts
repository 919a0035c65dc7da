/**
 * The execution layer: runs requests on native engine sessions, inline or on the addon's
 * threads, with deadlines, batched completions and a registry of open sessions.
 */
export { engineStats, stuckRequests, type EngineStats } from './completions.js';
export type { CostModel } from './cost.js';
export { DEADLINE_ENV, DEADLINE_NS_PER_BYTE, DEFAULT_DEADLINE_MS, requestDeadlineMs } from './deadlines.js';
export { kernelSessions, onKernelSessionOpen } from './registry.js';
export { closedError } from './request.js';
export { KernelSession } from './session.js';
export { Op } from './types.js';
export type {
  AbandonCause,
  Execution,
  InFlightFate,
  KernelSessionOptions,
  KernelSessionStats,
  OpCode,
  Abandonment,
  SessionState,
} from './types.js';
