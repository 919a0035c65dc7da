/**
 * The framework's bookkeeping of a request while it is dispatched, kept on the request in a
 * private field (CryptoOp, read through `opStateOf`), so that CryptoOp's public fields stay
 * crypto(9)'s. A field rather than a side table keyed by the request: a WeakMap entry per
 * request is an ephemeron the garbage collector must trace (bench/README.md, "Notes behind the
 * code").
 */
import type { Driver } from './driver.js';

export interface OpState {
  /** The driver the request was handed to, until it completes. */
  owner: Driver | null;
  /** When it was handed there (performance.now()); negative when its latency is not sampled. */
  startedAt: number;
  /** Its place in the owner's list of requests in flight (in-flight.ts); -1 when in none. */
  slot: number;
  /**
   * A request to a session of a driver with a RequestHook (the router) while it runs on one of
   * that driver's alternatives: that driver, and the session's sid, given back to `sid` before
   * the consumer hears. Null otherwise.
   */
  via: Driver | null;
  from: bigint | null;
  /** The hook's own notes of where it sent the request (the router: the alternative and the cores it keeps busy). */
  index: number;
  load: number;
}

/**
 * The fields that come to hold fractions (a clock reading, a share of cores) start as
 * fractions. V8 keeps a number field as a small integer until it first holds a fraction, and
 * that change deprecates the shape of the objects made here; measured on the host benchmark
 * after several drivers had run, each request's state then cost a migration on its first
 * write, 0.4-0.5 µs of a 64 B digest. (-0.5: not sampled, as any negative startedAt.)
 */
export function newOpState(): OpState {
  return { owner: null, startedAt: -0.5, slot: -1, via: null, from: null, index: 0, load: 0.5 };
}
