/**
 * What a framework driver computes with, per algorithm of a session: the primitives the
 * descriptor executor (descriptor-executor.ts) drives. A software driver's transforms return
 * values (the request completes inside process(), CRYPTOCAP_F_SYNC); a kernel driver's return
 * promises. Failures are thrown as KCryptoError (EBADMSG for a failed tag).
 */

/** A value now, or later. */
export type Maybe<T> = T | Promise<T>;

/** Runs `next` on the value of `x`: at once when `x` is a value, when it settles otherwise. */
export function then<T, U>(x: Maybe<T>, next: (v: T) => Maybe<U>): Maybe<U> {
  return x instanceof Promise ? x.then(next) : next(x);
}

/**
 * A cipher. `key` is a per-request key (CRD_F_KEY_EXPLICIT), else the session's is used.
 * `into`, as long as `data` (and possibly `data` itself), is where the output is wanted; a
 * transform that can write there returns it, one that cannot returns its own buffer.
 */
export interface CipherTransform {
  kind: 'cipher';
  /**
   * Nothing is written into `into` once the request's kernel session was abandoned (a device's
   * requests: the engine has the kernel write into a buffer of its own and copies the result
   * out only while the session lives), so a request handed back with EAGAIN can be resubmitted
   * with the same output buffer at once.
   */
  guardsOutput?: boolean;
  /** `intoDisposable`: the caller never reads `into` after a failure, so it needs no guard. */
  run(
    encrypt: boolean,
    iv: Uint8Array,
    data: Uint8Array,
    key: Uint8Array | null,
    into?: Buffer,
    intoDisposable?: boolean,
  ): Maybe<Uint8Array>;
  close(): Maybe<void>;
}

/** A hash or MAC, with a running state for incremental hashing. */
export interface AuthTransform {
  kind: 'auth';
  digestLength: number;
  /**
   * The digest of `data` (gathered in order). GMAC alone takes its IV here. `into`, as long as
   * the digest, is where it is wanted; a transform that can write there returns it, one that
   * cannot returns its own buffer.
   */
  digest(data: Uint8Array | Uint8Array[], key: Uint8Array | null, iv: Uint8Array | null, into?: Buffer): Maybe<Uint8Array>;
  update(data: Uint8Array[]): Maybe<void>;
  /** Finishes the running state and resets it. */
  final(): Maybe<Uint8Array>;
  /** A transform with a copy of the running state (cryptodev-linux's CIOCCPHASH). */
  copy(): Maybe<AuthTransform>;
  close(): Maybe<void>;
}

/** An AEAD cipher (with its paired auth algorithm). */
export interface AeadTransform {
  kind: 'aead';
  seal(
    iv: Uint8Array,
    aad: Uint8Array,
    data: Uint8Array,
    tagLength: number,
    key: Uint8Array | null,
  ): Maybe<{ out: Uint8Array; tag: Uint8Array }>;
  /** Throws a KCryptoError with code EBADMSG when the tag does not verify. */
  open(iv: Uint8Array, aad: Uint8Array, data: Uint8Array, tag: Uint8Array, key: Uint8Array | null): Maybe<Uint8Array>;
  /** Largest AAD + data + tag one request may carry (0: no limit). */
  maxRequest?: number;
  close(): Maybe<void>;
}

/** A random bit generator. */
export interface RngTransform {
  kind: 'rng';
  generate(length: number): Maybe<Uint8Array>;
  close(): Maybe<void>;
}

/** Compression (DEFLATE). */
export interface CompTransform {
  kind: 'comp';
  run(compress: boolean, data: Uint8Array): Maybe<Uint8Array>;
  close(): Maybe<void>;
}

export type Transform = CipherTransform | AuthTransform | AeadTransform | RngTransform | CompTransform;

/** FreeBSD's XTS IV is the 64-bit block number; Linux and node take the 16-byte tweak it starts. */
export function xtsTweak(iv: Uint8Array): Uint8Array {
  if (iv.length !== 8) return iv;
  const t = new Uint8Array(16);
  t.set(iv);
  return t;
}
