/**
 * Routed sessions (`route: 'fastest'`): the chain is opened on every driver the crid allows
 * that takes it, and each request goes to the driver that serves its size at the least cost —
 * small requests to a CPU driver, large ones to a device, for instance. The framework asks
 * route() in dispatch() and sends the consumer's request itself there; settle() hears when it
 * is done (see RouterImpl in framework.ts). The costs come from the
 * route table (route-table.ts), measured on first use with ROUTE_DEPTH requests in flight: per
 * request, the time its driver takes and the CPU time it takes from this machine. A request's
 * cost on a driver is the larger of its time, with the wait once the driver's server holds more
 * than ROUTE_DEPTH, and its CPU time over the cores the routed requests already in flight leave
 * free (a device that spends little CPU is bound by what it gets through itself; a driver whose
 * requests keep the cores busy is bound by them, whatever its own speed; see costOf()). Drivers
 * that are not hardware count as one server; each hardware driver is a server of its own; a
 * synchronous driver has every routed request in flight ahead of it (see queueOf()). Hash
 * streams stay on one driver (the cheapest for large requests): a running state cannot move.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';

import { kindOf } from './algorithms.js';
import * as C from './constants.js';
import type { Framework, SessionOptions } from './framework.js';
import { costAt, RouteTable, ROUTE_DEPTH, ROUTE_SIZES, type RouteCost } from './route-table.js';
import { CryptoDesc, CryptoIni, CryptoOp } from './structures.js';

/** @internal exported for tests */
export interface Alternative {
  driver: number;
  name: string;
  sid: bigint;
  /** Largest request its session takes (Infinity: any). */
  maxRequest: number;
  /** Its hash session keeps no running state (SessionInfo.stateless): no stream goes there. */
  stateless: boolean;
  /** ns per request at each ROUTE_SIZES entry. */
  cost: RouteCost;
  /** The server it computes on: a hardware driver's own id, or -1 for the CPU every other shares. */
  server: number;
  /** A synchronous driver (CRYPTOCAP_F_SYNC): it computes on the thread that runs the framework. */
  sync: boolean;
  /**
   * Its session moved (its driver went away) to a driver another alternative is already on: it
   * is no longer chosen, and that other alternative serves what it did.
   */
  gone?: boolean;
}

/** @internal exported for tests */
export interface Routed {
  alts: Alternative[];
  /** Every alternative's index. */
  all: number[];
  /** Where hash streams (CRD_F_KC_UPDATE/FINAL) and copies go. */
  stream: number;
  /** Requests sent to each alternative (for tests and stats). */
  sent: number[];
  /** Requests each alternative holds now. */
  inFlight: number[];
  /** Requests every alternative holds now, together. */
  total: number;
  /** Each alternative's server, as an index into `held`. */
  slot: number[];
  /** Requests each server holds now, from every alternative on it. */
  held: number[];
  /**
   * Each alternative's figures at a request size seen: time, CPU time and cores, three numbers
   * per alternative (see priced()). Requests come in few sizes, so each size's figures are
   * interpolated once rather than for every alternative on every request.
   */
  prices: Map<number, Float64Array>;
  /** What the chain is measured as in the route table (see algorithmKey()). */
  key: string;
}

/**
 * The requests ahead of one sent to alternative `i` now: those its server holds, from every
 * alternative on it. A synchronous driver computes on the thread that starts and completes
 * every routed request, so while it runs no other request starts or completes: every request
 * in flight, on any server, waits for it. Counting only its own server's, a 1 MiB request to
 * the software driver (20 ms of that thread in the lab) held back the card's completions, the
 * card still looked full at the next decision, and the software driver took the next one too:
 * twice in seven lab runs the card got almost none.
 */
/** @internal exported for tests */
export function queueOf(s: Routed, i: number): number {
  return s.alts[i]!.sync ? s.total : s.held[s.slot[i]!]!;
}

/** Counts `n` more (or, negative, fewer) requests held by alternative `i`. */
/** @internal exported for tests */
export function hold(s: Routed, i: number, n: number): void {
  s.inFlight[i]! += n;
  s.held[s.slot[i]!]! += n;
  s.total += n;
}

/**
 * What a request of `bytes` costs on alternative `a` when its server holds `queued` and the
 * routed requests in flight keep `busyCores` of the machine's cores busy, from the figures
 * measured (interpolated between the measured sizes, see costAt): the larger of what its server
 * gets through -- its time, plus one request's time for each request ahead of it past the depth
 * it was measured at -- and what the cores get through, its CPU time over the cores left to it.
 * The larger, not the sum: a device whose queue is long because the cores are busy would
 * otherwise be charged twice for them. A synchronous driver never holds a request when asked,
 * which is why the queue is the server's: cryptosoft is as busy as the CPU kernel driver beside
 * it. The cores are shared by every server: a device's requests take CPU time too (submission,
 * copies, completion), so while they keep the cores busy a CPU driver is no spare capacity, and
 * a request sent there slows everything else down.
 */
