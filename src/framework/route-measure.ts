/**
 * Measuring what routed sessions choose by (route-table.ts): each driver's time and CPU time
 * per request at each of ROUTE_SIZES, with ROUTE_DEPTH requests in flight, through the
 * framework as a consumer's requests go.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { kindOf } from './algorithms.js';
import * as C from './constants.js';
import type { Framework } from './framework.js';
import { ROUTE_DEPTH, ROUTE_SIZES, type RouteCost } from './route-table.js';
import { CryptoDesc, type CryptoIni, CryptoOp } from './structures.js';

/** What a chain is measured as: its algorithms and key lengths. */
export function algorithmKey(cri: CryptoIni): string {
  const parts: string[] = [];
  for (let c: CryptoIni | null = cri; c; c = c.next) parts.push(`${c.alg}/${c.klen}${c.mlen ? `/${c.mlen}` : ''}`);
  return parts.join('+');
}

/** What a lane of timedRun() reuses for every request it makes: data, output and an IV. */
interface LaneBuffers {
  buf: Buffer;
  out: Buffer;
  iv: Buffer;
}

/** The extra bytes a chain's request needs past its payload (room for a MAC). */
function extraBytes(cri: CryptoIni): number {
  for (let c: CryptoIni | null = cri; c; c = c.next) {
    const k = kindOf(c.alg)?.kind;
    if (k === 'aead-auth' || k === 'auth') return 64;
  }
  return 0;
}

/**
 * A request of `size` bytes of payload that exercises the chain as a consumer would, over the
 * lane's own buffer: making the data per request (randomBytes of 64 KiB costs as much as the
 * request itself in an emulated guest) would add the same JavaScript work to every driver's
 * figures and hide the differences between them.
 */
function sampleRequest(cri: CryptoIni, size: number, lane: LaneBuffers): CryptoOp {
  const crp = new CryptoOp();
  const descs: CryptoDesc[] = [];
  const inis: CryptoIni[] = [];
  for (let c: CryptoIni | null = cri; c; c = c.next) inis.push(c);
  for (const c of inis) {
    const k = kindOf(c.alg);
    const d = new CryptoDesc();
    d.alg = c.alg;
    if (k?.kind === 'cipher' || k?.kind === 'aead') {
      const block = k.kind === 'cipher' ? k.block : 1;
      Object.assign(d, {
        skip: 0,
        len: size - (size % block),
        flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
        iv: lane.iv,
      });
    } else if (k?.kind === 'aead-auth') {
      Object.assign(d, { skip: 0, len: 0, inject: size });
    } else if (k?.kind === 'auth') {
      Object.assign(d, { skip: 0, len: size, inject: size });
    } else Object.assign(d, { skip: 0, len: size });
    descs.push(d);
  }
  descs.forEach((d, i) => (d.next = descs[i + 1] ?? null));
  crp.desc = descs[0] ?? null;
  crp.buf = lane.buf;
  // Completion as the API takes it: in the driver's done(), not a later turn.
  crp.flags = C.CRYPTO_F_CBIMM;
  // A plain cipher writes a separate output that nobody reads after a failure, as the API's
  // requests do: in place, a device's request would pay for a copy of the buffer that those
  // never make (a run stops at its first failure, so the lane's buffer can be reused).
  if (inis.length === 1 && kindOf(inis[0]!.alg)?.kind === 'cipher') {
    crp.obuf = lane.out.subarray(0, lane.buf.length);
    crp.flags |= C.CRYPTO_F_KC_OBUF_DISPOSABLE;
  }
  return crp;
}

/** One timed run: `depth` requests in flight until `requests` are done and `ms` have passed. */
async function timedRun(
  fw: Framework,
  sid: bigint,
  cri: CryptoIni,
  size: number,
  requests: number,
  ms: number,
): Promise<{ time: number; cpu: number }> {
  const lanes = Array.from({ length: ROUTE_DEPTH }, () => ({
    buf: randomBytes(size + extraBytes(cri)),
    out: Buffer.alloc(size + extraBytes(cri)),
    iv: randomBytes(16),
  }));
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(Math.round(ms * 1e6));
  const c0 = process.cpuUsage();
  let n = 0;
  let failed = false;
  const lane = async (buffers: LaneBuffers): Promise<void> => {
    while (!failed && (n < requests || process.hrtime.bigint() < until)) {
      n++;
      const etype = await new Promise<number>((resolve) => {
        const crp = sampleRequest(cri, size, buffers);
        crp.sid = sid;
        crp.callback = (r) => resolve(r.etype);
        fw.dispatch(crp);
      });
      if (etype !== 0) failed = true;
    }
  };
  await Promise.all(lanes.map(lane));
  if (failed) return { time: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY };
  const c = process.cpuUsage(c0);
  return { time: Number(process.hrtime.bigint() - t0) / n, cpu: ((c.user + c.system) * 1000) / n };
}

/**
 * Measures the alternatives at each size with ROUTE_DEPTH requests in flight: first a warm-up
 * of every alternative at every size (the first requests run cold code, and in an emulated
 * guest the compiler itself is slow), then ROUNDS short runs of each in turn, keeping each
 * figure's least. The warm-ups all come first because the code a request runs is mostly the
 * same at every size: measured right after its own warm-up, the smallest size (measured first)
 * still ran half-compiled code, and its figures came out twice what the same requests cost a
 * second later. Other work on the machine only ever adds to a run, so the least is the nearest
 * to the driver's own cost, and taking turns spreads what the machine does meanwhile over
 * every driver alike.
 */
export async function measure(
  fw: Framework,
  subjects: { sid: bigint; cost: RouteCost }[],
  cri: CryptoIni,
  rounds = 3,
  minRequests = 16,
  minMs = 40,
): Promise<void> {
  for (const [b, size] of ROUTE_SIZES.entries()) {
    for (const x of subjects) {
      const warm = await timedRun(fw, x.sid, cri, size, ROUTE_DEPTH, minMs / 2);
      x.cost.time[b] = warm.time;
      x.cost.cpu[b] = warm.cpu;
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const [b, size] of ROUTE_SIZES.entries()) {
      for (const x of subjects) {
        if (!Number.isFinite(x.cost.time[b]!)) continue;
        const m = await timedRun(fw, x.sid, cri, size, minRequests, minMs);
        x.cost.time[b] = r === 0 ? m.time : Math.min(x.cost.time[b]!, m.time);
        x.cost.cpu[b] = r === 0 ? m.cpu : Math.min(x.cost.cpu[b]!, m.cpu);
      }
    }
  }
}
