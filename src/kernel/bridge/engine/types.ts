/**
 * The engine's vocabulary: request operations, where requests run, a session's lifecycle, and
 * the options and counters of a `KernelSession`.
 */

/** Request operations, in native/common/engine.h order. */
export const Op = { Encrypt: 0, Decrypt: 1, Digest: 2, HashUpdate: 3, HashFinal: 4, Random: 5 } as const;
/** A request operation. */
export type OpCode = (typeof Op)[keyof typeof Op];

/**
 * Session control, in native/common/engine.h order after the request operations: a device
 * session's deferred open and its close, run on its lane (on a device, binding and keying a
 * transform and releasing it are device round trips of their own).
 */
export const Control = { Open: 6, Close: 7 } as const;
/** A session control operation. */
export type ControlCode = (typeof Control)[keyof typeof Control];

/**
 * Where a session's requests run. `auto` applies the measured policy. Whatever the choice,
 * requests of device drivers (`synchronous` false) run on threads only.
 */
export type Execution = 'auto' | 'inline' | 'threads';

/**
 * Where a session's native half is in its life:
 * - `open`: requests run on it; close() closes its descriptors;
 * - `abandoned`: the JavaScript side stopped using it (`KernelSession.abandon`): new
 *   requests are refused, no system call touches its descriptors from this thread again, and
 *   close() leaves them to the kernel (they are released, if ever, when its calls return);
 * - `closed`: close() released its descriptors.
 */
export type SessionState = 'open' | 'abandoned' | 'closed';

/**
 * Why a session was abandoned:
 * - `deadline`: one of its requests did not complete within its deadline (it is stuck);
 * - `device-removed`: the device-removal watch saw the device behind its driver go;
 * - `device-error`: the device failed one of its requests with ESHUTDOWN or ENODEV (the
 *   kernel's crypto engine of a removed card answers ESHUTDOWN);
 * - `driver-gone`: `KernelSession.abandon` by other code (the driver layer, when a driver is gone).
 */
export type AbandonCause = 'deadline' | 'device-removed' | 'device-error' | 'driver-gone';

/** How and when a session was abandoned. */
export interface Abandonment {
  cause: AbandonCause;
  /** What happened, for messages and logs. */
  detail: string;
  /** performance.now() when it was abandoned. */
  at: number;
}

/**
 * What `KernelSession.abandon` does with the requests still in flight: reject them now
 * with this code, or `keep` them, to complete on their own (or at their deadline).
 */
export type InFlightFate = 'ESHUTDOWN' | 'ENODEV' | 'keep';

/** Options of a `KernelSession`. */
export interface KernelSessionOptions {
  /**
   * Deadline of a request on threads, in ms, plus `DEADLINE_NS_PER_BYTE` per byte; 0 turns it
   * off. Default: `requestDeadlineMs()` (the environment, else 10 s).
   */
  deadlineMs?: number;
  /** The kernel driver (cra_driver_name) behind the session, for the device-removal watch. */
  kernelDriver?: string;
  /**
   * The system call a request (or session control) of `op` waits in, named by the errors of
   * abandoned requests (ETIMEDOUT, ENODEV, ESHUTDOWN). Default: AF_ALG's (`sendmsg` for a hash
   * update, `setsockopt` for an open, `close` for a close, else `recvmsg`).
   */
  waitSyscall?: (op: OpCode | ControlCode) => string;
}

/** Counters and measured costs of one session. */
export interface KernelSessionStats {
  requests: number;
  /** Run on the calling thread. */
  inline: number;
  /** Run on the addon's threads. */
  threaded: number;
  /** Waited for a later event-loop turn (the turn's inline budget was spent), then ran inline. */
  deferred: number;
  errors: number;
  bytes: number;
  inFlight: number;
  synchronous: boolean;
  execution: Execution;
  /** Measured fixed cost per request and cost per byte (ns), and the samples behind them. */
  fixedNs: number;
  perByteNs: number;
  samples: number;
  /** The predicted cost above which a request with others in flight goes to a thread (ns). */
  inlineLimitNs: number;
  /** Requests completed with ETIMEDOUT at their deadline. */
  timedOut: number;
  /** Deadline of a request on threads (ms, before the per-byte allowance); 0: none. */
  deadlineMs: number;
  /** Why the session was abandoned, or null while it is open. */
  abandonment: Abandonment | null;
}
