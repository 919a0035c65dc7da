/**
 * Sessions of the Node-style API. A session is one keyed transform on one driver; every method
 * validates its input the same way whatever the driver, so a program sees the same errors on
 * the software driver, through AF_ALG and on a device.
 */
import { Buffer, constants } from 'node:buffer';

import type { AeadAlgorithm, CipherAlgorithm, HashAlgorithm, MacAlgorithm, RngAlgorithm } from '../algorithms/catalog.js';
import type { KernelSessionStats } from '../kernel/bridge/engine/index.js';
import { invalid } from '../kernel/bridge/status.js';
import type { AeadBackend, Backend, CipherBackend, HashBackend, RngBackend } from './backends.js';
import { BYTES, DATA, invalidArgType, invalidAuthTag, invalidIv, outOfRange, unknownEncoding } from './node-errors.js';

/** Bytes accepted by session methods: any `ArrayBufferView` (a `Buffer`, a typed array, a `DataView`), read where it is. */
export type Bytes = ArrayBufferView;

/**
 * A request's data: bytes (any `ArrayBufferView`: a `Buffer`, a typed array, a `DataView`,
 * read where it is) or a string in the request's `encoding`, as node:crypto's `update()` takes.
 */
export type Data = string | ArrayBufferView;

abstract class BaseSession<B extends Backend> {
  protected closed = false;
  constructor(protected readonly backend: B) {}

  /** The kcrypto driver serving this session, e.g. `afalg:cbc-aes-aesni` or `software`. */
  get driver(): string {
    return this.backend.driver;
  }

  /**
   * The crypto(9) session id behind this session, for the `framework` calls (`stats()`,
   * `sessionInfo()`); it changes if the framework moves the session to another driver.
   */
  get frameworkSid(): bigint | undefined {
    return this.backend.sid;
  }

  protected live(): void {
    if (this.closed) throw invalid('EBADF', 'session is closed', this.driver);
  }

  protected bytes(name: string, v: unknown): Uint8Array {
    return bytesOf(name, v);
  }

  /** Request data (see Data) as bytes: a Uint8Array as it is, another view over the same memory. */
  protected data(name: string, v: unknown, encoding: BufferEncoding | undefined): Uint8Array {
    if (v instanceof Uint8Array) return v.length === 0 ? NO_BYTES : v;
    if (typeof v === 'string') return Buffer.from(v, encodingOf(encoding));
    if (ArrayBuffer.isView(v)) return viewOf(v);
    throw invalidArgType(name, DATA, v);
  }

  /**
   * Where this session's requests ran and what they cost: counts inline, on threads and
   * deferred, errors, bytes, requests in flight. Null on the software driver.
   */
  stats(): KernelSessionStats | null {
    return this.backend.stats() ?? null;
  }

  /** Releases the session once its requests have completed. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.close();
  }

  /** close(), for `await using session = await openSession(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Options every request takes. */
export interface RequestOptions {
  /**
   * Aborts the request while it has not reached a driver (it waits for a later turn, or in a
   * driver's queue): it rejects with an `AbortError` (`code` `'ABORT_ERR'`, the signal's reason
   * as `cause`). A request a driver holds completes as it would have.
   */
  signal?: AbortSignal;
}

/** Options of a request that carries data. */
export interface DataOptions extends RequestOptions {
  /** The encoding of string data (node:crypto's default: `'utf8'`). */
  encoding?: BufferEncoding;
}

/** No bytes: what an empty view, or one over a detached ArrayBuffer, stands for (a driver may not read the latter at all). */
const NO_BYTES = new Uint8Array(0);

/** `v` as bytes (any ArrayBufferView, viewed where it is), or node's ERR_INVALID_ARG_TYPE naming `name`. */
export function bytesOf(name: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v.length === 0 ? NO_BYTES : v;
  if (ArrayBuffer.isView(v)) return viewOf(v);
  throw invalidArgType(name, BYTES, v);
}

/**
 * A view's bytes, where they are. A view over a detached ArrayBuffer holds no bytes, as
 * node:crypto reads it; a DataView's byteOffset would throw there.
 */
function viewOf(v: ArrayBufferView): Uint8Array {
  if (v.buffer.byteLength === 0) return NO_BYTES;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** `encoding`, checked as Node checks one: a TypeError (`ERR_UNKNOWN_ENCODING`) unless Buffer knows it. */
function encodingOf(encoding: BufferEncoding | undefined): BufferEncoding {
  if (encoding === undefined) return 'utf8';
  if (!Buffer.isEncoding(encoding)) {
    throw unknownEncoding(encoding);
  }
  return encoding;
}

/** The `signal` of `options`, checked as Node checks one: a TypeError unless an AbortSignal. */
function signalOf(options: RequestOptions | undefined): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'AbortSignal', signal);
  }
  return signal;
}

