/**
 * Timing loops of the benchmark: serial (one request at a time) and N-in-flight loops for
 * kcrypto, synchronous loops for node:crypto, the C baseline as a child process, and the
 * event-loop delay under load. Every loop reads the clock once per request, as the C
 * baseline does, and starts with an uncounted warm-up (half its time, at least 0.3 s: V8's optimizing compiler
 * is itself emulated in the lab guest and takes that long to settle).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** What one timed loop measured. */
export interface Sample {
  ops: number;
  /** Input bytes processed. */
  bytes: number;
  seconds: number;
}

/** Operations per second. */
export function opsPerSecond(s: Sample): number {
  return s.seconds > 0 ? s.ops / s.seconds : 0;
}

/** Throughput in MB/s (10^6 bytes). */
export function mbPerSecond(s: Sample): number {
  return s.seconds > 0 ? s.bytes / s.seconds / 1e6 : 0;
}

/** Uncounted warm-up before each point: half its time, at least 0.3 s. */
export function warmUpMs(seconds: number): number {
  return Math.max(300, seconds * 500);
}

/** Runs `op` one request at a time for `seconds` (after a warm-up, see warmUpMs). */
export async function serialAsync(op: () => Promise<unknown>, size: number, seconds: number): Promise<Sample> {
  const warmEnd = performance.now() + warmUpMs(seconds);
  for (let i = 0; i < 3 || performance.now() < warmEnd; i++) await op();
  let ops = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let t: number;
  do {
    await op();
    ops++;
    t = performance.now();
  } while (t < end);
  const elapsed = (t - start) / 1000;
  return { ops, bytes: ops * size, seconds: elapsed };
}

/** Runs a synchronous `op` in a loop for `seconds` (after a warm-up, see warmUpMs). */
export function serialSync(op: () => unknown, size: number, seconds: number): Sample {
  const warmEnd = performance.now() + warmUpMs(seconds);
  for (let i = 0; i < 3 || performance.now() < warmEnd; i++) op();
  let ops = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let t: number;
  do {
    op();
    ops++;
    t = performance.now();
  } while (t < end);
  return { ops, bytes: ops * size, seconds: (t - start) / 1000 };
}

/**
 * Keeps `n` requests outstanding for `seconds` after the first `n` are issued: `n` loops, each
 * awaiting its request before issuing the next. Every loop issues at least one request, so `n`
 * really are in flight at the start; requests issued before the deadline are waited for and
 * counted, and the time runs from the first request until the last one completes.
 */
export async function inFlight(op: () => Promise<unknown>, size: number, n: number, seconds: number): Promise<Sample> {
  await inFlightRun(op, size, n, seconds * 100);
  return (await inFlightRun(op, size, n, seconds * 1000)).sample;
}

/** One timed N-in-flight run; `started` is called once all `n` first requests are issued. */
async function inFlightRun(
  op: () => Promise<unknown>,
  size: number,
  n: number,
  ms: number,
  started?: () => void,
): Promise<{ sample: Sample; burstMs: number }> {
  let ops = 0;
  const start = performance.now();
  let end = Infinity;
  const worker = async (): Promise<void> => {
    do {
      await op();
      ops++;
    } while (performance.now() < end);
  };
  // Each worker runs synchronously up to its first await: when Array.from returns, all n
  // first requests have been issued. The run lasts `ms` from then, so a slow burst (1000
  // calls under emulation take most of a second) does not eat the measured window.
  const all = Array.from({ length: n }, worker);
  const burstMs = performance.now() - start;
  end = performance.now() + ms;
  started?.();
  await Promise.all(all);
  return { sample: { ops, bytes: ops * size, seconds: (performance.now() - start) / 1000 }, burstMs };
}

/** Event-loop delay figures, in milliseconds of lateness of a 1 ms timer. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  /** Timer samples taken (about one per millisecond when the loop is free). */
  samples: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Samples the lateness of a 1 ms `setInterval` from start() to stop(). */
class LatenessSampler {
  private readonly late: number[] = [];
  private last = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.late.push(Math.max(0, now - this.last - 1));
      this.last = now;
    }, 1);
  }

  /** Stops; the gap from the last run to now counts as a sample. */
  stop(): LoopDelay {
    if (this.timer) clearInterval(this.timer);
    const late = this.late;
    late.push(Math.max(0, performance.now() - this.last - 1));
    late.sort((a, b) => a - b);
    return { p50: percentile(late, 50), p99: percentile(late, 99), max: late[late.length - 1] ?? 0, samples: late.length };
  }
}

/**
 * Measures how late a 1 ms `setInterval` fires while `load` runs: each sample is the time
 * between two runs of the timer minus the 1 ms period. The gap between the last run and the
 * end of the load is a sample too, so a load that never lets the timer run is not reported
 * as "no delay". (`monitorEventLoopDelay` records the same quantity but misses that last gap.)
 */
export async function loopDelayDuring<T>(load: () => Promise<T>): Promise<{ result: T; delay: LoopDelay }> {
  const sampler = new LatenessSampler();
  sampler.start();
  let result: T;
  try {
    result = await load();
  } catch (err) {
    sampler.stop();
    throw err;
  }
  return { result, delay: sampler.stop() };
}

/** What {@link loopDelayInFlight} measured. */
export interface InFlightDelay {
  sample: Sample;
  /** Timer lateness from the moment all `n` requests were issued until the last completed. */
  delay: LoopDelay;
  /** How long issuing the first `n` requests held the event loop (one synchronous burst). */
  burstMs: number;
}

/**
 * Keeps `n` requests in flight for `seconds` (after a warm-up, see warmUpMs) and measures
 * the event-loop delay meanwhile. The synchronous burst that issues the first `n` requests is
 * reported separately: it is the caller's own loop, not a completion the library delivers.
 */
