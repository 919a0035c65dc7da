/**
 * Measured routing on a mixed workload: AES-128-CBC requests of 64 B and 64 KiB mixed (three
 * small for each large, in a fixed shuffled order), 16 in flight, through a session on the CPU
 * driver, one on the device, one on the software driver, and a routed session (`driver:
 * 'fastest'`) that sends each request to the driver measured fastest for its size.
 */
import { randomBytes } from 'node:crypto';

import { openSession, type CipherSession } from '../src/index.js';
import { router } from '../src/api/framework-instance.js';
import { ROUTE_SIZES } from '../src/framework/route-table.js';

/** One subject of the routing table. */
export interface RoutingRow {
  label: string;
  driver: string;
  /** MB/s over the whole mix (10^6 bytes). */
  mbps?: number;
  requestsPerSecond?: number;
  /** Where the routed session sent the requests, by driver. */
  sent?: Record<string, number>;
  reason?: string;
}

/** What the routed session chose per measured size. */
export interface RoutingResult {
  rows: RoutingRow[];
  routes: { size: number; driver: string; costUs: number }[];
}

const SMALL = 64;
const LARGE = 64 * 1024;
const IN_FLIGHT = 16;

/** The mix: a fixed pseudo-random order, 3 small requests per large one. */
function mix(n: number): number[] {
  // A 32-bit LCG in integer arithmetic (a float product would lose the low bits), high bits used.
  let x = 12345;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 16) % 4 === 0 ? LARGE : SMALL;
  });
}

async function drive(s: CipherSession, seconds: number): Promise<{ mbps: number; rps: number }> {
  const iv = randomBytes(16);
  const bufs = new Map([SMALL, LARGE].map((n) => [n, randomBytes(n)]));
  const order = mix(4096);
  const run = async (untilNs: bigint): Promise<{ bytes: number; n: number }> => {
    let i = 0;
    let bytes = 0;
    let n = 0;
    const lane = async (): Promise<void> => {
      while (process.hrtime.bigint() < untilNs) {
        const size = order[i++ % order.length]!;
        await s.encrypt(bufs.get(size)!, { iv });
        bytes += size;
        n++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    return { bytes, n };
  };
  await run(process.hrtime.bigint() + BigInt(Math.round(seconds * 0.3e9)));
  const t0 = process.hrtime.bigint();
  const { bytes, n } = await run(t0 + BigInt(Math.round(seconds * 1e9)));
  const s2 = Number(process.hrtime.bigint() - t0) / 1e9;
  return { mbps: bytes / s2 / 1e6, rps: n / s2 };
}

/** Runs the routing comparison; `cpu` and `device` are kernel driver names. */
export async function routingBench(seconds: number, cpu = 'cbc-aes-aesni', device = 'virtio_crypto_aes_cbc'): Promise<RoutingResult> {
  const key = randomBytes(16);
  const rows: RoutingRow[] = [];
  let routes: RoutingResult['routes'] = [];
  for (const [label, driver] of [
    ['CPU driver alone', cpu],
    ['device alone', device],
    ['software driver alone', 'software'],
    ['routed (fastest)', 'fastest'],
  ] as const) {
    let s: CipherSession | undefined;
    try {
      // Measured in this run, after the runs above warmed every driver up: a table cached by
      // an earlier run (or measured cold) would say what that run saw.
      if (driver === 'fastest') router.table.clear();
      s = (await openSession({ cipher: 'aes-128-cbc', key }, { driver })) as CipherSession;
      const r = await drive(s, seconds);
      const row: RoutingRow = { label, driver: s.driver, mbps: r.mbps, requestsPerSecond: r.rps };
      if (driver === 'fastest') {
        const info = routedInfo(s);
        if (info) {
          row.sent = info.sent;
          routes = info.routes;
        }
      }
      rows.push(row);
    } catch (err) {
      rows.push({ label, driver, reason: err instanceof Error ? err.message : String(err) });
    } finally {
      await s?.close();
    }
  }
  return { rows, routes };
}

/** The routed session's choices and counters, read through the framework's router. */
function routedInfo(s: CipherSession): { sent: Record<string, number>; routes: RoutingResult['routes'] } | undefined {
  const sid = s.frameworkSid;
  if (sid === undefined) return undefined;
  const routes = router.routes(sid);
  const sent = router.sent(sid);
  if (!routes || !sent) return undefined;
  return { sent, routes: routes.map((r, i) => ({ size: ROUTE_SIZES[i]!, driver: r.driver, costUs: r.cost[i]! / 1000 })) };
}