/**
 * Runs validation and the backend call so that a validation error becomes a rejection, not a
 * synchronous throw, and a backend's answer given at once a resolved promise. Deliberately not
 * an async function: each extra promise costs measurably at small request sizes.
 */
function guarded<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    const r = fn();
    return r instanceof Promise ? r : Promise.resolve(r);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Output of {@link CipherSession.encrypt}. */
export interface CipherOutput {
  ciphertext: Buffer;
}

/** Options of a plain cipher request. */
export interface CipherRequestOptions extends DataOptions {
  /** 16 bytes for CBC, CTR and XTS; none for ECB. */
  iv?: Bytes;
}

/** An unauthenticated cipher (AES-CBC/CTR/ECB/XTS). Raw: no padding. */
export class CipherSession extends BaseSession<CipherBackend> {
  readonly kind = 'cipher' as const;
  constructor(
    readonly algorithm: CipherAlgorithm,
    backend: CipherBackend,
  ) {
    super(backend);
  }

  /**
   * Largest message one request may carry, when the driver cannot split it (XTS through
   * AF_ALG: the kernel's per-request memory limit); undefined when any length works.
   * Longer requests reject with `E2BIG`.
   */
  get maxRequestBytes(): number | undefined {
    return this.backend.maxRequestBytes;
  }

  /**
   * Input must be a multiple of this: the mode's block (16 for CBC and ECB, 1 for CTR and XTS),
   * or more where the driver is stricter (XTS through /dev/crypto takes whole blocks only).
   */
  get alignment(): number {
    return Math.max(this.algorithm.alignment, this.backend.alignment ?? 1);
  }

  private check(data: unknown, options: CipherRequestOptions | undefined): { data: Uint8Array; iv: Uint8Array | null } {
    this.live();
    const d = this.data('data', data, options?.encoding);
    const alg = this.algorithm;
    // Misuse first — the mode's own block and shortest input, the IV: the caller's to respect
    // on every driver — then what this driver answers (its request size, a stricter alignment).
    if (d.length % alg.alignment !== 0) throw outOfRange('data.length', `a multiple of ${alg.alignment}`, d.length);
    if (d.length < alg.minLength && d.length !== 0) throw outOfRange('data.length', `0 or >= ${alg.minLength}`, d.length);
    // As createCipheriv(): an undefined IV is of the wrong type, null is no IV.
    const iv = options?.iv;
    if (iv === undefined && alg.ivLength !== 0) throw invalidArgType('iv', BYTES, iv);
    const v = iv === undefined || iv === null ? null : this.bytes('iv', iv);
    if ((v?.length ?? 0) !== alg.ivLength) throw invalidIv();
    const max = this.backend.maxRequestBytes;
    if (max !== undefined && d.length > max)
      throw invalid(
        'E2BIG',
        `${alg.name}: ${d.length} bytes exceed the ${max} one request can carry on ${this.driver} (${alg.mode} cannot be split)`,
        this.driver,
      );
    const alignment = this.alignment;
    if (d.length % alignment !== 0)
      throw invalid(
        'EINVAL',
        `${alg.name}: input length ${d.length} is not a multiple of ${alignment}, what ${this.driver} takes`,
        this.driver,
      );
    return { data: d, iv: alg.ivLength === 0 ? null : v };
  }

