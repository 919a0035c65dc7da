/**
 * The cost arithmetic of routed sessions (router.ts): what a request of a given size costs on
 * each alternative, from the figures measured (route-table.ts), the requests each server holds
 * and the cores the routed requests in flight keep busy, and the cheapest alternative by it.
 * A request's cost on an alternative is the larger of its time, with the wait once its server
 * holds more than ROUTE_DEPTH, and its CPU time over the cores left free (a device that spends
 * little CPU is bound by what it gets through itself; a driver whose requests keep the cores
 * busy is bound by them, whatever its own speed; see costOf()). Drivers that are not hardware
 * count as one server; each hardware driver is a server of its own; a synchronous driver has
 * every routed request in flight ahead of it (see queueOf()).
 */
import { availableParallelism } from 'node:os';

import { costAt, ROUTE_DEPTH, ROUTE_SIZES, type RouteCost } from './route-table.js';

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
 * in flight, on any server, waits for it. Counting only its own server's, a large request to
 * the software driver holds back a card's completions, the card still looks full at the next
 * decision, and the software driver takes the next one too.
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
 * The index among `candidates` of the least `cost`, skipping alternatives gone or too small
 * for a request of `bytes` (the first candidate when none takes it).
 */
function least(alts: readonly Alternative[], candidates: readonly number[], bytes: number, cost: (i: number) => number): number {
  let best = candidates[0]!;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const i of candidates) {
    if (alts[i]!.gone || alts[i]!.maxRequest < bytes) continue;
    const c = cost(i);
    if (c < bestCost) {
      best = i;
      bestCost = c;
    }
  }
  return best;
}

/**
 * The cheapest of `candidates` (alternative indices) for a request whose longest descriptor
 * covers `size` bytes, among those that take its `bytes` of buffer, each with `queued(i)`
 * requests on its server and `busyCores` taken by the routed requests in flight (the first
 * candidate when none takes it).
 */
/** @internal exported for tests */
export function cheapest(
  alts: readonly Alternative[],
  candidates: readonly number[],
  size: number,
  bytes: number,
  queued: (i: number) => number,
  busyCores = 0,
): number {
  return least(alts, candidates, bytes, (i) => costOf(alts[i]!, size, queued(i), busyCores));
}

/** Sizes whose figures a routed session keeps (see Routed.prices); past it, they start over. */
const PRICED_SIZES = 64;

/**
 * Each alternative's time, CPU time and cores (see coresFrom) at `size`, three numbers per
 * alternative, computed once per size.
 */
export function priced(s: Routed, size: number): Float64Array {
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
 * cheapest() over every alternative of `s` for a request of `bytes` whose figures are `prices`
 * (see priced()), with its servers' queues now: what each request routed runs, so it reads the
 * figures at its size once computed, and counts kept as requests come and go rather than summed
 * per request.
 */
/** @internal exported for tests */
export function pick(s: Routed, prices: Float64Array, bytes: number, busyCores: number): number {
  return least(s.alts, s.all, bytes, (i) => costFrom(prices[3 * i]!, prices[3 * i + 1]!, queueOf(s, i), busyCores));
}

/** A routed session over `alts`, nothing sent yet. */
/** @internal exported for tests */
export function routed(alts: Alternative[], stream: number, key = ''): Routed {
  const s: Routed = {
    alts,
    all: allOf(alts),
    stream,
    sent: alts.map(() => 0),
    inFlight: alts.map(() => 0),
    total: 0,
    slot: [],
    held: [],
    prices: new Map(),
    key,
  };
  reslot(s);
  return s;
}

/** Counts each server's requests afresh from its alternatives' (after one changed server). */
export function reslot(s: Routed): void {
  const servers = [...new Set(s.alts.map((a) => a.server))];
  s.slot = s.alts.map((a) => servers.indexOf(a.server));
  s.held = servers.map(() => 0);
  s.alts.forEach((_, i) => (s.held[s.slot[i]!]! += s.inFlight[i]!));
}

/** Every alternative's index. */
export function allOf(alts: readonly Alternative[]): number[] {
  return alts.map((_, i) => i);
}

/** Far past the measured sizes, where each figure follows its extrapolated slope (see costAt). */
const FAR = 2 ** 40;

/**
 * The alternative every request of `s` up to `bytes` goes to whatever the load, with `bytes`
 * as large as that holds (0: none; Infinity: every size). All alternatives must compute on the
 * CPU -- one server, so one queue and the same free cores for all -- and the one chosen must
 * cost no more time and no more CPU than each other at every measured size up to `bytes`
 * (figures are linear between and past the sizes, so that is every size up to it, and past
 * the last one as well when it holds far beyond). `streams`: hash streams may go there too
 * (every size, and it is the stream alternative). A tie goes to the earlier, as in least().
 */
/** @internal exported for tests */
export function direct(s: Routed): { index: number; bytes: number; streams: boolean } {
  const none = { index: -1, bytes: 0, streams: false };
  if (s.alts.some((x) => x.server !== -1 || x.gone)) return none;
  const sizes = [...ROUTE_SIZES, FAR];
  const cheaper = (a: Alternative, b: Alternative, before: boolean, size: number): boolean => {
    const [ta, tb, ca, cb] = [costAt(a.cost.time, size), costAt(b.cost.time, size), costAt(a.cost.cpu, size), costAt(b.cost.cpu, size)];
    return (ta < tb || (ta === tb && before)) && (ca < cb || (ca === cb && before));
  };
  const k = cheapest(s.alts, s.all, sizes[0]!, sizes[0]!, () => 0);
  const a = s.alts[k]!;
  let bytes = 0;
  for (const size of sizes) {
    if (size > a.maxRequest) break;
    if (!s.alts.every((b, j) => j === k || cheaper(a, b, k < j, size))) break;
    bytes = size === FAR ? Number.POSITIVE_INFINITY : size;
  }
  if (bytes === 0) return none;
  return { index: k, bytes, streams: bytes === Number.POSITIVE_INFINITY && k === s.stream };
}
