/**
 * What a driver gives the framework (DriverImpl and its kcrypto extensions), what the framework
 * keeps of each driver (Driver), and the small helpers every part of the framework shares.
 */
import { InFlight } from './in-flight.js';
import { errnoOf } from '../errno.js';
import { KCryptoError } from '../errors.js';
import { newCounters, type DriverCounters } from './stats.js';
import type { CryptKop, CryptoIni, CryptoOp } from './structures.js';

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
 * What the framework calls around the requests to the sessions of a driver whose sessions each
 * stand for sessions on other drivers (its alternatives; the router is one): on dispatch, where
 * the request goes, and on completion, that it is done there. The framework sends the
 * consumer's request itself in the same pass, rather than the driver dispatching a second
 * request of its own, which would cost a second pass through dispatch and completion per
 * request (bench/README.md, "Routing in one pass").
 */
export interface RequestHook {
  /**
   * The sid of the alternative that runs `crp`, a request to one of the driver's sessions
   * (crp.sid). The request counts as its alternative's until settle().
   */
  route(arg: unknown, crp: CryptoOp): bigint;
  /**
   * A request route() sent to an alternative is done there, with crp.etype, once for each
   * route() that returned. EAGAIN: that session moved to crp.sid (the driver follows it), and
   * the framework routes the request again. A sid that names no session, or one whose driver
   * is gone with no other to move to, fails the request (EINVAL, ENOENT) after settle(). A
   * route() that throws fails the request with EINVAL, and has no settle().
   */
  settle(arg: unknown, crp: CryptoOp): void;
}

/** What attachRouter() takes: a driver's functions, with the hook in place of process(). */
export interface RouterImpl extends Omit<DriverImpl, 'process'>, RequestHook {}

/** What the framework keeps of one driver. */
export interface Driver {
  id: number;
  name: string;
  flags: number;
  algs: Map<number, { maxOpLen: number; flags: number }>;
  kalgs: Map<number, number>;
  impl: DriverImpl | null;
  arg: unknown;
  /** Set for a driver whose requests are routed elsewhere (see RequestHook). */
  hook: RequestHook | null;
  blocked: boolean;
  kblocked: boolean;
  queue: CryptoOp[];
  kqueue: CryptKop[];
  sessions: number;
  inFlight: InFlight;
  flushScheduled: boolean;
  /** Failed by failDriver(): never called again. */
  gone: boolean;
  stats: DriverCounters;
}

/** A driver record with nothing registered yet. */
export function newDriver(id: number, name: string, flags: number): Driver {
  return {
    id,
    name,
    flags: flags >>> 0,
    algs: new Map(),
    kalgs: new Map(),
    impl: null,
    arg: undefined,
    hook: null,
    blocked: false,
    kblocked: false,
    queue: [],
    kqueue: [],
    sessions: 0,
    inFlight: new InFlight(),
    flushScheduled: false,
    gone: false,
    stats: newCounters(),
  };
}

/** The errno numbers the framework answers with, resolved once per framework. */
export interface FrameworkErrnos {
  readonly ERESTART: number;
  readonly EAGAIN: number;
  readonly EINVAL: number;
  readonly EOPNOTSUPP: number;
  readonly ENOENT: number;
  readonly ECANCELED: number;
}

export function frameworkErrnos(): FrameworkErrnos {
  return {
    ERESTART: errnoOf('ERESTART'),
    EAGAIN: errnoOf('EAGAIN'),
    EINVAL: errnoOf('EINVAL'),
    EOPNOTSUPP: errnoOf('EOPNOTSUPP'),
    ENOENT: errnoOf('ENOENT'),
    ECANCELED: errnoOf('ECANCELED'),
  };
}

/** A KCryptoError from the framework or a driver. */
export function frameworkError(code: string, message: string, driver = 'framework'): KCryptoError {
  return new KCryptoError(message, { code, errno: errnoOf(code), syscall: 'framework', driver });
}

/** The algorithms of a session's chain, in order. */
export function chainAlgs(cri: CryptoIni | null): number[] {
  const out: number[] = [];
  for (let c = cri; c; c = c.next) out.push(c.alg);
  return out;
}

/** Bytes of a request's buffer (several buffers taken as one). */
export function bufLength(buf: Uint8Array | Uint8Array[]): number {
  return Array.isArray(buf) ? buf.reduce((n, b) => n + b.length, 0) : buf.length;
}
