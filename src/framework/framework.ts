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
 *
 * The parts: the driver registry (registry.ts), sessions and migration (sessions.ts), the
 * dispatch queue (dispatch-queue.ts), keying operations (kdispatch.ts), requests sent on by a
 * driver's hook (hook.ts), statistics (stats.ts).
 */
import { performance } from 'node:perf_hooks';
import type { KCryptoError } from '../errors.js';
import { errnoOf } from '../errno.js';
import {
  CRYPTO_ASYMQ,
  CRYPTO_F_CBIFSYNC,
  CRYPTO_F_CBIMM,
  CRYPTO_F_DONE,
  CRYPTO_SYMQ,
  CRYPTOCAP_F_CLEANUP,
  CRYPTOCAP_F_HARDWARE,
  CRYPTOCAP_F_SOFTWARE,
  CRYPTOCAP_F_SYNC,
} from './constants.js';
import { DispatchQueue } from './dispatch-queue.js';
import {
  chainAlgs,
  frameworkErrnos,
  frameworkError,
  type DriverImpl,
  type RouterImpl,
  type SessionInfo,
  type SessionOptions,
} from './driver.js';
import { Hooks } from './hook.js';
import { Keying } from './kdispatch.js';
import { DriverRegistry } from './registry.js';
import { SessionTable } from './sessions.js';
import { recordLatency, statsOf, type DriverStats } from './stats.js';
import { type CryptKop, CryptoDesc, type CryptoIni, type CryptoIniFields, CryptoOp, descChain, iniChain, opStateOf } from './structures.js';

export type { DriverImpl, RequestHook, RouterImpl, SessionInfo, SessionOptions } from './driver.js';
export type { DriverStats } from './stats.js';

/** The framework. `framework` (index) is the process-wide instance; tests may make their own. */
export class Framework {
  private readonly errnos = frameworkErrnos();
  private readonly registry = new DriverRegistry();
  private readonly sessions = new SessionTable(this.registry, this.errnos, (crp) => this.done(crp));
  private readonly keying: Keying = new Keying(
    this.registry,
    this.errnos,
    (d) => this.queue.flush(d),
    (krp) => this.kdone(krp),
  );
  private readonly queue = new DispatchQueue(
    this.errnos,
    (crp) => this.done(crp),
    (d) => this.keying.flush(d),
  );
  private readonly hooks = new Hooks(
    this.sessions,
    this.errnos,
    (crp, d) => this.queue.submit(crp, d),
    (crp) => this.queue.answer(crp, true),
    (crp) => this.dispatch(crp),
  );

  /** This host's errno number for ERESTART, which a driver's process() returns to push back. */
  readonly ERESTART = this.errnos.ERESTART;

  /** This host's errno number for `name` (for drivers: process() returns errnos). */
  errno(name: string): number {
    return errnoOf(name);
  }

  /** A KCryptoError from the framework or a driver. */
  error(code: string, message: string, driver = 'framework'): KCryptoError {
    return frameworkError(code, message, driver);
  }

  // ---- driver side -------------------------------------------------------------------------

  /** crypto_get_driverid: a new driver id (CRYPTOCAP_F_* flags); `name` is for findDriver(). */
  getDriverId(flags: number, name?: string): number {
    return this.registry.add(flags, name);
  }

  /**
   * crypto_register: the driver supports `alg` (operations up to `maxOpLen` bits). The first
   * call must give `impl`; later calls may omit it (as the man page's "ignored" arguments).
   */
  register(id: number, alg: number, maxOpLen: number, flags: number, impl?: DriverImpl, arg?: unknown): number {
    this.registry.register(id, alg, maxOpLen, flags, impl, arg);
    return 0;
  }

  /** crypto_kregister: the driver supports keying operation `kalg` (CRK_*). */
  kregister(id: number, kalg: number, flags: number, impl?: DriverImpl, arg?: unknown): number {
    this.registry.kregister(id, kalg, flags, impl, arg);
    return 0;
  }

  /** crypto_unregister: withdraws `alg`; sessions that use it migrate. The last one disables the driver. */
  async unregister(id: number, alg: number): Promise<number> {
    const d = this.registry.live(id);
    if (!d.algs.delete(alg)) return this.errnos.EINVAL;
    if (d.algs.size === 0 && d.kalgs.size === 0) return this.unregisterAll(id);
    await this.sessions.migrate(d, (s) => chainAlgs(s.cri).includes(alg));
    return 0;
  }

