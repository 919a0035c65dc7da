/**
 * The measured cost of each driver per algorithm and request size: what routed sessions
 * (router.ts) choose by. Measured on first use, kept on disk per kernel release, refreshable.
 * Two figures per size, both with ROUTE_DEPTH requests in flight: the time per request (what
 * the driver's server gets through) and the CPU time per request (what it takes from this
 * machine's cores, which every CPU driver shares and a device's requests use a little of).
 */
import * as os from 'node:os';
import * as path from 'node:path';

import { debug, readTableFile, writeTableFile } from './route-cache-file.js';

/**
 * Request sizes measured. A request between two of them is costed by linear interpolation, one
 * below the smallest as the smallest, one past the largest by extending the last segment (see
 * {@link costAt}).
 */
export const ROUTE_SIZES: readonly number[] = [64, 512, 4096, 16384, 65536];

/** Requests in flight while measuring. */
export const ROUTE_DEPTH = 8;

/** Entries older than this are measured again. */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** What one driver costs per request at each of ROUTE_SIZES, in nanoseconds. */
export interface RouteCost {
  /** Elapsed time per request with ROUTE_DEPTH in flight. */
  time: number[];
  /** CPU time of this process per request (user + system, every thread). */
  cpu: number[];
}

interface Entry {
  /** Nanoseconds per request, by size. */
  time: Record<string, number>;
  cpu: Record<string, number>;
  measuredAt: number;
  /** How the requests measured were made (see MEASUREMENT). */
  method?: number;
}

/**
 * The way requests are measured, kept with each entry: an entry measured another way is
 * measured again. 3: a plain cipher's requests write a separate, disposable output buffer, as
 * `openSession()` requests do (in place, a device's requests would pay for a copy the API's
 * never make), and every size is warmed up before any is measured (the smallest sizes would
 * otherwise run on code still being compiled). 4: an engine driver's inline request completes
 * inside dispatch() (no promise per layer), which changed what every engine driver measures.
 */
const MEASUREMENT = 4;

/** Where the table is kept: $KCRYPTO_ROUTE_CACHE, else the user's cache directory. */
export function routeCachePath(): string {
  const env = process.env['KCRYPTO_ROUTE_CACHE'];
  if (env) return env;
  const base = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'kcrypto', 'routes.json');
}

/**
 * The figure of `xs` (one per ROUTE_SIZES entry) for a request of `bytes`: linear between the
 * measured sizes around it (a request costs a fixed part plus a part per byte, and the
 * measured points are far apart: 16 and 64 KiB), the smallest's below it, and past the largest
 * the largest's plus the per-byte slope of the last segment (or, if steeper, of the whole
 * measured range) for every byte beyond. A driver
 * that splits a large request (a device's 64 KiB limit) repeats the same per-byte work for
 * each piece, so the slope carries on; a driver with a high fixed cost and a low cost per byte
 * (a device) wins such requests by more than at the largest size measured.
 */
export function costAt(xs: readonly number[], bytes: number): number {
  const n = ROUTE_SIZES.length;
  if (bytes <= ROUTE_SIZES[0]!) return xs[0]!;
  for (let i = 1; i < n; i++) {
    const hi = ROUTE_SIZES[i]!;
    if (bytes <= hi) {
      const lo = ROUTE_SIZES[i - 1]!;
      return xs[i - 1]! + ((xs[i]! - xs[i - 1]!) * (bytes - lo)) / (hi - lo);
    }
  }
  // The slope over the whole measured range bounds it from below: a 16 KiB run slowed by
  // something else can make 64 KiB look no dearer than 16 KiB, and every 1 MiB request then
  // looks as cheap as a 64 KiB one on the software driver, which takes them all.
  const last = (xs[n - 1]! - xs[n - 2]!) / (ROUTE_SIZES[n - 1]! - ROUTE_SIZES[n - 2]!);
  const whole = (xs[n - 1]! - xs[0]!) / (ROUTE_SIZES[n - 1]! - ROUTE_SIZES[0]!);
  const slope = Math.max(0, last, whole);
  return xs[n - 1]! + slope * (bytes - ROUTE_SIZES[n - 1]!);
}

export class RouteTable {
  private entries = new Map<string, Entry>();
  private loaded = false;

  constructor(private readonly file: string = routeCachePath()) {}

  private static key(driver: string, algorithm: string): string {
    return `${os.release()}|${driver}|${algorithm}`;
  }

  /**
   * Why the file on disk was set aside when it was read (the table is then measured again, and
   * the next write replaces the file); undefined when it was used or there was none.
   */
  get rejected(): string | undefined {
    this.load();
    return this.rejection;
  }

  private rejection: string | undefined;

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const r = readTableFile(this.file, ROUTE_SIZES);
    if ('rejected' in r) {
      if (r.rejected !== 'missing') {
        this.rejection = r.rejected;
        debug('route table %s set aside: %s', this.file, r.rejected);
      }
      return;
    }
    // An entry of an older format (no CPU figures) or measured another way is left out, so measured again.
    for (const [k, v] of Object.entries(r.data)) if (v.cpu && v.method === MEASUREMENT) this.entries.set(k, v);
  }

  private save(): void {
    try {
      writeTableFile(this.file, Object.fromEntries(this.entries));
    } catch (err) {
      // A read-only home: the table lives for this process only.
      debug('route table %s not written: %s', this.file, (err as Error).message);
    }
  }

  /** What `driver` costs for `algorithm` at each size, or undefined when unmeasured or stale. */
  get(driver: string, algorithm: string): RouteCost | undefined {
    this.load();
    const e = this.entries.get(RouteTable.key(driver, algorithm));
    if (!e || Date.now() - e.measuredAt > MAX_AGE_MS) return undefined;
    const time = ROUTE_SIZES.map((s) => e.time[String(s)]);
    const cpu = ROUTE_SIZES.map((s) => e.cpu[String(s)]);
    const valid = (xs: (number | undefined)[]): xs is number[] => xs.every((c) => typeof c === 'number' && c >= 0);
    return valid(time) && valid(cpu) ? { time, cpu } : undefined;
  }

  set(driver: string, algorithm: string, cost: RouteCost): void {
    this.load();
    const bySize = (xs: readonly number[]): Record<string, number> => Object.fromEntries(ROUTE_SIZES.map((s, i) => [String(s), xs[i]!]));
    this.entries.set(RouteTable.key(driver, algorithm), {
      time: bySize(cost.time),
      cpu: bySize(cost.cpu),
      measuredAt: Date.now(),
      method: MEASUREMENT,
    });
    this.save();
  }

  /** Forgets every measurement (they are taken again on next use). */
  clear(): void {
    this.load();
    this.entries.clear();
    this.save();
  }

  /** The whole table: driver and algorithm → ns per request by size (elapsed and CPU). */
  snapshot(): {
    kernel: string;
    driver: string;
    algorithm: string;
    time: Record<string, number>;
    cpu: Record<string, number>;
    measuredAt: string;
  }[] {
    this.load();
    return [...this.entries].map(([k, v]) => {
      const [kernel, driver, algorithm] = k.split('|') as [string, string, string];
      return { kernel, driver, algorithm, time: v.time, cpu: v.cpu, measuredAt: new Date(v.measuredAt).toISOString() };
    });
  }
}