function costOf(a: Alternative, bytes: number, queued: number, busyCores: number): number {
  return costFrom(costAt(a.cost.time, bytes), costAt(a.cost.cpu, bytes), queued, busyCores);
}

/** costOf() from the figures at the request's size: its `time` and `cpu` per request. */
function costFrom(time: number, cpu: number, queued: number, busyCores: number): number {
  const free = Math.max(CORES * MIN_FREE_SHARE, CORES - busyCores);
  return Math.max(time * (1 + Math.max(0, queued + 1 - ROUTE_DEPTH)), cpu / free);
}

/** The cores a request's CPU time is spread over (a CPU kernel driver runs on several threads). */
const CORES = Math.max(1, availableParallelism());

/** However busy the cores look, a request is costed as if it still got this share of them. */
const MIN_FREE_SHARE = 1 / 16;

/**
 * The cores a request on an alternative keeps busy while in flight, from its `time` and `cpu`
 * per request: it took `cpu` of CPU time over its latency, which with ROUTE_DEPTH in flight is
 * ROUTE_DEPTH times its `time`.
 */
function coresFrom(time: number, cpu: number): number {
  return cpu / Math.max(1, time * ROUTE_DEPTH);
}

/**
 * The cheapest of `candidates` (alternative indices) for a request whose longest descriptor
 * covers `size` bytes, among those that take its `bytes` of buffer, each with `queued(i)`
 * requests on its server and `busyCores` taken by the routed requests in flight (the first
 * candidate when none takes it).
 */
/** @internal exported for tests */
export function cheapest(alts: readonly Alternative[], candidates: readonly number[], size: number, bytes: number, queued: (i: number) => number, busyCores = 0): number {
  let best = candidates[0]!;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const i of candidates) {
    if (alts[i]!.gone || alts[i]!.maxRequest < bytes) continue;
    const c = costOf(alts[i]!, size, queued(i), busyCores);
    if (c < bestCost) {
      best = i;
      bestCost = c;
    }
  }
  return best;
}

/** Sizes whose figures a routed session keeps (see Routed.prices); past it, they start over. */
const PRICED_SIZES = 64;

/** Each alternative's time, CPU time and cores (see coresFrom) at `size`, computed once per size. */
function priced(s: Routed, size: number): Float64Array {
  let p = s.prices.get(size);
  if (p) return p;
  if (s.prices.size >= PRICED_SIZES) s.prices.clear();
  p = new Float64Array(3 * s.alts.length);
  for (let i = 0; i < s.alts.length; i++) {
    const a = s.alts[i]!;
    const time = costAt(a.cost.time, size);
    const cpu = costAt(a.cost.cpu, size);
    p[3 * i] = time;
    p[3 * i + 1] = cpu;
    p[3 * i + 2] = coresFrom(time, cpu);
  }
  s.prices.set(size, p);
  return p;
}

/**
 * cheapest() over every alternative of `s`, with its servers' queues now: what each request
 * routed runs, so it reads the figures at its size once computed, and counts kept as requests
 * come and go rather than summed per request.
 */
/** @internal exported for tests */
export function pick(s: Routed, size: number, bytes: number, busyCores: number): number {
  const p = priced(s, size);
  let best = 0;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let i = 0; i < s.alts.length; i++) {
    if (s.alts[i]!.gone || s.alts[i]!.maxRequest < bytes) continue;
    const c = costFrom(p[3 * i]!, p[3 * i + 1]!, queueOf(s, i), busyCores);
    if (c < bestCost) {
      best = i;
      bestCost = c;
    }
  }
  return best;
}

/** The cores a request of `size` on alternative `i` of `s` keeps busy while in flight. */
function coresAt(s: Routed, i: number, size: number): number {
  return priced(s, size)[3 * i + 2]!;
}

/** A routed session over `alts`, nothing sent yet. */
/** @internal exported for tests */
export function routed(alts: Alternative[], stream: number, key = ''): Routed {
  const s: Routed = { alts, all: allOf(alts), stream, sent: alts.map(() => 0), inFlight: alts.map(() => 0), total: 0, slot: [], held: [], prices: new Map(), key };
  reslot(s);
  return s;
}