export async function loopDelayInFlight(op: () => Promise<unknown>, size: number, n: number, seconds: number): Promise<InFlightDelay> {
  await inFlightRun(op, size, n, seconds * 100);
  const sampler = new LatenessSampler();
  let delay: LoopDelay | undefined;
  try {
    const { sample, burstMs } = await inFlightRun(op, size, n, seconds * 1000, () => sampler.start());
    delay = sampler.stop();
    return { sample, delay, burstMs };
  } finally {
    if (!delay) sampler.stop();
  }
}

/** Event-loop delay with nothing running, for reference. */
export async function idleLoopDelay(seconds: number): Promise<LoopDelay> {
  const { delay } = await loopDelayDuring(() => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000)));
  return delay;
}

/**
 * Builds bench/bin/NAME from bench/NAME.c unless an up-to-date build is there. From the host
 * that is a fraction of a second; inside the TCG guest cc takes several seconds, and the binary
 * lands in the guest's memory overlay (lost at power-off) — which is why the lab mode builds on
 * the host first, where the guest then finds it.
 */
export function buildBaseline(
  root: string,
  name: 'afalg-baseline' | 'devcrypto-baseline',
  log: (msg: string) => void = () => undefined,
): { binary: string } | { reason: string } {
  const source = join(root, 'bench', `${name}.c`);
  const binary = join(root, 'bench', 'bin', name);
  if (!existsSync(source)) return { reason: `${source} missing` };
  try {
    if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return { binary };
  } catch {
    // rebuild
  }
  const cc = process.env['CC'] || 'cc';
  try {
    mkdirSync(dirname(binary), { recursive: true });
  } catch (err) {
    return { reason: `cannot create ${dirname(binary)}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const tmp = `${binary}.${process.pid}.tmp`;
  log(`compiling ${name} (${cc} -O2 -Wall -Wextra -Werror -pthread)`);
  const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', tmp, source], { encoding: 'utf8' });
  if (r.error) return { reason: `${cc}: ${r.error.message}` };
  if (r.status !== 0) return { reason: `${cc} failed: ${r.stderr.trim().split('\n').slice(0, 3).join(' ')}` };
  renameSync(tmp, binary);
  return { binary };
}

/** What the C baseline printed. */
export interface BaselineResult extends Sample {
  driver: string;
}

/** What the /dev/crypto C baseline printed. */
export interface DevCryptoBaselineResult extends BaselineResult {
  /** The module's SIOP_FLAG_KERNEL_DRIVER_ONLY for the session. */
  hardware: boolean;
  /** Most requests it had in the module's queue at once (0: serial). */
  mostInFlight: number;
}

interface BaselineLine {
  error?: string;
  ops?: number;
  bytes?: number;
  seconds?: number;
  driver?: string;
  hardware?: boolean;
  most_in_flight?: number;
}

/**
 * Runs a C baseline once and parses its JSON line. Throws an Error whose message is the reason
 * when it cannot run (its own `{"error": ...}` line, or how it failed).
 */
function runC(binary: string, args: string[], seconds: number): BaselineLine & Sample {
  const name = basename(binary);
  const r = spawnSync(binary, args, {
    encoding: 'utf8',
    timeout: Math.max(60_000, seconds * 20_000),
  });
  if (r.error) throw new Error(`${name}: ${r.error.message}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: BaselineLine | undefined;
  try {
    parsed = JSON.parse(line) as BaselineLine;
  } catch {
    parsed = undefined;
  }
  if (parsed?.error) throw new Error(parsed.error);
  if (
    r.status !== 0 ||
    !parsed ||
    typeof parsed.ops !== 'number' ||
    typeof parsed.bytes !== 'number' ||
    typeof parsed.seconds !== 'number'
  ) {
    const why = r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    throw new Error(`${name} failed (${why}): ${(r.stderr || line).trim().slice(0, 200)}`);
  }
  return { ...parsed, ops: parsed.ops, bytes: parsed.bytes, seconds: parsed.seconds };
}

/**
 * Runs the AF_ALG C baseline once (see bench/afalg-baseline.c): serially, or on `threads`
 * threads at once, each with its own op socket (the C counterpart of that many in flight).
 */
export function runBaseline(
  binary: string,
  type: 'skcipher' | 'aead' | 'hash',
  bindName: string,
  keyLength: number,
  size: number,
  seconds: number,
  threads = 1,
): BaselineResult {
  const p = runC(
    binary,
    [type, bindName, String(keyLength), String(size), String(seconds), ...(threads > 1 ? [String(threads)] : [])],
    seconds,
  );
  return { ops: p.ops, bytes: p.bytes, seconds: p.seconds, driver: p.driver ?? '' };
}

/** The /dev/crypto C baseline's algorithms (bench/devcrypto-baseline.c). */
export type DevCryptoBaselineAlg = 'aes-cbc' | 'aes-gcm' | 'sha256';

/**
 * Runs the /dev/crypto C baseline once (see bench/devcrypto-baseline.c): serially, or with
 * `depth` requests kept in the cryptodev-linux module's queue.
 */
export function runDevCryptoBaseline(
  binary: string,
  device: string,
  alg: DevCryptoBaselineAlg,
  keyLength: number,
  size: number,
  seconds: number,
  depth?: number,
): DevCryptoBaselineResult {
  const args = [device, alg, String(keyLength), String(size), String(seconds), ...(depth !== undefined ? [String(depth)] : [])];
  const p = runC(binary, args, seconds);
  return {
    ops: p.ops,
    bytes: p.bytes,
    seconds: p.seconds,
    driver: p.driver ?? '',
    hardware: p.hardware === true,
    mostInFlight: p.most_in_flight ?? 0,
  };
}
