/**
 * The session backends of the Node-style API, over framework sessions: every request of an
 * `openSession()` session is a crypto(9) request (descriptors over one buffer) dispatched
 * through the framework to the driver serving the session. One path for every driver.
 */
import { Buffer } from 'node:buffer';
import type { AeadAlgorithm, CipherAlgorithm, HashAlgorithm, MacAlgorithm } from '../algorithms/catalog.js';
import { idsOf } from '../algorithms/crypto-ids.js';
import type { AeadBackend, Backend, CipherBackend, HashBackend, RngBackend } from './backends.js';
import { failureOf } from '../drivers/common/descriptor-executor.js';
import { errnoName } from '../errno.js';
import { AbortError, KCryptoError } from '../errors.js';
import * as C from '../framework/constants.js';
import type { Framework } from '../framework/framework.js';
import { CryptoDesc, CryptoOp } from '../framework/structures.js';
import type { KernelSessionStats } from '../kernel/bridge/engine/index.js';
import { systemError } from '../kernel/bridge/status.js';
import { dispatched, dispatchInTurn, withdraw, type Failing } from './turn-budget.js';
import { bufLength } from '../framework/driver.js';
import { invalidStateTypeError } from './node-errors.js';

const enum Settled {
  No,
  Value,
  Error,
}

/**
 * One API request in flight, its CryptoOp's `opaque`: the outcome is kept here when it comes
 * inside dispatch(), and handed to the promise made afterwards otherwise. A record rather than
 * closures: a small request's dispatch costs about as much as the few objects it makes.
 */
class Call implements Failing {
  state = Settled.No;
  value: unknown = undefined;
  resolve: ((v: unknown) => void) | null = null;
  reject: ((e: unknown) => void) | null = null;

  constructor(
    readonly session: FrameworkSession,
    readonly pick: (crp: CryptoOp) => unknown,
    /** The sid the request went out on: another request may have seen a move first. */
    public sent: bigint,
    /** The input's length when the request was made (see FrameworkSession.complete). */
    readonly bytes: number,
  ) {}

  /** The request was taken out of its driver's queue by its signal (see watch()), for this reason. */
  cancelled = false;
  reason: unknown = undefined;
  private unwatch: (() => void) | null = null;

  /**
   * Aborts the request `crp` when `signal` fires before it reaches a driver: taken out of the
   * turn's queue (never dispatched) or out of its driver's queue (it then completes with
   * ECANCELED, see complete()). A request a driver holds completes as it would have.
   */
  watch(signal: AbortSignal, crp: CryptoOp): void {
    const onAbort = (): void => {
      if (withdraw(crp)) {
        this.fail(abortError(signal));
        return;
      }
      // cancel() completes the request inside it when it can: complete() reads these then.
      this.cancelled = true;
      this.reason = signal.reason;
      if (!this.session.fw.cancel(crp)) this.cancelled = false;
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.unwatch = () => signal.removeEventListener('abort', onAbort);
  }

  settle(state: Settled.Value | Settled.Error, value: unknown): void {
    if (this.unwatch !== null) {
      this.unwatch();
      this.unwatch = null;
    }
    if (this.resolve === null) {
      this.state = state;
      this.value = value;
    } else if (state === Settled.Value) this.resolve(value);
    else this.reject!(value);
  }

  fail(err: unknown): void {
    this.settle(Settled.Error, err);
  }

  /**
   * ERR_INVALID_STATE when the caller's data was detached (its ArrayBuffer transferred) since
   * the request was made: a driver would read nothing, or memory no longer the caller's.
   */
  refusal(crp: CryptoOp): unknown {
    if (this.bytes === 0 || bufLength(crp.buf) === this.bytes) return undefined;
    return invalidStateTypeError('the data was detached (its ArrayBuffer transferred) before a driver read it');
  }
}

/** What a request aborted by `signal` rejects with. */
function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/** The callback of every API request (CryptoOp.callback): one function, the request in `opaque`. */
function completed(crp: CryptoOp): void {
  const call = crp.opaque as Call;
  call.session.complete(call, crp);
}

/** Requests of a routed session that go straight to one of its alternatives (the router's direct()). */
export interface Direct {
  /** That alternative's session. */
  sid: bigint;
  /** Requests with a buffer up to this long go there. */
  bytes: number;
  /** Hash streams (update, final) go there too. */
  streams: boolean;
}

/** What frees the framework session of an API session collected without close(). */
interface Held {
  readonly fw: Framework;
  sid: bigint;
}

/**
 * Frees the framework sessions of API sessions their program dropped without close(): the
 * framework's session table holds its sessions (and their drivers' descriptors) until
 * freeSession(), so without this a dropped session's sockets or /dev/crypto handles stayed open
 * for the life of the process.
 */
const unclosed = new FinalizationRegistry<Held>((h) => {
  h.fw.freeSession(h.sid).catch(() => {
    // gone already: nothing left to free
  });
});

/**
 * A framework session as the API holds it: it follows its session when the framework moves it.
 * A routed session's requests that routing can only send one way (`direct`) go straight there.
 */
export class FrameworkSession {
  private closed = false;
  private readonly eagain: number;
  private readonly ecanceled: number;
  /** The session's current sid, where the finalizer of an unclosed session finds it. */
  private readonly held: Held;

