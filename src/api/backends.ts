/**
 * What a session of the Node-style API asks of its backend (framework-backend.ts makes them,
 * over framework sessions). `driver`, `sid` and the limits are read live: a session can move to
 * another driver. Every request takes an optional `signal` that aborts it while it has not
 * reached a driver.
 */
import type { KernelSessionStats } from '../kernel/bridge/engine/index.js';

/** What every backend has. */
export interface Backend {
  /** The kcrypto driver serving the session now. */
  readonly driver: string;
  /** The crypto(9) session behind it. */
  readonly sid: bigint;
  /** Largest message one request may carry where the driver cannot split it. */
  readonly maxRequestBytes?: number | undefined;
  /** Input must be a multiple of this where the driver is stricter than the mode. */
  readonly alignment?: number | undefined;
  /** Where requests ran and what they cost (kernel drivers); undefined on the software driver. */
  stats(): KernelSessionStats | undefined;
  close(): Promise<void>;
}

/** Ciphertext and tag of an AEAD encryption. */
export interface AeadOutput {
  ciphertext: Buffer;
  tag: Buffer;
}

/** An unauthenticated cipher. */
export interface CipherBackend extends Backend {
  encrypt(data: Uint8Array, iv: Uint8Array | null, signal?: AbortSignal): Promise<{ ciphertext: Buffer }>;
  decrypt(data: Uint8Array, iv: Uint8Array | null, signal?: AbortSignal): Promise<Buffer>;
}

/** An authenticated cipher. */
export interface AeadBackend extends Backend {
  encrypt(plaintext: Uint8Array, iv: Uint8Array, aad: Uint8Array, signal?: AbortSignal): Promise<AeadOutput>;
  /** Rejects with code `EBADMSG` when the tag does not verify. */
  decrypt(ciphertext: Uint8Array, iv: Uint8Array, aad: Uint8Array, tag: Uint8Array, signal?: AbortSignal): Promise<Buffer>;
}

/** A hash or MAC: one-shot digests, and one incremental state. */
export interface HashBackend extends Backend {
  digest(data: Uint8Array | Uint8Array[], signal?: AbortSignal): Promise<Buffer>;
  update(data: Uint8Array | Uint8Array[], signal?: AbortSignal): Promise<void>;
  /** Finishes the incremental state and resets it for a new message. */
  final(signal?: AbortSignal): Promise<Buffer>;
  /** An independent copy of the incremental state. */
  copy(): Promise<HashBackend>;
}

/** A random-number generator. */
export interface RngBackend extends Backend {
  generate(length: number, signal?: AbortSignal): Promise<Buffer>;
}
