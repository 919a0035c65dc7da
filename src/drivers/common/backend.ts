import type { KernelSessionStats } from '../../kernel/bridge/engine/index.js';
import type { Maybe } from './transforms.js';

/**
 * What a driver provides for one open session. The API layer validates input (sizes,
 * alignment) before calling a backend, so backends only format and run requests. The requests
 * every small message makes (encrypt, decrypt, digest) may answer at once, with the value or a
 * thrown KCryptoError, when they ran inline: a promise per layer is most of a small request's
 * cost.
 */

/** What every backend has. */
interface BackendBase {
  readonly driver: string;
  /** The crypto(9) session behind it, when it runs through the framework. */
  readonly sid?: bigint;
  /**
   * A device's kernel session: settles once its open (bind, keys) has run on the device lane,
   * rejecting with what failed. Absent where the session opened whole.
   */
  readonly ready?: Promise<void>;
}

/** An unauthenticated cipher session. */
export interface CipherBackend extends BackendBase {
  /** Largest message one request may carry when the mode cannot be split (XTS). */
  readonly maxRequestBytes?: number;
  /** Input must be a multiple of this when the driver is stricter than the mode. */
  readonly alignment?: number;
  /** `into` is never written after the session was abandoned (see CipherTransform.guardsOutput). */
  readonly guardsOutput?: boolean;
  /** Kernel drivers: where requests ran and what they cost. */
  stats?(): KernelSessionStats;
  /**
   * `into`, when given, receives the output (as long as `data`, and may be `data` itself: the
   * engines take in-place requests) and is what the promise gives back; otherwise the output
   * is a new buffer. `intoDisposable`: the caller never reads `into` after a failure, so a
   * backend that guards its output (`guardsOutput`) need not for this request.
   */
  encrypt(data: Uint8Array, iv: Uint8Array | null, into?: Buffer, intoDisposable?: boolean): Maybe<{ ciphertext: Buffer }>;
  decrypt(data: Uint8Array, iv: Uint8Array | null, into?: Buffer, intoDisposable?: boolean): Maybe<Buffer>;
  close(): Promise<void>;
}

/** Ciphertext and tag of an AEAD encryption. */
export interface AeadOutput {
  ciphertext: Buffer;
  tag: Buffer;
}

/** An authenticated cipher session. */
export interface AeadBackend extends BackendBase {
  /** Largest AAD + message + tag one request may carry (the kernel cannot split an AEAD). */
  readonly maxRequestBytes?: number;
  /** Kernel drivers: where requests ran and what they cost. */
  stats?(): KernelSessionStats;
  encrypt(plaintext: Uint8Array, iv: Uint8Array, aad: Uint8Array): Promise<AeadOutput>;
  /** Rejects with code `EBADMSG` when the tag does not verify. */
  decrypt(ciphertext: Uint8Array, iv: Uint8Array, aad: Uint8Array, tag: Uint8Array): Promise<Buffer>;
  close(): Promise<void>;
}

/** A hash or MAC session: one-shot digests, and one incremental state. */
export interface HashBackend extends BackendBase {
  /** Largest message one digest may carry, where a digest cannot be continued (BSD /dev/crypto). */
  readonly maxRequestBytes?: number;
  /** Kernel drivers: where requests ran and what they cost. */
  stats?(): KernelSessionStats;
  /** `into`, as long as the digest, receives it when given, and is what is given back. */
  digest(data: Uint8Array | Uint8Array[], into?: Buffer): Maybe<Buffer>;
  update(data: Uint8Array | Uint8Array[]): Promise<void>;
  /** Finishes the incremental state and resets it for a new message. */
  final(): Promise<Buffer>;
  /** An independent copy of the incremental state. */
  copy(): Promise<HashBackend>;
  close(): Promise<void>;
}

/** A random-number generator session. */
export interface RngBackend extends BackendBase {
  /** Kernel drivers: where requests ran and what they cost. */
  stats?(): KernelSessionStats;
  generate(length: number): Promise<Buffer>;
  close(): Promise<void>;
}