  /** crypto_unregister_all: disables the driver; its sessions migrate to other drivers. */
  async unregisterAll(id: number): Promise<number> {
    const d = this.registry.live(id);
    d.flags |= CRYPTOCAP_F_CLEANUP;
    d.algs.clear();
    d.kalgs.clear();
    await this.sessions.migrate(d, () => true);
    this.keying.drain(d);
    return 0;
  }

  /**
   * kcrypto extension: driver `id` is gone (its device was removed, or a request outlived its
   * deadline). Like unregisterAll(), its sessions migrate; in addition every request it holds
   * completes now, once, with EAGAIN and its session's new sid (ENOENT when no driver is left),
   * and the driver is never called again, not even to free its sessions: a gone device's
   * descriptors can block whoever touches them. The driver must drop the completions it may
   * still produce.
   */
  async failDriver(id: number): Promise<number> {
    const d = this.registry.get(id);
    if (!d) return this.errnos.EINVAL;
    d.gone = true;
    d.flags |= CRYPTOCAP_F_CLEANUP;
    d.algs.clear();
    d.kalgs.clear();
    await this.sessions.migrate(d, () => true);
    for (const crp of d.inFlight.values()) {
      const s = this.sessions.get(crp.sid);
      if (s && s.movedTo !== null && s.movedTo !== -1n) {
        crp.etype = this.errnos.EAGAIN;
        crp.sid = s.movedTo;
      } else crp.etype = this.errnos.ENOENT;
      this.done(crp);
    }
    this.keying.drain(d);
    return 0;
  }

  /** crypto_find_driver: the id of the driver registered under `name`, or -1. */
  findDriver(name: string): number {
    return this.registry.find(name);
  }

  /** crypto_unblock: the driver can take requests again (CRYPTO_SYMQ and/or CRYPTO_ASYMQ). */
  unblock(id: number, what: number): number {
    const d = this.registry.get(id);
    if (!d) return this.errnos.EINVAL;
    if (what & CRYPTO_SYMQ) d.blocked = false;
    if (what & CRYPTO_ASYMQ) d.kblocked = false;
    this.queue.schedule(d);
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
    const st = opStateOf(crp);
    // The driver the request was handed to (its sid may have changed if its session moved).
    const d = st.owner;
    st.owner = null;
    // -1: not sampled (see DispatchQueue.submit), or it reached no driver.
    const latency = d && st.startedAt >= 0 ? performance.now() - st.startedAt : -1;
    if (d) {
      d.inFlight.delete(crp);
      if (crp.etype !== 0) d.stats.errors++;
      if (latency >= 0) recordLatency(d.stats, latency);
    }
    // A request sent on by a hook: the hook hears first, then the consumer, under its own sid.
    // (A driver may run a request through a framework of its own; only this one's hooks count.)
    if (st.via !== null && this.registry.owns(st.via) && !this.hooks.completed(crp, d !== null, latency)) return;
    const immediate = crp.flags & CRYPTO_F_CBIMM || (crp.flags & CRYPTO_F_CBIFSYNC && d !== null && d.flags & CRYPTOCAP_F_SYNC);
    if (immediate) crp.callback?.(crp);
    else this.queue.answer(crp);
  }

  /** crypto_kdone: the driver finished a keying operation. */
  kdone(krp: CryptKop): void {
    this.queue.answer(krp);
  }

  // ---- consumer side -----------------------------------------------------------------------

  /**
   * crypto_newsession: a session for the algorithm chain `cri`, on driver `crid` or on any
   * driver with the CRYPTOCAP_F_HARDWARE / _SOFTWARE flags given (hardware preferred when both;
   * among equals, the one with the fewest sessions). Resolves with the sid.
   */
  async newSession(chain: CryptoIni | CryptoIniFields, crid: number, options: SessionOptions = {}): Promise<bigint> {
    const cri = iniChain(chain);
    const algs = chainAlgs(cri);
    if (algs.length === 0) throw frameworkError('EINVAL', 'newSession needs at least one algorithm');
    const { router, splitter } = this.registry;
    if (
      options.route === 'fastest' &&
      router &&
      crid & (CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE) &&
      this.registry.candidates(cri, crid).length > 1
    )
      return this.sessions.open(router, cri, options);
    const d = this.registry.select(cri, crid);
    if (d) return this.sessions.open(d, cri, options);
    // No single driver has the whole chain: split it across drivers (one session to the caller).
    if (crid & (CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE) && splitter && cri.next) return this.sessions.open(splitter, cri, options);
    throw frameworkError('EOPNOTSUPP', `no driver supports ${algs.join(', ')} for crid 0x${(crid >>> 0).toString(16)}`);
  }

