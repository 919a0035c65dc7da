/**
 * Measured routing on a mixed workload: AES-128-CBC requests of 64 B and a large size (64 KiB,
 * or 1 MiB) mixed (a number of small ones for each large, in a fixed shuffled order), 16 in
 * flight, through a session on each single path -- in the lab the kernel's CPU driver, the
 * device and the software driver; on the host the software driver and the native OpenSSL
 * driver inline and on threads -- and a routed session (`driver: 'fastest'`) that sends each
 * request to the path measured cheapest for its size. Every session is warmed up first, then
 * they take turns for a number of rounds and each reports its median: a path runs faster once
 * V8 has settled on it, and other load on the machine comes and goes, so one run each in a row
 * would compare moments rather than paths. In the lab, rounds and warm-up last at least 3 s,
 * since short ones vary widely there (README.md, "Notes behind the code").
 */
import { randomBytes } from 'node:crypto';

import { openSession, type CipherSession, type Execution } from '../src/index.js';
import { router } from '../src/api/framework-instance.js';
import { ROUTE_DEPTH, ROUTE_SIZES } from '../src/framework/route-table.js';

/** One subject of the routing table. */
export interface RoutingRow {
  label: string;
  driver: string;
  /** MB/s over the whole mix (10^6 bytes): the median of the rounds. */
  mbps?: number;
  requestsPerSecond?: number;
  /** MB/s of each round. */
  rounds?: number[];
  /** Where the routed session sent the requests, by driver (those the router decided). */
  sent?: Record<string, number>;
  /** The requests that went straight to one path, not through the router (see Router.direct). */
  direct?: { driver: string; upTo: number };
  reason?: string;
}

/** What the routed session chose per measured size. */
export interface RoutingResult {
  /** The mix: bytes of the small and the large requests, and how many are in flight. */
  small: number;
  large: number;
  /** Small requests per large one, by count. */
  smallPerLarge: number;
  inFlight: number;
  rows: RoutingRow[];
  /**
   * Where the idle routed session sends each measured size and the mix's large one, with the
   * cost it counts there (`measured`: false when interpolated or extended past the sizes measured).
   */
  routes: { size: number; driver: string; timeUs: number; cpuUs: number; measured: boolean }[];
  /** Requests in flight when the route table was measured. */
  depth: number;
  rounds: number;
}

/** One session of the comparison: a single path, or the routed session (driver `fastest`). */
export interface RoutingSubject {
  label: string;
  driver: string;
  execution?: Execution;
}

/** How long and against what. */
export interface RoutingOptions {
  subjects: RoutingSubject[];
  /** Counted rounds (default 7). */
  rounds?: number;
  /** Shortest warm-up and round, in seconds (default 3: short ones vary widely in the lab). */
  minSeconds?: number;
}

/** The lab's subjects: the kernel's CPU driver, the device, the software driver, routed. */
export function labRoutingSubjects(cpu = 'cbc-aes-aesni', device = 'virtio_crypto_aes_cbc'): RoutingSubject[] {
  return [
    { label: 'CPU driver alone', driver: cpu },
    { label: 'device alone', driver: device },
    { label: 'software driver alone', driver: 'software' },
    { label: 'routed (fastest)', driver: 'fastest' },
  ];
}

const SMALL = 64;
const IN_FLIGHT = 16;

/** The mix: a fixed pseudo-random order, `smallPerLarge` small requests per large one. */
function mix(n: number, LARGE: number, smallPerLarge: number): number[] {
  // A 32-bit LCG in integer arithmetic (a float product would lose the low bits), high bits used.
  let x = 12345;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 16) % (smallPerLarge + 1) === 0 ? LARGE : SMALL;
  });
}

