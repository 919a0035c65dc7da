/**
 * The crypto(9) framework in TypeScript: drivers register algorithms, consumers open sessions
 * and dispatch requests that complete through callbacks. Pure logic, no I/O of its own: the
 * drivers do the work (kcrypto's own drivers reach the kernel through the addon).
 *
 * Beyond the 2015 man page it follows FreeBSD's and NetBSD's dispatch behaviour: a driver's
 * process() runs in the dispatcher's context and must not block; ERESTART requeues the
 * request at the head and marks the driver blocked until crypto_unblock(); requests of one
 * session keep their order; unregistering a driver migrates its sessions, and their requests
 * come back once with EAGAIN and the new sid.
 */
import { errnoOf } from '../errno.js';
import { KCryptoError } from '../errors.js';
import {
  CRYPTO_ASYMQ,
  CRYPTO_F_BATCH,
  CRYPTO_F_CBIFSYNC,
  CRYPTO_F_CBIMM,
  CRYPTO_F_DONE,
  CRYPTO_HINT_MORE,
  CRYPTO_SYMQ,
  CRYPTOCAP_F_CLEANUP,
  CRYPTOCAP_F_HARDWARE,
  CRYPTOCAP_F_SOFTWARE,
  CRYPTOCAP_F_SYNC,
} from './constants.js';
import { CryptKop, CryptoDesc, CryptoIni, CryptoOp } from './structures.js';

/** kcrypto extension: how a consumer wants a session run (drivers may ignore it). */
export interface SessionOptions {
  /** Kernel drivers: where requests run (measured policy, always inline, always on threads). */
  execution?: 'auto' | 'inline' | 'threads';
  /**
   * `'fastest'` with a crid of CRYPTOCAP_F_HARDWARE and/or _SOFTWARE: a session on every
   * driver that takes the chain, each request routed by its size to the one measured fastest
   * (router.ts).
   */
  route?: 'fastest';
}

/** kcrypto extension: what a driver says of one of its sessions. */
export interface SessionInfo {
  /** Largest request (bytes of buffer) the session can take unsplit; undefined: no limit. */
  maxRequestBytes?: number;
  /** Ciphers: the driver takes only multiples of this (stricter than the mode; XTS on /dev/crypto). */
  alignment?: number;
  /** Driver-specific counters (kernel drivers: where requests ran and what they cost). */
  stats?(): unknown;
  /**
   * Hashes: the session keeps no state between requests (the BSDs' /dev/crypto), so
   * CRD_F_KC_UPDATE/FINAL and copySession fail; each request digests a whole message.
   */
  stateless?: boolean;
}

/** What a driver gives the framework on its first register() call. */
export interface DriverImpl {
  /** Establishes a session for the chain; returns the driver's own session number (lid). */
  newSession(arg: unknown, cri: CryptoIni, options?: SessionOptions): number | Promise<number>;
  /** Tears down a session (sid = driver id << 32 | lid). */
  freeSession(arg: unknown, sid: bigint): void | Promise<void>;
  /**
   * Starts a request; must not block. Returns 0 (the driver calls framework.done(crp) when it
   * completes, possibly before returning), ERESTART (temporarily full: the framework requeues
   * it and sends nothing more until unblock()), or an errno to fail it at once.
   */
  process(arg: unknown, crp: CryptoOp, hint: number): number;
  /** Starts a keying operation (for drivers that kregister()); same contract with kdone(). */
  kprocess?(arg: unknown, krp: CryptKop, hint: number): number;
  /**
   * Whether the driver takes a session for this chain, beyond having each algorithm (as
   * FreeBSD's CRYPTODEV_PROBESESSION): e.g. a cipher driver that serves an HMAC only paired
   * with its cipher, through the kernel's authenc().
   */
  probeSession?(arg: unknown, cri: CryptoIni): boolean;
  /** kcrypto extension: limits and counters of a session; asked once per session (the answer is kept). */
  describeSession?(arg: unknown, sid: bigint): SessionInfo;
  /**
   * kcrypto extension: a new session with a copy of the session's running hash state
   * (cryptodev-linux's CIOCCPHASH); returns its lid.
   */
  copySession?(arg: unknown, sid: bigint): number | Promise<number>;
  /** kcrypto extension: counters the driver adds to stats(). */
  driverStats?(arg: unknown): Record<string, number>;
}

