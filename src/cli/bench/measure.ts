/**
 * Timing one point of `kcrypto bench`: a request function kept `depth` deep in flight, or a
 * synchronous one called in a loop, for a while after a warm-up.
 */
import { performance } from 'node:perf_hooks';

/** What one point measured. */
export interface Measured {
  ops: number;
  bytes: number;
  seconds: number;
}

/** Warm-up before counting: a tenth of the time, as the C baseline does. */
const warmUpMs = (ms: number): number => ms / 10;

/**
 * Keeps `depth` requests in flight: each of `depth` loops issues the next request when its last
 * one settled, until `ms` have passed after a warm-up. Seconds run from the start of counting to
 * the last counted completion. A request that rejects ends the point with its error.
 */
export async function measureInFlight(request: () => Promise<unknown>, size: number, depth: number, ms: number): Promise<Measured> {
  const start = performance.now() + warmUpMs(ms);
  const end = start + ms;
  let ops = 0;
  let last = start;
  const loop = async (): Promise<void> => {
    // At least one request per loop before counting: opening a route or a queue is warm-up.
    do await request();
    while (performance.now() < start);
    let t: number;
    do {
      await request();
      ops++;
      t = performance.now();
    } while (t < end);
    if (t > last) last = t;
  };
  await Promise.all(Array.from({ length: depth }, loop));
  return { ops, bytes: ops * size, seconds: (last - start) / 1000 };
}

/** Calls a synchronous request in a loop (node:crypto: one at a time on this thread). */
export function measureSync(request: () => unknown, size: number, ms: number): Measured {
  const start = performance.now() + warmUpMs(ms);
  const end = start + ms;
  do request();
  while (performance.now() < start);
  let ops = 0;
  let t: number;
  do {
    request();
    ops++;
    t = performance.now();
  } while (t < end);
  return { ops, bytes: ops * size, seconds: (t - start) / 1000 };
}

/** Megabytes (10⁶ bytes) a second; 0 when nothing was timed. */
export function mbPerSecond(m: Measured): number {
  return m.seconds > 0 ? m.bytes / m.seconds / 1e6 : 0;
}
