/**
 * Request deadlines. A request on the addon's threads that has not completed within its
 * deadline (measured from the moment a thread takes it, so a long queue never trips it) is
 * completed here with ETIMEDOUT, exactly once; it is then stuck (its thread stays in the
 * kernel, and the lane starts a replacement), its session is abandoned, and its late native
 * completion, if it ever comes, is dropped. Why this matters: when a virtio-crypto card is
 * removed, a request in flight on it can stay in the kernel for good (an unkillable D-state
 * thread), and later requests or close() on a session bound to it block, or fault in the
 * kernel (a use-after-free that kills the calling thread), on 6.1 and on 6.12.
 */

/**
 * Default deadline of a request on the addon's threads, in ms: thousands of times the normal
 * latency of a device or CPU request on a thread, so it trips only on a thread stalled for
 * seconds (which, in a crypto driver, means a device that no longer answers), and a stuck
 * request is noticed within 12.5 s (the deadline plus a sweep period).
 */
export const DEFAULT_DEADLINE_MS = 10_000;
/**
 * Time allowed per byte on top of the deadline (1 µs, i.e. a 1 MB/s floor, far below the
 * slowest path): a request of 1 GiB on a slow CPU driver is not stuck.
 */
export const DEADLINE_NS_PER_BYTE = 1000;
/** The environment variable that sets the default deadline (ms; 0 turns deadlines off). */
export const DEADLINE_ENV = 'KCRYPTO_REQUEST_DEADLINE_MS';

const warned = new Set<string>();

/**
 * The default request deadline (ms): `KCRYPTO_REQUEST_DEADLINE_MS` when it is a non-negative
 * integer (0: no deadline), else {@link DEFAULT_DEADLINE_MS} (with a process warning, once,
 * for a value that is not such an integer).
 */
export function requestDeadlineMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[DEADLINE_ENV];
  if (raw === undefined || raw === '') return DEFAULT_DEADLINE_MS;
  if (/^\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw))) return Number(raw);
  if (!warned.has(raw)) {
    warned.add(raw);
    process.emitWarning(
      `${DEADLINE_ENV}=${JSON.stringify(raw)} is not a number of milliseconds; using ${DEFAULT_DEADLINE_MS}`,
      'KCryptoWarning',
    );
  }
  return DEFAULT_DEADLINE_MS;
}

/** The deadline (ms) of a request of `size` bytes on a session whose deadline is `deadlineMs`. */
export function deadlineFor(deadlineMs: number, size: number): number {
  return deadlineMs + (size * DEADLINE_NS_PER_BYTE) / 1e6;
}

/** What a sweep of overdue requests finds (see NativeAddon.overdue). */
export const Overdue = {
  /** A thread has been inside the request past its deadline: the request is stuck. */
  Running: 1,
  /** Still queued past its deadline while every thread of its lane is stuck; removed, never runs. */
  Queued: 2,
} as const;

/** Sweep period bounds (ms): a quarter of the shortest deadline, within these. */
const SWEEP_MIN_MS = 10;
const SWEEP_MAX_MS = 1000;

/**
 * While requests with a deadline are on threads, an unref'd timer asks the addon which of them
 * are overdue, at a quarter of the shortest deadline seen.
 */
export class OverdueSweep {
  private timer: NodeJS.Timeout | undefined;
  private periodMs = Infinity;

  constructor(private readonly sweep: () => void) {}

  /** Sweeps at least as often as a request with this deadline needs. */
  watch(deadlineMs: number): void {
    const period = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, deadlineMs / 4));
    if (this.timer && period >= this.periodMs) return;
    if (this.timer) clearInterval(this.timer);
    this.periodMs = period;
    // Unref'd: requests on threads keep the process alive through the addon, not this timer.
    this.timer = setInterval(() => this.sweep(), period).unref();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.periodMs = Infinity;
  }
}