  constructor(
    readonly fw: Framework,
    sid: bigint,
    /** What `driver` reports (the kcrypto driver name). */
    readonly label: string,
    readonly direct: Direct | null = null,
  ) {
    this.eagain = fw.errno('EAGAIN');
    this.ecanceled = fw.errno('ECANCELED');
    this.held = { fw, sid };
    unclosed.register(this, this.held, this);
  }

  /** The framework session; it changes when the framework moves the session to another driver. */
  get sid(): bigint {
    return this.held.sid;
  }

  set sid(sid: bigint) {
    this.held.sid = sid;
  }

  get driver(): string {
    return this.fw.sessionInfo(this.sid)?.driver ?? this.label;
  }

  get maxRequestBytes(): number | undefined {
    return this.fw.sessionInfo(this.sid)?.maxRequestBytes;
  }

  get alignment(): number | undefined {
    return this.fw.sessionInfo(this.sid)?.alignment;
  }

  stats(): KernelSessionStats | undefined {
    return this.fw.sessionInfo(this.sid)?.stats?.() as KernelSessionStats | undefined;
  }

  /** The session a request over `bytes` with the descriptor `desc` goes to. */
  private target(bytes: number, desc: CryptoDesc): bigint {
    const d = this.direct;
    if (d === null || bytes > d.bytes) return this.sid;
    // A request that updates or finishes a hash stream goes where the stream is.
    return d.streams || (desc.flags & (C.CRD_F_KC_UPDATE | C.CRD_F_KC_FINAL)) === 0 ? d.sid : this.sid;
  }

  /**
   * Dispatches a request over `buf` with the descriptors `descs`; resolves with `pick` of the
   * completed request (the request itself by default), rejects with its error. A separate
   * output buffer is disposable (CRYPTO_F_KC_OBUF_DISPOSABLE): read `crp.obuf` of the completed
   * request, which is another buffer when the request had to be resubmitted.
   */
  run<T = CryptoOp>(
    buf: Uint8Array | Uint8Array[],
    /** Descriptors, in order (see descOf()). */
    descs: CryptoDesc[],
    mac: Uint8Array | null = null,
    obuf: Uint8Array | null = null,
    pick: (crp: CryptoOp) => T = (crp) => crp as T,
    /** Aborts the request while it has not reached a driver. */
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const bytes = bufLength(buf);
    const crp = new CryptoOp();
    crp.buf = buf;
    crp.obuf = obuf;
    crp.flags = (Array.isArray(buf) ? C.CRYPTO_F_IOV | C.CRYPTO_F_CBIMM : C.CRYPTO_F_CBIMM) | (obuf ? C.CRYPTO_F_KC_OBUF_DISPOSABLE : 0);
    crp.mac = mac;
    let prev: CryptoDesc | null = null;
    for (const desc of descs) {
      if (prev) prev.next = desc;
      else crp.desc = desc;
      prev = desc;
    }
    crp.sid = this.target(bytes, crp.desc!);
    const call = new Call(this, pick, crp.sid, bytes);
    crp.opaque = call;
    crp.callback = completed;
    dispatchInTurn(this.fw, crp, bytes);
    // Completed inside dispatch() (CRYPTO_F_CBIMM on a driver that ran it at once): no
    // executor, no resolving functions, one promise.
    if (call.state === Settled.Value) return Promise.resolve(call.value as T);
    if (call.state === Settled.Error) return Promise.reject(call.value);
    if (signal) call.watch(signal, crp);
    return new Promise<T>((resolve, reject) => {
      call.resolve = resolve as (v: unknown) => void;
      call.reject = reject;
    });
  }

