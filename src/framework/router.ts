/**
 * Routed sessions (`route: 'fastest'`): the chain is opened on every driver the crid allows
 * that takes it, and each request goes to the driver that serves its size at the least cost —
 * small requests to a CPU driver, large ones to a device, for instance. The router is the
 * framework's RequestHook for its sessions: the framework asks route() in dispatch() and sends
 * the consumer's request itself there; settle() hears when it is done. The costs come from the
 * route table (route-table.ts), measured on first use (route-measure.ts), and are weighed by
 * route-cost.ts. Hash streams stay on one driver (the cheapest for large requests): a running
 * state cannot move.
 */
import { Buffer } from 'node:buffer';
import * as C from './constants.js';
import type { Framework, RouterImpl, SessionOptions } from './framework.js';
import { allOf, cheapest, direct, hold, pick, priced, reslot, routed, type Alternative, type Routed } from './route-cost.js';
import { algorithmKey, measure } from './route-measure.js';
import { costAt, RouteTable, ROUTE_SIZES, type RouteCost } from './route-table.js';
import { bufLength } from './driver.js';
import type { CryptoIni, CryptoOp } from './structures.js';
import { opStateOf } from './structures.js';

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
  /**
   * The session of the one alternative every request of routed session `sid` up to `bytes`
   * goes to whatever the load, when there is one (see direct() in route-cost.ts); `streams`:
   * hash streams go there too. A consumer may send such requests there directly: routing would
   * decide nothing. Those requests are not in sent().
   */
  direct(sid: bigint): { sid: bigint; bytes: number; streams: boolean } | undefined;
  /**
   * Driver `driver` was registered after routed sessions were opened (a card plugged back): each
   * open routed session it takes, with no alternative on it, gains one there, at the table's
   * costs (the driver's name measured before, or measured now). Resolves with how many gained one.
   */
  adopt(driver: number): Promise<number>;
  /** The alternatives of routed session `sid`: each one's driver, and whether it is no longer chosen. */
  alternatives(sid: bigint): { driver: number; name: string; gone: boolean }[] | undefined;
} {
  const id = fw.getDriverId(C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE, name);
  const sessions = new Map<number, Routed>();
  /** What each routed session was opened with, for alternatives added later (adopt). */
  const opened = new Map<number, { cri: CryptoIni; sub: SessionOptions }>();
  let nextLid = 0;
  // The cores the requests of every routed session in flight keep busy (see coresFrom in route-cost.ts).
  let busyCores = 0;
  const EAGAIN = fw.errno('EAGAIN');
  const lidOf = (sid: bigint): number => Number(sid & 0xffffffffn);

  /** What an alternative on `driver` with session `sid` is, apart from its costs. */
  const describe = (driver: number, sid: bigint): Omit<Alternative, 'sid' | 'cost'> => {
    const flags = fw.driverFlags(driver) ?? 0;
    const info = fw.sessionInfo(sid);
    return {
      driver,
      name: fw.driverName(driver) ?? String(driver),
      server: flags & C.CRYPTOCAP_F_HARDWARE ? driver : -1,
      sync: (flags & C.CRYPTOCAP_F_SYNC) !== 0,
      maxRequest: info?.maxRequestBytes ?? Number.POSITIVE_INFINITY,
      stateless: info?.stateless === true,
    };
  };

  /**
   * Alternative `i` of `s` now has session `sid`, where its session moved when its driver went
   * away. The new session is on another driver, so the alternative takes that driver's costs:
   * kept as the card's, a card's alternative moved to the software driver would take every
   * large request onto the JavaScript thread. If another alternative is on that driver already, this
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

  const impl: RouterImpl = {
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
      opened.set(lid, { cri, sub });
      return lid;
    },
    async freeSession(_arg: unknown, sid: bigint): Promise<void> {
      const s = sessions.get(lidOf(sid));
      sessions.delete(lidOf(sid));
      opened.delete(lidOf(sid));
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
      const prices = priced(s, size);
      const index = streaming ? s.stream : pick(s, prices, bufLength(crp.buf), busyCores);
      s.sent[index]!++;
      hold(s, index, 1);
      const cores = prices[3 * index + 2]!;
      busyCores += cores;
      const st = opStateOf(crp);
      st.index = index;
      st.load = cores;
      return s.alts[index]!.sid;
    },
    settle(_arg: unknown, crp: CryptoOp): void {
      const st = opStateOf(crp);
      const s = st.from === null ? undefined : sessions.get(lidOf(st.from));
      if (!s) return;
      hold(s, st.index, -1);
      busyCores = Math.max(0, busyCores - st.load);
      if (crp.etype === EAGAIN) {
        // That alternative's driver went away and its session moved: follow it. A disposable
        // output buffer is replaced, for the consumer too, as the consumer would on its own
        // resubmit (the old one may still be written by the driver that went away).
        follow(s, st.index, crp.sid);
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

  const adopt = async (driver: number): Promise<number> => {
    const name = fw.driverName(driver);
    if (name === undefined) return 0;
    let gained = 0;
    for (const [lid, s] of [...sessions]) {
      const o = opened.get(lid);
      if (!o || s.alts.some((a) => !a.gone && a.driver === driver)) continue;
      if (!fw.candidates(o.cri, C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE).includes(driver)) continue;
      let sid: bigint;
      try {
        sid = await fw.newSession(o.cri, driver, o.sub);
      } catch {
        continue;
      }
      // Freed while the session opened: nothing routes there any more.
      if (sessions.get(lid) !== s) {
        await fw.freeSession(sid);
        continue;
      }
      const alt: Alternative = { ...describe(driver, sid), sid, cost: table.get(name, s.key) ?? { time: [], cpu: [] } };
      if (alt.cost.time.length === 0) {
        await measure(fw, [alt], o.cri);
        table.set(name, s.key, alt.cost);
      }
      s.alts.push(alt);
      s.all = allOf(s.alts);
      s.sent.push(0);
      s.inFlight.push(0);
      reslot(s);
      s.prices.clear();
      gained++;
    }
    return gained;
  };

  return {
    adopt,
    alternatives: (sid) => sessions.get(lidOf(sid))?.alts.map((a) => ({ driver: a.driver, name: a.name, gone: a.gone === true })),
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
    direct: (sid) => {
      const s = sessions.get(lidOf(sid));
      const d = s ? direct(s) : undefined;
      return d && d.index >= 0 ? { sid: s!.alts[d.index]!.sid, bytes: d.bytes, streams: d.streams } : undefined;
    },
  };
}
