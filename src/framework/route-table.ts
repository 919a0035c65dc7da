/**
 * The measured cost of each driver per algorithm and request size: what routed sessions
 * (router.ts) choose by. Measured on first use, kept on disk per kernel release, refreshable.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Request sizes measured; a request is costed at the nearest one (log scale). */
export const ROUTE_SIZES: readonly number[] = [64, 512, 4096, 16384, 65536];

/** Entries older than this are measured again. */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

interface Entry {
  /** Nanoseconds per request, by size, with several requests in flight. */
  cost: Record<string, number>;
  measuredAt: number;
}

/** Where the table is kept: $KCRYPTO_ROUTE_CACHE, else the user's cache directory. */
export function routeCachePath(): string {
  const env = process.env['KCRYPTO_ROUTE_CACHE'];
  if (env) return env;
  const base = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'kcrypto', 'routes.json');
}

/** The index of the measured size nearest `bytes`. */
export function sizeBucket(bytes: number): number {
  let best = 0;
  for (let i = 1; i < ROUTE_SIZES.length; i++) {
    if (Math.abs(Math.log2(Math.max(bytes, 1) / ROUTE_SIZES[i]!)) < Math.abs(Math.log2(Math.max(bytes, 1) / ROUTE_SIZES[best]!))) best = i;
  }
  return best;
}

export class RouteTable {
  private entries = new Map<string, Entry>();
  private loaded = false;

  constructor(private readonly file: string = routeCachePath()) {}

  private static key(driver: string, algorithm: string): string {
    return `${os.release()}|${driver}|${algorithm}`;
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const data = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, Entry>;
      for (const [k, v] of Object.entries(data)) if (v && typeof v.measuredAt === 'number' && v.cost) this.entries.set(k, v);
    } catch {
      // No table yet, or an unreadable one: measure again.
    }
  }

  private save(): void {
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.entries), null, 1));
      fs.renameSync(tmp, this.file);
    } catch {
      // A read-only home: the table lives for this process only.
    }
  }

  /** Cost in ns per request of `driver` for `algorithm` at each size, or undefined when unmeasured or stale. */
  get(driver: string, algorithm: string): number[] | undefined {
    this.load();
    const e = this.entries.get(RouteTable.key(driver, algorithm));
    if (!e || Date.now() - e.measuredAt > MAX_AGE_MS) return undefined;
    const costs = ROUTE_SIZES.map((s) => e.cost[String(s)]);
    return costs.every((c): c is number => typeof c === 'number' && c > 0) ? costs : undefined;
  }

  set(driver: string, algorithm: string, costs: readonly number[]): void {
    this.load();
    this.entries.set(RouteTable.key(driver, algorithm), { cost: Object.fromEntries(ROUTE_SIZES.map((s, i) => [String(s), costs[i]!])), measuredAt: Date.now() });
    this.save();
  }

  /** Forgets every measurement (they are taken again on next use). */
  clear(): void {
    this.load();
    this.entries.clear();
    this.save();
  }

  /** The whole table: driver and algorithm → ns per request by size. */
  snapshot(): { kernel: string; driver: string; algorithm: string; cost: Record<string, number>; measuredAt: string }[] {
    this.load();
    return [...this.entries].map(([k, v]) => {
      const [kernel, driver, algorithm] = k.split('|') as [string, string, string];
      return { kernel, driver, algorithm, cost: v.cost, measuredAt: new Date(v.measuredAt).toISOString() };
    });
  }
}