  /** `crp`, a request of this session, completed (see Call). */
  complete(call: Call, crp: CryptoOp): void {
    if (crp.etype === 0) {
      try {
        call.settle(Settled.Value, call.pick(crp));
      } catch (err) {
        call.settle(Settled.Error, err);
      }
      return;
    }
    if (crp.etype === this.ecanceled && call.cancelled) {
      call.settle(Settled.Error, new AbortError(undefined, { cause: call.reason }));
      return;
    }
    if (crp.etype === this.eagain && crp.sid !== call.sent) {
      // The session moved to another driver: follow it and resubmit, with a fresh output
      // buffer (a late completion on the old one may still write the first).
      if (this.direct !== null && call.sent === this.direct.sid) this.direct.sid = crp.sid;
      else this.sid = crp.sid;
      call.sent = crp.sid;
      if (crp.obuf) crp.obuf = Buffer.allocUnsafe(crp.obuf.length);
      const refused = call.refusal(crp);
      if (refused !== undefined) call.settle(Settled.Error, refused);
      else this.fw.dispatch(crp);
      return;
    }
    // A failure of data detached after dispatch: the addon refused it as it crossed (the
    // addon's threads work on a copy taken then, see native/session_wrap.cc).
    call.settle(Settled.Error, call.refusal(crp) ?? this.error(crp));
  }