/**
 * What attachRouter() takes: a driver whose sessions each stand for sessions on other drivers
 * (its alternatives), one of which runs each request. The framework asks the router in
 * dispatch() where a request goes and sends it there in the same pass, instead of the router
 * dispatching a second request of its own: with that second request and its pass through
 * dispatch(), invoke() and done(), routing added 28 µs to a 64 B request in the lab (of about
 * 160), against 9 µs in one pass.
 */
export interface RouterImpl extends Omit<DriverImpl, 'process'> {
  /**
   * The sid of the alternative that runs `crp`, a request to one of the router's sessions
   * (crp.sid). The router may note what it needs in crp.kcRouteIndex and crp.kcRouteLoad; the
   * request counts as its alternative's until settle().
   */
  route(arg: unknown, crp: CryptoOp): bigint;
  /**
   * A request route() sent to an alternative is done there, with crp.etype, once for each
   * route() that returned. EAGAIN: that session moved to crp.sid (the router follows it), and
   * the framework routes the request again. A sid that names no session, or one whose driver
   * is gone with no other to move to, fails the request (EINVAL, ENOENT) after settle(). A
   * route() that throws fails the request with EINVAL, and has no settle().
   */
  settle(arg: unknown, crp: CryptoOp): void;
}

/** Per-driver statistics. */
export interface DriverStats {
  id: number;
  name: string;
  flags: number;
  sessions: number;
  requests: number;
  errors: number;
  blocks: number;
  queueLength: number;
  inFlight: number;
  bytes: number;
  /** Completion latency percentiles in ms over the recent requests. */
  latency: { p50: number; p90: number; p99: number; samples: number };
  migrated: number;
  /** Failed by failDriver() (device removed, deadline passed). */
  dead: boolean;
  /** What the driver reports of itself (kernel drivers: wedged threads, deadlines passed). */
  driver?: Record<string, number>;
}

interface Driver {
  id: number;
  name: string;
  flags: number;
  algs: Map<number, { maxOpLen: number; flags: number }>;
  kalgs: Map<number, number>;
  impl: DriverImpl | null;
  arg: unknown;
  blocked: boolean;
  kblocked: boolean;
  queue: CryptoOp[];
  kqueue: CryptKop[];
  sessions: number;
  inFlight: Set<CryptoOp>;
  flushScheduled: boolean;
  /** Failed (failDriver): never called again. */
  dead?: boolean;
  stats: { requests: number; errors: number; blocks: number; bytes: number; migrated: number; latencies: number[]; next: number };
}

interface Session {
  sid: bigint;
  driver: Driver;
  cri: CryptoIni;
  /** Set once the session has moved: requests for it come back with EAGAIN and this sid. */
  movedTo: bigint | null;
  options: SessionOptions;
  /** What the driver says of the session: asked once, on first use (it does not change). */
  info?: SessionInfo & { driver: string; driverId: number };
}

const LATENCY_WINDOW = 1024;

/** Moved alternatives one routed request follows before it fails (see route()). */
const MAX_ROUTE_HOPS = 64;

/** Adds one request's latency (ms) to a driver's window of recent ones. */
function recordLatency(w: Driver['stats'], ms: number): void {
  if (w.latencies.length < LATENCY_WINDOW) w.latencies.push(ms);
  else w.latencies[w.next++ % LATENCY_WINDOW] = ms;
}