  /**
   * Makes driver `id` the one that serves sessions opened with `route: 'fastest'`: dispatch()
   * sends every request to its sessions where `impl` routes it (see RequestHook).
   */
  attachRouter(id: number, impl: RouterImpl, arg?: unknown): void {
    const d = this.registry.live(id);
    d.impl = { ...impl, process: () => this.errnos.EINVAL };
    d.arg = arg;
    d.hook = impl;
    this.registry.router = d;
  }

  /**
   * Makes driver `id` the one that serves chains no single driver has; it is never chosen by
   * algorithm (it registers none).
   */
  attachSplitter(id: number, impl: DriverImpl, arg?: unknown): void {
    const d = this.registry.live(id);
    d.impl = impl;
    d.arg = arg;
    this.registry.splitter = d;
  }

  /** Every driver `crid` allows that takes `cri` whole, hardware first. */
  candidates(cri: CryptoIni, crid: number): number[] {
    return this.registry.candidates(cri, crid).map((d) => d.id);
  }

  /** The algorithms driver `id` registered (CRYPTO_* ids), in registration order. */
  algorithmsOf(id: number): number[] {
    return [...(this.registry.get(id)?.algs.keys() ?? [])];
  }

  /** The name a driver registered under. */
  driverName(id: number): string | undefined {
    return this.registry.get(id)?.name;
  }

  /** The CRYPTOCAP_F_* flags a driver registered with (undefined for no such driver). */
  driverFlags(id: number): number | undefined {
    return this.registry.get(id)?.flags;
  }

  /** The driver `crid` would give `cri` (for splitters and routers composing sessions). */
  selectDriver(cri: CryptoIni, crid: number): number | undefined {
    return this.registry.select(cri, crid)?.id;
  }

  /** kcrypto extension: the name of the driver serving `sid`, its limits and counters. */
  sessionInfo(sid: bigint): (SessionInfo & { driver: string; driverId: number }) | undefined {
    return this.sessions.info(sid);
  }

  /** kcrypto extension: a session with a copy of `sid`'s running hash state, on the same driver. */
  copySession(sid: bigint): Promise<bigint> {
    return this.sessions.copy(sid);
  }

  /** crypto_freesession. */
  freeSession(sid: bigint): Promise<number> {
    return this.sessions.free(sid);
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
    if (!crp || typeof crp.callback !== 'function') return this.errnos.EINVAL;
    // Descriptors given as plain objects (a JavaScript consumer's literals) become CryptoDesc ones.
    for (let d: CryptoDesc | null = crp.desc; d; d = d.next)
      if (!(d instanceof CryptoDesc)) {
        crp.desc = descChain(crp.desc!);
        break;
      }
    crp.flags &= ~CRYPTO_F_DONE;
    crp.etype = 0;
    const s = this.sessions.get(crp.sid);
    if (!s) {
      crp.etype = this.errnos.EINVAL;
      this.queue.answer(crp, true);
      return 0;
    }
    if (s.movedTo !== null) {
      crp.etype = this.errnos.EAGAIN;
      crp.sid = s.movedTo;
      this.queue.answer(crp, true);
      return 0;
    }
    const hook = s.driver.hook;
    if (hook) this.hooks.dispatch(crp, s.driver, hook);
    else this.queue.submit(crp, s.driver);
    return 0;
  }

  /**
   * kcrypto extension: cancels `crp` while it has not reached its driver (it waits in the
   * driver's queue, behind an ERESTART or a batch being gathered): it completes now, once, with
   * ECANCELED. Returns whether it did; a request a driver holds completes as it would have.
   */
  cancel(crp: CryptoOp): boolean {
    if (!this.queue.withdraw(crp)) return false;
    crp.etype = this.errnos.ECANCELED;
    this.done(crp);
    return true;
  }

  /** A promise form of dispatch(): resolves with the request once its callback would run. */
  process(crp: CryptoOp): Promise<CryptoOp> {
    return new Promise((resolve) => {
      crp.callback = resolve;
      const rc = this.dispatch(crp);
      if (rc !== 0) throw frameworkError('EINVAL', 'dispatch refused the request');
    });
  }

  /** crypto_kdispatch: a keying operation on a driver that registered it (hardware first). */
  kdispatch(krp: CryptKop | null | undefined): number {
    return this.keying.dispatch(krp);
  }

  /** Per-driver statistics. */
  stats(): DriverStats[] {
    return [...this.registry.all()].map(statsOf);
  }
}