  /**
   * Encrypts `data` (a whole number of blocks for CBC/ECB) into a new buffer. `data` is read
   * in place, not copied: leave it unchanged until the promise settles.
   */
  encrypt(data: Data, options?: CipherRequestOptions): Promise<CipherOutput> {
    // As guarded(), without its closure: this is every small request's path.
    try {
      const { data: d, iv } = this.check(data, options);
      return this.backend.encrypt(d, iv, signalOf(options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Decrypts `data` into a new buffer; as with encrypt(), leave `data` unchanged until then. */
  decrypt(data: Data, options?: CipherRequestOptions): Promise<Buffer> {
    try {
      const { data: d, iv } = this.check(data, options);
      return this.backend.decrypt(d, iv, signalOf(options));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

/** Output of {@link AeadSession.encrypt}. */
export interface AeadOutput {
  ciphertext: Buffer;
  tag: Buffer;
}

/** Options of an AEAD request. */
export interface AeadRequestOptions extends DataOptions {
  /** GCM and ChaCha20-Poly1305: 12 bytes; CCM: a 7–13 byte nonce; authenc: 16 bytes. */
  iv: Bytes;
  /** Associated data, authenticated but not encrypted. */
  aad?: Bytes;
}

/** Options of an AEAD decryption. */
export interface AeadDecryptOptions extends AeadRequestOptions {
  tag: Bytes;
}

/** An authenticated cipher (AES-GCM/CCM, ChaCha20-Poly1305, authenc(hmac(...),cbc(aes))). */
export class AeadSession extends BaseSession<AeadBackend> {
  readonly kind = 'aead' as const;
  constructor(
    readonly algorithm: AeadAlgorithm,
    readonly tagLength: number,
    backend: AeadBackend,
  ) {
    super(backend);
  }

  /**
   * Largest AAD + message + tag one request may carry through this driver (an AEAD cannot be
   * split; through AF_ALG the kernel's per-request memory limit, net.core.optmem_max, bounds
   * it); undefined when any length works. Longer requests reject with `E2BIG`.
   */
  get maxRequestBytes(): number | undefined {
    return this.backend.maxRequestBytes;
  }

  private check(data: unknown, options: AeadRequestOptions | undefined): { data: Uint8Array; iv: Uint8Array; aad: Uint8Array } {
    this.live();
    const d = this.data('data', data, options?.encoding);
    const alg = this.algorithm;
    const iv = options?.iv === null ? null : this.bytes('iv', options?.iv);
    if (iv === null || !alg.ivLengths.includes(iv.length)) throw invalidIv();
    const aad = options?.aad === undefined ? new Uint8Array(0) : this.bytes('aad', options.aad);
    if (alg.mode === 'authenc' && d.length % 16 !== 0) throw outOfRange('data.length', 'a multiple of 16', d.length);
    const max = this.backend.maxRequestBytes;
    const total = aad.length + d.length + this.tagLength;
    if (max !== undefined && total > max)
      throw invalid(
        'E2BIG',
        `${alg.name}: ${total} bytes of AAD, data and tag exceed the ${max} one request can carry on ${this.driver} (an AEAD cannot be split)`,
        this.driver,
      );
    return { data: d, iv, aad };
  }

  /** Encrypts and authenticates. */
  encrypt(plaintext: Data, options: AeadRequestOptions): Promise<AeadOutput> {
    return guarded(() => {
      const { data, iv, aad } = this.check(plaintext, options);
      return this.backend.encrypt(data, iv, aad, signalOf(options));
    });
  }

  /** Verifies and decrypts; rejects with code `EBADMSG` when the tag does not match. */
  decrypt(ciphertext: Data, options: AeadDecryptOptions): Promise<Buffer> {
    return guarded(() => {
      const { data, iv, aad } = this.check(ciphertext, options);
      const tag = this.bytes('tag', options.tag);
      if (tag.length !== this.tagLength) throw invalidAuthTag(tag.length);
      return this.backend.decrypt(data, iv, aad, tag, signalOf(options));
    });
  }
}

/** A hash or MAC: one-shot `digest()`, or `update()`…`final()` on the session's own state. */
export class HashSession extends BaseSession<HashBackend> {
  readonly kind = 'hash' as const;
  constructor(
    readonly algorithm: HashAlgorithm | MacAlgorithm,
    backend: HashBackend,
  ) {
    super(backend);
  }

  /** Length of a digest in bytes. */
  get digestLength(): number {
    return this.algorithm.digestLength;
  }

  /**
   * Largest message one digest() may carry through this driver, where the kernel takes a
   * message in one request and cannot continue a digest (FreeBSD and NetBSD /dev/crypto:
   * 256 KiB − 4); undefined when any length works. Longer messages reject with `E2BIG`.
   */
  get maxRequestBytes(): number | undefined {
    return this.backend.maxRequestBytes;
  }

  private input(data: unknown, options: DataOptions | undefined): Uint8Array | Uint8Array[] {
    this.live();
    const encoding = options?.encoding;
    if (Array.isArray(data)) return data.map((d, i) => this.data(`data[${i}]`, d, encoding));
    return this.data('data', data, encoding);
  }

  /** Digest of `data` (one buffer, or several taken in order). Independent of update()/final(). */
  digest(data: Data | Data[], options?: DataOptions): Promise<Buffer> {
    // As guarded(), without its closure: this is every small request's path.
    try {
      const d = this.input(data, options);
      const max = this.backend.maxRequestBytes;
      const n = Array.isArray(d) ? d.reduce((sum, x) => sum + x.length, 0) : d.length;
      if (max !== undefined && n > max)
        throw invalid(
          'E2BIG',
          `${this.algorithm.name}: ${n} bytes exceed the ${max} one digest can carry on ${this.driver} (the kernel cannot continue a digest)`,
          this.driver,
        );
      return this.backend.digest(d, signalOf(options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Feeds the incremental state. */
  update(data: Data | Data[], options?: DataOptions): Promise<void> {
    return guarded(() => this.backend.update(this.input(data, options), signalOf(options)));
  }

  /** Finishes the incremental state; the session is then ready for a new message. */
  final(options?: RequestOptions): Promise<Buffer> {
    return guarded(() => {
      this.live();
      return this.backend.final(signalOf(options));
    });
  }

  /** A new session holding a copy of the incremental state (the kernel clones it). */
  copy(): Promise<HashSession> {
    return guarded(() => {
      this.live();
      return this.backend.copy().then((b) => new HashSession(this.algorithm, b));
    });
  }
}

/** A random-number generator. */
export class RngSession extends BaseSession<RngBackend> {
  readonly kind = 'rng' as const;
  constructor(
    readonly algorithm: RngAlgorithm,
    backend: RngBackend,
  ) {
    super(backend);
  }

  /** `length` random bytes. */
  generate(length: number, options?: RequestOptions): Promise<Buffer> {
    return guarded(() => {
      this.live();
      if (typeof length !== 'number') throw invalidArgType('length', 'number', length);
      if (!Number.isInteger(length)) throw outOfRange('length', 'an integer', length);
      if (length < 0 || length > constants.MAX_LENGTH) throw outOfRange('length', `>= 0 && <= ${constants.MAX_LENGTH}`, length);
      return this.backend.generate(length, signalOf(options));
    });
  }
}

/** Any session. */
export type Session = CipherSession | AeadSession | HashSession | RngSession;