  private error(crp: CryptoOp): KCryptoError {
    const cause = failureOf(crp);
    if (cause instanceof KCryptoError) {
      if (cause.driver !== 'framework') return cause;
      // Raised by the descriptor semantics (a MAC that does not verify): name the driver.
      return new KCryptoError(
        cause.message,
        { code: cause.code, errno: cause.errno, syscall: cause.syscall, driver: this.driver },
        { cause },
      );
    }
    return systemError(crp.etype, 'crypto_dispatch', this.driver, `request failed with ${errnoName(crp.etype)}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    unclosed.unregister(this);
    // Requests made before close() and waiting for a later turn run first (close() waits for
    // every request made before it): freed under them, they would fail with EINVAL.
    const waiting = dispatched((crp) => (crp.opaque as Call | null)?.session === this);
    if (waiting) await waiting;
    // A routed session frees its alternatives, the direct one among them.
    await this.fw.freeSession(this.sid);
  }
}

/** A descriptor from the fields given: run() takes CryptoDesc objects only, one shape. */
function descOf(fields: Partial<CryptoDesc>): CryptoDesc {
  return Object.assign(new CryptoDesc(), fields);
}

/** `b` with what every backend has (see Backend); `driver` and the limits are read live. */
function live<B extends object>(s: FrameworkSession, b: B): B & Backend {
  return Object.defineProperties(b, {
    driver: { get: () => s.driver, enumerable: true },
    sid: { get: () => s.sid, enumerable: true },
    maxRequestBytes: { get: () => s.maxRequestBytes, enumerable: true },
    alignment: { get: () => s.alignment, enumerable: true },
    stats: { value: () => s.stats() },
    close: { value: () => s.close() },
  }) as B & Backend;
}

/** The MAC of a completed digest request (its crp.mac, the buffer it was given). */
const macOf = (crp: CryptoOp): Buffer => crp.mac as Buffer;
/** The separate output of a completed cipher request. */
const obufOf = (crp: CryptoOp): Buffer => crp.obuf as Buffer;
const ciphertextOf = (crp: CryptoOp): { ciphertext: Buffer } => ({ ciphertext: crp.obuf as Buffer });

/**
 * A plain cipher: the buffer is one region, the IV explicit and kept out of the buffer. The
 * caller's data is the input and a new buffer the separate output (CryptoOp.obuf), so the data
 * is neither copied nor changed.
 */
export function cipherBackend(s: FrameworkSession, alg: CipherAlgorithm): CipherBackend {
  const [id] = idsOf(alg);
  const run = <T>(
    encrypt: boolean,
    data: Uint8Array,
    iv: Uint8Array | null,
    pick: (crp: CryptoOp) => T,
    signal: AbortSignal | undefined,
  ): Promise<T> => {
    const desc = new CryptoDesc();
    desc.alg = id!;
    desc.len = data.length;
    desc.flags = (encrypt ? C.CRD_F_ENCRYPT : 0) | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT;
    if (iv) {
      desc.iv = iv;
      desc.ivLength = iv.length;
    }
    return s.run(data, [desc], null, Buffer.allocUnsafe(data.length), pick, signal);
  };
  return live(s, {
    encrypt: (data: Uint8Array, iv: Uint8Array | null, signal?: AbortSignal) => run(true, data, iv, ciphertextOf, signal),
    decrypt: (data: Uint8Array, iv: Uint8Array | null, signal?: AbortSignal) => run(false, data, iv, obufOf, signal),
  });
}

/**
 * An AEAD: buffer = AAD ‖ data ‖ tag. GCM, CCM and ChaCha20-Poly1305 pair the cipher with its
 * auth half over the AAD; authenc is AES-CBC then an HMAC over AAD ‖ ciphertext (verified,
 * then decrypted, on the way back).
 */
export function aeadBackend(s: FrameworkSession, alg: AeadAlgorithm, tagLength: number): AeadBackend {
  const [cid, aid] = idsOf(alg);
  const etm = alg.mode === 'authenc';
  const descs = (encrypt: boolean, aad: number, n: number, iv: Uint8Array): CryptoDesc[] => {
    const cipher: Partial<CryptoDesc> = {
      alg: cid!,
      skip: aad,
      len: n,
      flags: (encrypt ? C.CRD_F_ENCRYPT : 0) | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
      iv,
      ivLength: iv.length,
    };
    if (!etm) return [descOf(cipher), descOf({ alg: aid!, skip: 0, len: aad, inject: aad + n })];
    const mac = descOf({ alg: aid!, skip: 0, len: aad + n, inject: aad + n, flags: encrypt ? 0 : C.CRD_F_KC_VERIFY });
    return encrypt ? [descOf(cipher), mac] : [mac, descOf(cipher)];
  };
  return live(s, {
    // The lengths are read once, as the data is copied: the caller may detach its buffers
    // (transfer them) before the request settles, and a detached view's length is then 0.
    encrypt: (pt: Uint8Array, iv: Uint8Array, aad: Uint8Array, signal?: AbortSignal) => {
      const a = aad.length;
      const n = pt.length;
      const buf = Buffer.allocUnsafe(a + n + tagLength);
      buf.set(aad);
      buf.set(pt, a);
      return s.run(buf, descs(true, a, n, iv), null, null, undefined, signal).then(() => ({
        ciphertext: buf.subarray(a, a + n),
        tag: buf.subarray(a + n),
      }));
    },
    decrypt: (ct: Uint8Array, iv: Uint8Array, aad: Uint8Array, tag: Uint8Array, signal?: AbortSignal) => {
      const a = aad.length;
      const n = ct.length;
      const buf = Buffer.allocUnsafe(a + n + tag.length);
      buf.set(aad);
      buf.set(ct, a);
      buf.set(tag, a + n);
      return s.run(buf, descs(false, a, n, iv), null, null, undefined, signal).then(() => buf.subarray(a, a + n));
    },
  });
}

/** A hash or MAC: digests over the caller's buffers as an iovec; the running state via the KC flags. */
export function hashBackend(s: FrameworkSession, alg: HashAlgorithm | MacAlgorithm): HashBackend {
  const [id] = idsOf(alg);
  const length = (data: Uint8Array | Uint8Array[]): number => (Array.isArray(data) ? data.reduce((n, d) => n + d.length, 0) : data.length);
  const one = (data: Uint8Array | Uint8Array[]): Uint8Array | Uint8Array[] => (Array.isArray(data) && data.length === 1 ? data[0]! : data);
  return live(s, {
    digest: (data: Uint8Array | Uint8Array[], signal?: AbortSignal) => {
      const desc = new CryptoDesc();
      desc.alg = id!;
      desc.len = length(data);
      return s.run(one(data), [desc], Buffer.allocUnsafe(alg.digestLength), null, macOf, signal);
    },
    update: (data: Uint8Array | Uint8Array[], signal?: AbortSignal) =>
      s
        .run(one(data), [descOf({ alg: id!, skip: 0, len: length(data), flags: C.CRD_F_KC_UPDATE })], null, null, undefined, signal)
        .then(() => undefined),
    final: (signal?: AbortSignal) => {
      const out = Buffer.allocUnsafe(alg.digestLength);
      return s
        .run(new Uint8Array(0), [descOf({ alg: id!, skip: 0, len: 0, flags: C.CRD_F_KC_FINAL })], out, null, undefined, signal)
        .then(() => out);
    },
    copy: (): Promise<HashBackend> => s.fw.copySession(s.sid).then((sid) => hashBackend(new FrameworkSession(s.fw, sid, s.label), alg)),
  });
}

/** A DRBG: the buffer is filled. */
export function rngBackend(s: FrameworkSession): RngBackend {
  return live(s, {
    generate: (n: number, signal?: AbortSignal) => {
      const buf = Buffer.allocUnsafe(n);
      return s.run(buf, [descOf({ alg: C.CRYPTO_KC_STDRNG, skip: 0, len: n })], null, null, undefined, signal).then(() => buf);
    },
  });
}