function bufLength(buf: Uint8Array | Uint8Array[]): number {
  return Array.isArray(buf) ? buf.reduce((n, b) => n + b.length, 0) : buf.length;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The framework. `framework` (index) is the process-wide instance; tests may make their own. */
export class Framework {
  private readonly drivers = new Map<number, Driver>();
  private readonly sessions = new Map<bigint, Session>();
  private nextDriverId = 0;
  private returnQueue: (CryptoOp | CryptKop)[] = [];
  private returnScheduled = false;

  /** errno numbers of this host, resolved once. */
  readonly ERESTART = errnoOf('ERESTART');
  private readonly EAGAIN = errnoOf('EAGAIN');
  private readonly EINVAL = errnoOf('EINVAL');
  private readonly EOPNOTSUPP = errnoOf('EOPNOTSUPP');
  private readonly ENOENT = errnoOf('ENOENT');

  private fail(code: 'EINVAL' | 'EOPNOTSUPP' | 'ENOENT', message: string, driver = 'framework'): KCryptoError {
    return this.error(code, message, driver);
  }

  /** This host's errno number for `name` (for drivers: process() returns errnos). */
  errno(name: string): number {
    return errnoOf(name);
  }

  /** A KCryptoError from the framework or a driver. */
  error(code: string, message: string, driver = 'framework'): KCryptoError {
    return new KCryptoError(message, { code, errno: errnoOf(code), syscall: 'framework', driver });
  }

  // ---- driver side -------------------------------------------------------------------------

  /** crypto_get_driverid: a new driver id (CRYPTOCAP_F_* flags); `name` is for findDriver(). */
  getDriverId(flags: number, name = `driver${this.nextDriverId}`): number {
    const id = this.nextDriverId++;
    this.drivers.set(id, {
      id,
      name,
      flags: flags >>> 0,
      algs: new Map(),
      kalgs: new Map(),
      impl: null,
      arg: undefined,
      blocked: false,
      kblocked: false,
      queue: [],
      kqueue: [],
      sessions: 0,
      inFlight: new Set(),
      flushScheduled: false,
      stats: { requests: 0, errors: 0, blocks: 0, bytes: 0, migrated: 0, latencies: [], next: 0 },
    });
    return id;
  }

  private driver(id: number): Driver {
    const d = this.drivers.get(id);
    if (!d || d.flags & CRYPTOCAP_F_CLEANUP) throw this.fail('EINVAL', `no driver ${id}`);
    return d;
  }

  /**
   * crypto_register: the driver supports `alg` (operations up to `maxOpLen` bits). The first
   * call must give `impl`; later calls may omit it (as the man page's "ignored" arguments).
   */
  register(id: number, alg: number, maxOpLen: number, flags: number, impl?: DriverImpl, arg?: unknown): number {
    const d = this.driver(id);
    if (!d.impl) {
      if (!impl) throw this.fail('EINVAL', `driver ${id}: the first register() must give newSession, freeSession and process`);
      d.impl = impl;
      d.arg = arg;
    }
    d.algs.set(alg, { maxOpLen, flags });
    return 0;
  }

  /** crypto_kregister: the driver supports keying operation `kalg` (CRK_*). */
  kregister(id: number, kalg: number, flags: number, impl?: DriverImpl, arg?: unknown): number {
    const d = this.driver(id);
    if (!d.impl) {
      if (!impl) throw this.fail('EINVAL', `driver ${id}: the first kregister() must give the driver's functions`);
      d.impl = impl;
      d.arg = arg;
    }
    if (!d.impl.kprocess) throw this.fail('EINVAL', `driver ${id}: kregister() needs kprocess`);
    d.kalgs.set(kalg, flags);
    return 0;
  }

  /** crypto_unregister: withdraws `alg`; sessions that use it migrate. The last one disables the driver. */
  async unregister(id: number, alg: number): Promise<number> {
    const d = this.driver(id);
    if (!d.algs.delete(alg)) return this.EINVAL;
    if (d.algs.size === 0 && d.kalgs.size === 0) return this.unregisterAll(id);
    await this.migrate(d, (s) => chainAlgs(s.cri).includes(alg));
    return 0;
  }

  /** crypto_unregister_all: disables the driver; its sessions migrate to other drivers. */
  async unregisterAll(id: number): Promise<number> {
    const d = this.driver(id);
    d.flags |= CRYPTOCAP_F_CLEANUP;
    d.algs.clear();
    d.kalgs.clear();
    await this.migrate(d, () => true);
    for (const krp of d.kqueue.splice(0)) {
      krp.status = this.EAGAIN;
      this.kdone(krp);
    }
    return 0;
  }

  /**
   * kcrypto extension: driver `id` is gone (its device was removed, or a request outlived its
   * deadline). Like unregisterAll(), its sessions migrate; in addition every request it holds
   * completes now, once, with EAGAIN and its session's new sid (ENOENT when no driver is left),
   * and the driver is never called again, not even to free its sessions: a dead device's
   * descriptors can block whoever touches them. The driver must drop the completions it may
   * still produce.
   */
  async failDriver(id: number): Promise<number> {
    const d = this.drivers.get(id);
    if (!d) return this.EINVAL;
    d.dead = true;
    d.flags |= CRYPTOCAP_F_CLEANUP;
    d.algs.clear();
    d.kalgs.clear();
    await this.migrate(d, () => true);
    for (const crp of [...d.inFlight]) {
      const s = this.sessions.get(crp.sid);
      if (s && s.movedTo !== null && s.movedTo !== -1n) {
        crp.etype = this.EAGAIN;
        crp.sid = s.movedTo;
      } else crp.etype = this.ENOENT;
      this.done(crp);
    }
    for (const krp of d.kqueue.splice(0)) {
      krp.status = this.EAGAIN;
      this.kdone(krp);
    }
    return 0;
  }

  /** crypto_find_driver: the id of the driver registered under `name`, or -1. */
  findDriver(name: string): number {
    for (const d of this.drivers.values()) if (d.name === name && !(d.flags & CRYPTOCAP_F_CLEANUP)) return d.id;
    return -1;
  }

  /** crypto_unblock: the driver can take requests again (CRYPTO_SYMQ and/or CRYPTO_ASYMQ). */
  unblock(id: number, what: number): number {
    const d = this.drivers.get(id);
    if (!d) return this.EINVAL;
    if (what & CRYPTO_SYMQ) d.blocked = false;
    if (what & CRYPTO_ASYMQ) d.kblocked = false;
    this.scheduleFlush(d);
    return 0;
  }

  /**
   * crypto_done: the driver finished `crp` (crp.etype says how). Delivers the callback now for
   * CRYPTO_F_CBIMM (or CBIFSYNC on a CRYPTOCAP_F_SYNC driver), otherwise from the return queue
   * in a later turn. A request completes once: a second done() is ignored.
   */
  done(crp: CryptoOp): void {
    if (crp.flags & CRYPTO_F_DONE) return;
    crp.flags |= CRYPTO_F_DONE;
    // The driver the request was dispatched to (its sid may have changed if its session moved).
    const d = crp.kcOwner as Driver | null;
    crp.kcOwner = null;
    const latency = d ? performance.now() - crp.kcStartedAt : 0;
    if (d) {
      d.inFlight.delete(crp);
      if (crp.etype !== 0) d.stats.errors++;
      recordLatency(d.stats, latency);
    }
    const from = crp.kcRoutedFrom;
    if (from !== null && this.router && this.routing) {
      if (d) recordLatency(this.router.stats, latency);
      // A routed request: its router hears first, then the consumer, under the routed sid.
      this.routing.settle(this.router.arg, crp);
      crp.kcRoutedFrom = null;
      if (crp.etype === this.EAGAIN) {
        // Its alternative went away; the router follows it: the request is routed again.
        crp.sid = from;
        this.dispatch(crp);
        return;
      }
      crp.sid = from;
      if (crp.etype !== 0) this.router.stats.errors++;
    }
    const immediate = crp.flags & CRYPTO_F_CBIMM || (crp.flags & CRYPTO_F_CBIFSYNC && d !== null && d.flags & CRYPTOCAP_F_SYNC);
    if (immediate) crp.callback?.(crp);
    else this.enqueueReturn(crp);
  }

  /** crypto_kdone: the driver finished a keying operation. */
  kdone(krp: CryptKop): void {
    this.enqueueReturn(krp);
  }

  // ---- consumer side -----------------------------------------------------------------------

  /**
   * crypto_newsession: a session for the algorithm chain `cri`, on driver `crid` or on any
   * driver with the CRYPTOCAP_F_HARDWARE / _SOFTWARE flags given (hardware preferred when both;
   * among equals, the one with the fewest sessions). Resolves with the sid.
   */
  async newSession(cri: CryptoIni, crid: number, options: SessionOptions = {}): Promise<bigint> {
    const algs = chainAlgs(cri);
    if (algs.length === 0) throw this.fail('EINVAL', 'newSession needs at least one algorithm');
    if (options.route === 'fastest' && this.router && crid & (CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE) && this.candidates(cri, crid).length > 1) return this.open(this.router, cri, options);
    const d = this.select(cri, crid);
    if (d) return this.open(d, cri, options);
    // No single driver has the whole chain: split it across drivers (one session to the caller).
    if (crid & (CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE) && this.splitter && cri.next) return this.open(this.splitter, cri, options);
    throw this.fail('EOPNOTSUPP', `no driver supports ${algs.join(', ')} for crid 0x${(crid >>> 0).toString(16)}`);
  }

  /** The driver that serves split sessions (set by attachSplitter()). */
  private splitter: Driver | undefined;
  /** The driver that serves routed sessions (set by attachRouter()), and its choice per request. */
  private router: Driver | undefined;
  private routing: RouterImpl | undefined;

  /** Makes driver `id` the one that serves sessions opened with `route: 'fastest'`. */
  attachRouter(id: number, impl: RouterImpl, arg?: unknown): void {
    const d = this.driver(id);
    // dispatch() routes every request to a routed session itself (see RouterImpl).
    d.impl = { ...impl, process: () => this.EINVAL };
    d.arg = arg;
    this.router = d;
    this.routing = impl;
  }

  /** Every driver `crid` allows that takes `cri` whole, hardware first. */
  candidates(cri: CryptoIni, crid: number): number[] {
    const algs = chainAlgs(cri);
    const flags = crid & (CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE);
    return [...this.drivers.values()]
      .filter((d) => d !== this.router && d !== this.splitter && !(d.flags & CRYPTOCAP_F_CLEANUP) && d.impl !== null && d.flags & flags && algs.every((a) => d.algs.has(a)) && (d.impl.probeSession?.(d.arg, cri) ?? true))
      .sort((a, b) => (b.flags & CRYPTOCAP_F_HARDWARE) - (a.flags & CRYPTOCAP_F_HARDWARE))
      .map((d) => d.id);
  }

  /** The algorithms driver `id` registered (CRYPTO_* ids), in registration order. */
  algorithmsOf(id: number): number[] {
    return [...(this.drivers.get(id)?.algs.keys() ?? [])];
  }

  /** The name a driver registered under. */
  driverName(id: number): string | undefined {
    return this.drivers.get(id)?.name;
  }

  /** The CRYPTOCAP_F_* flags a driver registered with (undefined for no such driver). */
  driverFlags(id: number): number | undefined {
    return this.drivers.get(id)?.flags;
  }

  /**
   * Makes driver `id` the one that serves chains no single driver has; it is never chosen by
   * algorithm (it registers none).
   */
  attachSplitter(id: number, impl: DriverImpl, arg?: unknown): void {
    const d = this.driver(id);
    d.impl = impl;
    d.arg = arg;
    this.splitter = d;
  }

  /** The driver `crid` would give `cri` (for splitters and routers composing sessions). */
  selectDriver(cri: CryptoIni, crid: number): number | undefined {
    return this.select(cri, crid)?.id;
  }

  private async open(d: Driver, cri: CryptoIni, options: SessionOptions = {}): Promise<bigint> {
    const lid = await d.impl!.newSession(d.arg, cri, options);
    const sid = (BigInt(d.id) << 32n) | BigInt(lid >>> 0);
    if (this.sessions.has(sid)) throw this.fail('EINVAL', `driver ${d.name} returned session ${lid} twice`, d.name);
    this.sessions.set(sid, { sid, driver: d, cri: cri.clone(), movedTo: null, options });
    d.sessions++;
    return sid;
  }

  /** kcrypto extension: the name of the driver serving `sid`, its limits and counters. */
  sessionInfo(sid: bigint): (SessionInfo & { driver: string; driverId: number }) | undefined {
    const s = this.sessions.get(sid);
    if (!s || s.movedTo !== null) return undefined;
    // Read for every request of the API (its size limits), so built once.
    return (s.info ??= { ...(s.driver.impl!.describeSession?.(s.driver.arg, sid) ?? {}), driver: s.driver.name, driverId: s.driver.id });
  }

  /** kcrypto extension: a session with a copy of `sid`'s running hash state, on the same driver. */
  async copySession(sid: bigint): Promise<bigint> {
    const s = this.sessions.get(sid);
    if (!s || s.movedTo !== null) throw this.fail('EINVAL', `no session ${sid}`);
    const d = s.driver;
    if (!d.impl!.copySession) throw this.fail('EOPNOTSUPP', `driver ${d.name} cannot copy a session`, d.name);
    const lid = await d.impl!.copySession(d.arg, sid);
    const copy = (BigInt(d.id) << 32n) | BigInt(lid >>> 0);
    this.sessions.set(copy, { sid: copy, driver: d, cri: s.cri.clone(), movedTo: null, options: s.options });
    d.sessions++;
    return copy;
  }

  private select(cri: CryptoIni, crid: number, exclude?: Driver): Driver | undefined {
    const algs = chainAlgs(cri);
    const flags = crid & (CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE);
    const usable = (d: Driver): boolean =>
      d !== exclude && !(d.flags & CRYPTOCAP_F_CLEANUP) && d.impl !== null && algs.every((a) => d.algs.has(a)) && (d.impl.probeSession?.(d.arg, cri) ?? true);
    if (flags === 0) {
      const d = this.drivers.get(crid);
      return d && usable(d) ? d : undefined;
    }
    const pick = (mask: number): Driver | undefined =>
      [...this.drivers.values()].filter((d) => usable(d) && d.flags & mask).sort((a, b) => a.sessions - b.sessions)[0];
    return (flags & CRYPTOCAP_F_HARDWARE ? pick(CRYPTOCAP_F_HARDWARE) : undefined) ?? (flags & CRYPTOCAP_F_SOFTWARE ? pick(CRYPTOCAP_F_SOFTWARE) : undefined);
  }

  /** crypto_freesession. */
  async freeSession(sid: bigint): Promise<number> {
    const s = this.sessions.get(sid);
    if (!s) return this.EINVAL;
    this.sessions.delete(sid);
    if (s.movedTo === null) {
      s.driver.sessions--;
      if (!s.driver.dead) await s.driver.impl!.freeSession(s.driver.arg, sid);
    }
    return 0;
  }

  /** crypto_getreq: a request with `n` linked descriptors. */
  getReq(n: number): CryptoOp {
    const crp = new CryptoOp();
    let prev: CryptoDesc | null = null;
    for (let i = 0; i < n; i++) {
      const d = new CryptoDesc();
      if (prev) prev.next = d;
      else crp.desc = d;
      prev = d;
    }
    return crp;
  }

  /** crypto_freereq: releases a request (clears its buffers and keys for the collector). */
  freeReq(crp: CryptoOp): void {
    for (let d = crp.desc; d; d = d.next) d.key = null;
    crp.desc = null;
    crp.buf = new Uint8Array(0);
    crp.obuf = null;
    crp.mac = null;
    crp.callback = null;
    crp.opaque = undefined;
  }

  /**
   * crypto_dispatch: starts `crp`. Returns EINVAL when there is no request or no callback;
   * otherwise 0, and the outcome arrives in crp.etype through the callback, exactly once.
   */
  dispatch(crp: CryptoOp | null | undefined): number {
    if (!crp || typeof crp.callback !== 'function') return this.EINVAL;
    crp.flags &= ~CRYPTO_F_DONE;
    crp.etype = 0;
    const s = this.sessions.get(crp.sid);
    if (!s) {
      crp.etype = this.EINVAL;
      this.enqueueReturn(crp, true);
      return 0;
    }
    if (s.movedTo !== null) {
      crp.etype = this.EAGAIN;
      crp.sid = s.movedTo;
      this.enqueueReturn(crp, true);
      return 0;
    }
    if (s.driver === this.router && this.routing) this.route(crp, this.router, this.routing);
    else this.submit(crp, s.driver);
    return 0;
  }

  /**
   * Sends `crp`, a request to a routed session, to the alternative its router picks: the
   * request itself, under the alternative's sid until it completes (see done()). An
   * alternative whose session has moved is followed first, as its requests in flight are.
   */
  private route(crp: CryptoOp, r: Driver, routing: RouterImpl): void {
    r.stats.requests++;
    r.stats.bytes += bufLength(crp.buf);
    const from = crp.sid;
    // Sessions only ever move to new ones, so following moves ends; the bound is for a router
    // that would not follow them.
    for (let hops = 0; ; hops++) {
      let to: bigint;
      try {
        to = routing.route(r.arg, crp);
      } catch {
        // A routed session being freed: no alternative left to run it. The router placed
        // nothing, so it has nothing to settle.
        crp.sid = from;
        crp.kcRoutedFrom = null;
        crp.etype = this.EINVAL;
        this.enqueueReturn(crp, true);
        return;
      }
      const alt = this.sessions.get(to);
      crp.kcRoutedFrom = from;
      crp.sid = to;
      if (alt && alt.movedTo === null) {
        this.submit(crp, alt.driver);
        return;
      }
      if (alt && alt.movedTo !== -1n && hops < MAX_ROUTE_HOPS) {
        // The router follows the move and chooses again.
        crp.etype = this.EAGAIN;
        crp.sid = alt.movedTo!;
        routing.settle(r.arg, crp);
        crp.sid = from;
        crp.etype = 0;
        continue;
      }
      // No session there, or no driver left for it: the request fails, for the routed session.
      crp.etype = alt ? this.ENOENT : this.EINVAL;
      routing.settle(r.arg, crp);
      crp.sid = from;
      crp.kcRoutedFrom = null;
      this.enqueueReturn(crp, true);
      return;
    }
  }

  /** Hands `crp` to driver `d`, or queues it there. */
  private submit(crp: CryptoOp, d: Driver): void {
    crp.kcOwner = d;
    d.stats.requests++;
    d.stats.bytes += bufLength(crp.buf);
    crp.kcStartedAt = performance.now();
    // Behind a blocked driver, a batch being gathered, or earlier requests: keep the order.
    if (d.blocked || d.queue.length > 0 || crp.flags & CRYPTO_F_BATCH) {
      d.queue.push(crp);
      if (!d.blocked) this.scheduleFlush(d);
      return;
    }
    this.invoke(d, crp, 0);
  }

  /** A promise form of dispatch(): resolves with the request once its callback would run. */
  process(crp: CryptoOp): Promise<CryptoOp> {
    return new Promise((resolve) => {
      crp.callback = resolve;
      const rc = this.dispatch(crp);
      if (rc !== 0) throw this.fail('EINVAL', 'dispatch refused the request');
    });
  }

  /** Returns false when the driver pushed back (ERESTART): the request went back to the queue head. */
  private invoke(d: Driver, crp: CryptoOp, hint: number): boolean {
    d.inFlight.add(crp);
    let rc: number;
    try {
      rc = d.impl!.process(d.arg, crp, hint);
    } catch (err) {
      rc = err instanceof KCryptoError ? err.errno : this.EINVAL;
    }
    if (rc === this.ERESTART) {
      d.inFlight.delete(crp);
      d.blocked = true;
      d.stats.blocks++;
      d.queue.unshift(crp);
      return false;
    }
    if (rc !== 0 && !(crp.flags & CRYPTO_F_DONE)) {
      crp.etype = rc;
      this.done(crp);
    }
    return true;
  }

  private scheduleFlush(d: Driver): void {
    if (d.flushScheduled) return;
    d.flushScheduled = true;
    queueMicrotask(() => {
      d.flushScheduled = false;
      this.flush(d);
    });
  }

  /** Submits queued requests while the driver takes them, hinting that more follow. */
  private flush(d: Driver): void {
    while (!d.blocked && d.queue.length > 0) {
      const crp = d.queue.shift()!;
      if (!this.invoke(d, crp, d.queue.length > 0 ? CRYPTO_HINT_MORE : 0)) break;
    }
    while (!d.kblocked && d.kqueue.length > 0) {
      const krp = d.kqueue.shift()!;
      const rc = d.impl!.kprocess!(d.arg, krp, d.kqueue.length > 0 ? CRYPTO_HINT_MORE : 0);
      if (rc === this.ERESTART) {
        d.kblocked = true;
        d.stats.blocks++;
        d.kqueue.unshift(krp);
        break;
      }
      if (rc !== 0) {
        krp.status = rc;
        this.kdone(krp);
      }
    }
  }

  /** crypto_kdispatch: a keying operation on a driver that registered it (hardware first). */
  kdispatch(krp: CryptKop | null | undefined): number {
    if (!krp || typeof krp.callback !== 'function') return this.EINVAL;
    krp.status = 0;
    const candidates = [...this.drivers.values()].filter((d) => !(d.flags & CRYPTOCAP_F_CLEANUP) && d.kalgs.has(krp.op));
    const d = candidates.find((x) => x.flags & CRYPTOCAP_F_HARDWARE) ?? candidates[0];
    if (!d) {
      krp.status = this.EOPNOTSUPP;
      this.kdone(krp);
      return 0;
    }
    krp.hid = d.id;
    d.stats.requests++;
    d.kqueue.push(krp);
    this.flush(d);
    return 0;
  }

  // ---- completion delivery and migration ----------------------------------------------------

  private enqueueReturn(r: CryptoOp | CryptKop, fromDispatch = false): void {
    // A request that never reached a driver is still answered asynchronously: dispatch()
    // returns before any callback, as with a driver that queues.
    if (fromDispatch && r instanceof CryptoOp) r.flags |= CRYPTO_F_DONE;
    this.returnQueue.push(r);
    if (this.returnScheduled) return;
    this.returnScheduled = true;
    setImmediate(() => {
      this.returnScheduled = false;
      const batch = this.returnQueue;
      this.returnQueue = [];
      for (const x of batch) x.callback?.(x as never);
    });
  }

  /**
   * Moves the sessions of `d` selected by `which` to other drivers: each gets a new session
   * from its saved chain; the requests waiting in the driver's queue come back with EAGAIN and
   * the new sid; later requests with the old sid get the same answer. Requests already handed
   * to the driver complete as the driver completes them.
   */
  private async migrate(d: Driver, which: (s: Session) => boolean): Promise<void> {
    const moving = [...this.sessions.values()].filter((s) => s.driver === d && s.movedTo === null && which(s));
    for (const s of moving) {
      const target = this.select(s.cri, CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE, d) ?? (s.cri.next && this.splitter !== d ? this.splitter : undefined);
      let to: bigint | null = null;
      if (target) {
        try {
          to = await this.open(target, s.cri, s.options);
        } catch {
          to = null;
        }
      }
      s.movedTo = to ?? -1n;
      d.sessions--;
      d.stats.migrated++;
      if (!(d.flags & CRYPTOCAP_F_CLEANUP) && !d.dead) await Promise.resolve(d.impl!.freeSession(d.arg, s.sid)).catch(() => undefined);
    }
    const stay: CryptoOp[] = [];
    for (const crp of d.queue.splice(0)) {
      const s = this.sessions.get(crp.sid);
      if (s && s.movedTo !== null) {
        // No driver left for it: ENOENT rather than EAGAIN, which would invite a resubmit to nowhere.
        if (s.movedTo === -1n) crp.etype = this.ENOENT;
        else {
          crp.etype = this.EAGAIN;
          crp.sid = s.movedTo;
        }
        this.done(crp);
      } else stay.push(crp);
    }
    d.queue.push(...stay);
  }

  // ---- statistics ---------------------------------------------------------------------------

  /** Per-driver statistics. */
  stats(): DriverStats[] {
    return [...this.drivers.values()].map((d) => {
      const lat = [...d.stats.latencies].sort((a, b) => a - b);
      return {
        id: d.id,
        name: d.name,
        flags: d.flags,
        sessions: d.sessions,
        requests: d.stats.requests,
        errors: d.stats.errors,
        blocks: d.stats.blocks,
        queueLength: d.queue.length + d.kqueue.length,
        inFlight: d.inFlight.size,
        bytes: d.stats.bytes,
        latency: { p50: percentile(lat, 0.5), p90: percentile(lat, 0.9), p99: percentile(lat, 0.99), samples: lat.length },
        migrated: d.stats.migrated,
        dead: d.dead === true,
        ...(d.impl?.driverStats ? { driver: d.impl.driverStats(d.arg) } : {}),
      };
    });
  }
}

function chainAlgs(cri: CryptoIni | null): number[] {
  const out: number[] = [];
  for (let c = cri; c; c = c.next) out.push(c.alg);
  return out;
}
