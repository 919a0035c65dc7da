/**
 * The inline cost model: whether a request runs on the calling thread or hops to one of the
 * addon's threads.
 *
 * Why a policy at all: a round trip through another thread costs many times what a small
 * AF_ALG request does, so a hop per small request would cost more than the work itself.
 * node:crypto and crypto(9)'s CRYPTOCAP_F_SYNC drivers make the same choice. The threshold is
 * not a constant: each session measures its own cost per request and per byte, and the process
 * measures what a hop costs, and a request runs inline only when its predicted cost is below
 * the hop's (and below a hard cap that bounds event-loop stalls) -- or, alone in flight, when
 * no other request comes within a microtask to make a hop worth it. Requests of device drivers
 * always run on threads: a device can stop answering, and only a thread can be left behind in
 * the kernel.
 */
import type { Execution } from './types.js';

/** No inline request may cost more than this, however expensive a thread hop is. */
const INLINE_CEILING_NS = 4_000_000;
/**
 * A lone request waits for company only above this: waiting costs a microtask and a promise at
 * every layer above the engine (about 1 µs on a 2-core host), which below it is more than the
 * 1% a second core could save.
 */
const GATHER_FLOOR_NS = 100_000;
/**
 * Cost model weights. A sample above the estimate counts at most ×GROWTH_CAP and with weight
 * ALPHA_UP; one below moves it with ALPHA_DOWN. Under emulation or load a single request can
 * take 100× its usual time (a descheduled vCPU, a GC pause); an outlier must not send a whole
 * stream of cheap requests on thread hops while the estimate slowly recovers.
 */
const ALPHA_UP = 0.1;
const ALPHA_DOWN = 0.5;
const GROWTH_CAP = 4;

/** Moves `estimate` towards `sample`: fast when it falls, slowly and capped when it grows. */
export function robustUpdate(estimate: number, sample: number): number {
  if (sample <= estimate) return estimate + ALPHA_DOWN * (sample - estimate);
  return estimate + ALPHA_UP * (Math.min(sample, estimate * GROWTH_CAP) - estimate);
}

/**
 * What a round trip through the dispatcher costs (thread wake-up, completion hand-off, the
 * JavaScript callback), learnt from requests that were alone in flight: their latency minus
 * their own work. The update grows slowly and falls fast, so a round trip that waited on a
 * busy event loop (which says nothing about the hop) barely moves it.
 */
export class HopCost {
  /** ns per round trip; a guess until measured. */
  ns = 100_000;
  samples = 0;
  observe(ns: number): void {
    this.ns = this.samples++ === 0 ? Math.min(ns, 4 * this.ns) : robustUpdate(this.ns, ns);
  }
}

/** What a session has measured about its own requests. */
export interface CostModel {
  fixedNs: number;
  perByteNs: number;
  samples: number;
}

/** A new session's guess until it has measured its own requests. */
export function initialCostModel(): CostModel {
  return { fixedNs: 30_000, perByteNs: 15, samples: 0 };
}

/** Predicted cost of a request of `size` bytes, in ns. */
export function predict(m: CostModel, size: number): number {
  return m.fixedNs + m.perByteNs * size;
}

/** Inline requests timed: every one of a session's first TIMED_FIRST, then one in TIMED_EVERY (a power of two). */
const TIMED_FIRST = 64;
const TIMED_EVERY = 8;

/**
 * Whether to time a session's inline request, the `inline`-th: two clock readings cost as much
 * as a small request's own JavaScript work, so after the first requests only a sample is timed
 * (the rest charge the turn's budget with their predicted cost).
 */
export function timesInline(m: CostModel, inline: number): boolean {
  return m.samples < TIMED_FIRST || (inline & (TIMED_EVERY - 1)) === 0;
}

/** Learns from a request of `size` bytes that took `ns`: small ones for the fixed cost, large ones per byte. */
export function observe(m: CostModel, size: number, ns: number): void {
  if (size <= 1024) m.fixedNs = robustUpdate(m.fixedNs, ns);
  else if (size >= 8192) m.perByteNs = robustUpdate(m.perByteNs, Math.max(0, ns - m.fixedNs) / size);
  m.samples++;
}

/**
 * The largest predicted cost that runs inline while other requests are in flight: what a thread
 * hop costs (below it a hop can only lose; above it the request runs on another core, beside
 * this thread and the others), and at most 4 ms.
 */
export function inlineLimitNs(hopNs: number): number {
  return Math.min(INLINE_CEILING_NS, hopNs);
}

/**
 * Where one request runs: now on this thread, on the addon's threads, inline in a later turn,
 * or `gather`: it waits one microtask for company, then runs on a thread if other requests
 * came meanwhile and inline if it is still alone (see {@link chooseLane}).
 */
export type Lane = 'inline' | 'threads' | 'defer' | 'gather';

/** What {@link chooseLane} weighs. */
export interface LaneInputs {
  synchronous: boolean;
  execution: Execution;
  /** Nothing else of the session is in flight or waiting. */
  alone: boolean;
  /** The request's predicted cost (ns). */
  predictedNs: number;
  /** What a thread hop costs now (ns). */
  hopNs: number;
  /** Whether this event-loop turn has inline budget left. */
  budgetLeft: boolean;
}

/** The lane chooser: where a request runs. */
export function chooseLane(r: LaneInputs): Lane {
  // A device can stop answering: only a thread may be left waiting for it.
  if (!r.synchronous || r.execution === 'threads') return 'threads';
  if (r.execution === 'inline') return 'inline';
  // A request alone in flight (a serial loop) gains nothing on another thread -- this one
  // would only wait for it -- so it may run inline up to the stall ceiling.
  if (r.alone) {
    if (r.predictedNs > INLINE_CEILING_NS) return 'threads';
    // Worth a hop if company comes: a program issuing several at once (Promise.all) issues them
    // all before the next microtask, so this one waits that long to know.
    if (r.predictedNs > Math.max(r.hopNs, GATHER_FLOOR_NS)) return 'gather';
  } else if (r.predictedNs > inlineLimitNs(r.hopNs)) {
    // With company, work that costs more than the hop runs where it overlaps the others and
    // this thread: on the other cores.
    return 'threads';
  }
  if (r.budgetLeft) return 'inline';
  // Out of budget for this turn. With other requests of this session already waiting there
  // is concurrency to spread over another core; a lone request (a serial loop) just waits
  // for the next turn, which costs far less than a thread hop.
  return r.alone ? 'defer' : 'threads';
}