async function drive(s: CipherSession, seconds: number, large: number, smallPerLarge: number): Promise<{ mbps: number; rps: number }> {
  const iv = randomBytes(16);
  const bufs = new Map([SMALL, large].map((n) => [n, randomBytes(n)]));
  const order = mix(4096, large, smallPerLarge);
  let i = 0;
  let bytes = 0;
  let n = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(Math.round(seconds * 1e9));
  const lane = async (): Promise<void> => {
    while (process.hrtime.bigint() < until) {
      const size = order[i++ % order.length]!;
      await s.encrypt(bufs.get(size)!, { iv });
      bytes += size;
      n++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  return { mbps: bytes / elapsed / 1e6, rps: n / elapsed };
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

/** Runs the routing comparison (by default the lab's subjects). */
export async function routingBench(
  seconds: number,
  large = 64 * 1024,
  smallPerLarge = 3,
  options: RoutingOptions = { subjects: labRoutingSubjects() },
): Promise<RoutingResult> {
  const key = randomBytes(16);
  const round = Math.max(options.minSeconds ?? 3, seconds);
  const rounds = options.rounds ?? 7;
  const subjects = options.subjects.map((x) => ({
    ...x,
    session: undefined as CipherSession | undefined,
    reason: undefined as string | undefined,
    mbps: [] as number[],
    rps: [] as number[],
  }));
  try {
    for (const x of subjects) {
      try {
        // The route table is measured now, after the other sessions' warm-up: a table cached
        // by an earlier run (or measured cold) would say what that run saw.
        if (x.driver === 'fastest') router.table.clear();
        x.session = await openSession(
          { cipher: 'aes-128-cbc', key },
          x.execution ? { driver: x.driver, execution: x.execution } : { driver: x.driver },
        );
        await drive(x.session, round, large, smallPerLarge);
      } catch (err) {
        x.reason = err instanceof Error ? err.message : String(err);
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const x of subjects) {
        if (!x.session) continue;
        try {
          const m = await drive(x.session, round, large, smallPerLarge);
          x.mbps.push(m.mbps);
          x.rps.push(m.rps);
        } catch (err) {
          x.reason = err instanceof Error ? err.message : String(err);
          await x.session.close().catch(() => undefined);
          x.session = undefined;
        }
      }
    }
    const rows: RoutingRow[] = [];
    let routes: RoutingResult['routes'] = [];
    for (const x of subjects) {
      if (x.mbps.length === 0) {
        rows.push({ label: x.label, driver: x.driver, reason: x.reason ?? 'not run' });
        continue;
      }
      const row: RoutingRow = {
        label: x.label,
        driver: `${x.session?.driver ?? x.driver}${x.execution ? ` (execution '${x.execution}')` : ''}`,
        mbps: median(x.mbps),
        requestsPerSecond: median(x.rps),
        rounds: x.mbps,
      };
      if (x.driver === 'fastest' && x.session) {
        const info = routedInfo(x.session, large);
        if (info) {
          row.sent = info.sent;
          if (info.direct) row.direct = info.direct;
          routes = info.routes;
        }
      }
      rows.push(row);
    }
    return { small: SMALL, large, smallPerLarge, inFlight: IN_FLIGHT, rows, routes, depth: ROUTE_DEPTH, rounds };
  } finally {
    for (const x of subjects) await x.session?.close().catch(() => undefined);
  }
}

/** The routed session's choices and counters, read through the framework's router. */
function routedInfo(
  s: CipherSession,
  large: number,
): { sent: Record<string, number>; direct?: RoutingRow['direct']; routes: RoutingResult['routes'] } | undefined {
  const sid = s.frameworkSid;
  if (sid === undefined) return undefined;
  const sent = router.sent(sid);
  if (!sent) return undefined;
  const sizes = [...new Set([...ROUTE_SIZES, large])].sort((a, b) => a - b);
  const routes: RoutingResult['routes'] = [];
  for (const size of sizes) {
    const r = router.routeFor(sid, size);
    if (r) routes.push({ size, driver: r.driver, timeUs: r.time / 1000, cpuUs: r.cpu / 1000, measured: ROUTE_SIZES.includes(size) });
  }
  const d = router.direct(sid);
  const to = d ? router.routeFor(sid, Math.min(d.bytes, large)) : undefined;
  return d && to ? { sent, direct: { driver: to.driver, upTo: d.bytes }, routes } : { sent, routes };
}