/** Counts each server's requests afresh from its alternatives' (after one changed server). */
function reslot(s: Routed): void {
  const servers = [...new Set(s.alts.map((a) => a.server))];
  s.slot = s.alts.map((a) => servers.indexOf(a.server));
  s.held = servers.map(() => 0);
  s.alts.forEach((_, i) => (s.held[s.slot[i]!]! += s.inFlight[i]!));
}

/** Every alternative's index. */
function allOf(alts: readonly Alternative[]): number[] {
  return alts.map((_, i) => i);
}

/** What a chain is measured as: its algorithms and key lengths. */
function algorithmKey(cri: CryptoIni): string {
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
      Object.assign(d, { skip: 0, len: size - (size % block), flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT, iv: lane.iv });
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
async function timedRun(fw: Framework, sid: bigint, cri: CryptoIni, size: number, requests: number, ms: number): Promise<{ time: number; cpu: number }> {
  const lanes = Array.from({ length: ROUTE_DEPTH }, () => ({ buf: randomBytes(size + extraBytes(cri)), out: Buffer.alloc(size + extraBytes(cri)), iv: randomBytes(16) }));
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
async function measure(fw: Framework, subjects: { sid: bigint; cost: RouteCost }[], cri: CryptoIni, rounds = 3, minRequests = 16, minMs = 40): Promise<void> {
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

/** Registers the router on `fw` with its route table; returns its driver id. */
export function registerRouter(
  fw: Framework,
  table: RouteTable = new RouteTable(),
  name = 'route0',
): {
  id: number;
  table: RouteTable;
  routes(sid: bigint): { driver: string; cost: RouteCost }[] | undefined;
  /** Where an idle routed session sends a request of `bytes`, and what it costs there (ns). */
  routeFor(sid: bigint, bytes: number): { driver: string; time: number; cpu: number } | undefined;
  sent(sid: bigint): Record<string, number> | undefined;
} {
  const id = fw.getDriverId(C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE, name);
  const sessions = new Map<number, Routed>();
  let nextLid = 0;
  // The cores the requests of every routed session in flight keep busy (see coresFrom).
  let busyCores = 0;
  const EAGAIN = fw.errno('EAGAIN');
  const lidOf = (sid: bigint): number => Number(sid & 0xffffffffn);

  /** What an alternative on `driver` with session `sid` is, apart from its costs. */
  const describe = (driver: number, sid: bigint): Omit<Alternative, 'sid' | 'cost'> => {
    const flags = fw.driverFlags(driver) ?? 0;
    const info = fw.sessionInfo(sid);
    return { driver, name: fw.driverName(driver) ?? String(driver), server: flags & C.CRYPTOCAP_F_HARDWARE ? driver : -1, sync: (flags & C.CRYPTOCAP_F_SYNC) !== 0, maxRequest: info?.maxRequestBytes ?? Number.POSITIVE_INFINITY, stateless: info?.stateless === true };
  };

  /**
   * Alternative `i` of `s` now has session `sid`, where its session moved when its driver went
   * away. The new session is on another driver, so the alternative takes that driver's costs:
   * kept as the card's, a card's alternative moved to the software driver took every large
   * request onto the JavaScript thread. If another alternative is on that driver already, this
   * one stops being chosen instead. A driver not in the table yet keeps the old costs until the
   * session is opened again (measuring needs requests of its own).
   */
  const follow = (s: Routed, i: number, sid: bigint): void => {
    const a = s.alts[i]!;
    a.sid = sid;
    const driver = fw.sessionInfo(sid)?.driverId;
    if (driver === undefined || driver === a.driver) return;
    const twin = s.alts.findIndex((b, j) => j !== i && !b.gone && b.driver === driver);
    if (twin >= 0) {
      a.gone = true;
      if (s.stream === i) s.stream = twin;
    } else {
      const cost = table.get(fw.driverName(driver) ?? '', s.key) ?? a.cost;
      Object.assign(a, describe(driver, sid), { cost });
    }
    reslot(s);
    s.prices.clear();
  };

  const impl = {
    async newSession(_arg: unknown, cri: CryptoIni, options: SessionOptions = {}): Promise<number> {
      const { route: _route, ...sub } = options;
      const alts: Alternative[] = [];
      const key = algorithmKey(cri);
      const unmeasured: Alternative[] = [];
      for (const driver of fw.candidates(cri, C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE)) {
        let sid: bigint;
        try {
          sid = await fw.newSession(cri, driver, sub);
        } catch {
          continue;
        }
        const cached = table.get(fw.driverName(driver)!, key);
        const alt = { ...describe(driver, sid), sid, cost: cached ?? { time: [], cpu: [] } };
        alts.push(alt);
        if (!cached) unmeasured.push(alt);
      }
      if (alts.length === 0) throw fw.error('EOPNOTSUPP', 'no driver takes this session');
      if (unmeasured.length > 0) {
        await measure(fw, unmeasured, cri);
        for (const a of unmeasured) table.set(a.name, key, a.cost);
      }
      // Streams go to the cheapest for large requests among the sessions that keep a state.
      const keeping = allOf(alts).filter((i) => !alts[i]!.stateless);
      const largest = ROUTE_SIZES[ROUTE_SIZES.length - 1]!;
      const stream = cheapest(alts, keeping.length > 0 ? keeping : allOf(alts), largest, 0, () => 0);
      const lid = nextLid++;
      sessions.set(lid, routed(alts, stream, key));
      return lid;
    },
    async freeSession(_arg: unknown, sid: bigint): Promise<void> {
      const s = sessions.get(lidOf(sid));
      sessions.delete(lidOf(sid));
      for (const a of s?.alts ?? []) await fw.freeSession(a.sid);
    },
    route(_arg: unknown, crp: CryptoOp): bigint {
      const s = sessions.get(lidOf(crp.sid));
      // The framework only routes requests to this router's sessions.
      if (!s) throw fw.error('EINVAL', `no routed session ${crp.sid}`);
      let streaming = false;
      let size = 0;
      for (let d = crp.desc; d; d = d.next) {
        if (d.flags & (C.CRD_F_KC_UPDATE | C.CRD_F_KC_FINAL)) streaming = true;
        size = Math.max(size, d.len);
      }
      const bytes = Array.isArray(crp.buf) ? crp.buf.reduce((n, x) => n + x.length, 0) : crp.buf.length;
      const index = streaming ? s.stream : pick(s, size, bytes, busyCores);
      s.sent[index]!++;
      hold(s, index, 1);
      const cores = coresAt(s, index, size);
      busyCores += cores;
      crp.kcRouteIndex = index;
      crp.kcRouteLoad = cores;
      return s.alts[index]!.sid;
    },
    settle(_arg: unknown, crp: CryptoOp): void {
      const s = crp.kcRoutedFrom === null ? undefined : sessions.get(lidOf(crp.kcRoutedFrom));
      if (!s) return;
      hold(s, crp.kcRouteIndex, -1);
      busyCores = Math.max(0, busyCores - crp.kcRouteLoad);
      if (crp.etype === EAGAIN) {
        // That alternative's driver went away and its session moved: follow it. A disposable
        // output buffer is replaced, for the consumer too, as the consumer would on its own
        // resubmit (the old one may still be written by the driver that went away).
        follow(s, crp.kcRouteIndex, crp.sid);
        if (crp.obuf && crp.flags & C.CRYPTO_F_KC_OBUF_DISPOSABLE) crp.obuf = Buffer.allocUnsafe(crp.obuf.length);
      }
    },
    describeSession(_arg: unknown, sid: bigint) {
      const s = sessions.get(lidOf(sid));
      const big = s ? s.alts[s.stream]! : undefined;
      return big ? (fw.sessionInfo(big.sid) ?? {}) : {};
    },
    async copySession(_arg: unknown, sid: bigint): Promise<number> {
      const s = sessions.get(lidOf(sid));
      if (!s) throw fw.error('EINVAL', `no routed session ${sid}`);
      const streamAlt = s.alts[s.stream]!;
      const copy = await fw.copySession(streamAlt.sid);
      const lid = nextLid++;
      sessions.set(lid, routed([{ ...streamAlt, sid: copy }], 0, s.key));
      return lid;
    },
  };
  fw.attachRouter(id, impl);
  return {
    id,
    table,
    routes: (sid) => {
      const s = sessions.get(lidOf(sid));
      if (!s) return undefined;
      return ROUTE_SIZES.map((size) => {
        const a = s.alts[cheapest(s.alts, allOf(s.alts), size, size, () => 0)]!;
        return { driver: a.name, cost: a.cost };
      });
    },
    routeFor: (sid, bytes) => {
      const s = sessions.get(lidOf(sid));
      if (!s) return undefined;
      const a = s.alts[cheapest(s.alts, allOf(s.alts), bytes, bytes, () => 0)]!;
      return { driver: a.name, time: costAt(a.cost.time, bytes), cpu: costAt(a.cost.cpu, bytes) };
    },
    sent: (sid) => {
      const s = sessions.get(lidOf(sid));
      if (!s) return undefined;
      // Two alternatives share a name once one has followed its session to the other's driver.
      const sent: Record<string, number> = {};
      s.alts.forEach((a, i) => (sent[a.name] = (sent[a.name] ?? 0) + s.sent[i]!));
      return sent;
    },
  };
}
