/**
 * The "key, pad, data, key" keyed digests CRYPTO_MD5_KPDK and CRYPTO_SHA1_KPDK: the keyed MD5
 * of RFC 1828 and keyed SHA-1 of RFC 1852,
 *
 *   H(key ‖ keyfill ‖ data ‖ key),
 *
 * where keyfill is the hash's own padding of the key alone (0x80, zeros, the key's length in
 * bits), so that the data starts on a 64-byte block boundary. That is what OpenBSD's cryptosoft
 * computes: at newsession it hashes the key and calls Final(NULL) to pad without producing a
 * digest, and per request it hashes the data, then the saved key, then finishes.
 *
 * FreeBSD's copy of that code (sys/opencrypto/cryptosoft.c, swcr_authprepare) diverges by
 * accident: it passes a buffer to Final(), and its MD5Final() then zeroes the context (the data
 * is hashed from a zero state), while its SHA-1 padding does not count the keyfill bytes (the
 * final length field omits them). kcrypto follows the RFCs and OpenBSD.
 */
import { Buffer } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';

/** The hashes KPDK is defined over. */
export type KpdkHash = 'md5' | 'sha1';

/** Digest length of each KPDK (MD5_KPDK_HASH_LEN, SHA1_KPDK_HASH_LEN). */
export const KPDK_LENGTH: Readonly<Record<KpdkHash, number>> = { md5: 16, sha1: 20 };

/**
 * The hash's padding of a message of `length` bytes: 0x80, zeros up to 56 mod 64, then the
 * length in bits as 64 bits (little-endian for MD5, big-endian for SHA-1).
 */
export function keyfill(hash: KpdkHash, length: number): Buffer {
  const zeros = (55 - (length % 64) + 64) % 64;
  const fill = Buffer.alloc(1 + zeros + 8);
  fill[0] = 0x80;
  const bits = BigInt(length) * 8n;
  if (hash === 'md5') fill.writeBigUInt64LE(bits, 1 + zeros);
  else fill.writeBigUInt64BE(bits, 1 + zeros);
  return fill;
}

/** A running KPDK: the key and its fill are hashed at the start, the key again at the end. */
export class KpdkState {
  private readonly key: Buffer;

  constructor(
    private readonly hash: KpdkHash,
    key: Uint8Array,
    private readonly h: Hash = createHash(hash).update(key).update(keyfill(hash, key.length)),
  ) {
    this.key = Buffer.from(key);
  }

  update(data: Uint8Array): void {
    this.h.update(data);
  }

  digest(): Buffer {
    return this.h.update(this.key).digest();
  }

  copy(): KpdkState {
    return new KpdkState(this.hash, this.key, this.h.copy());
  }
}

/** H(key ‖ keyfill ‖ data ‖ key); `data` may come in pieces. */
export function kpdk(hash: KpdkHash, key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Buffer {
  const s = new KpdkState(hash, key);
  const pieces: readonly Uint8Array[] = data instanceof Uint8Array ? [data] : data;
  for (const piece of pieces) s.update(piece);
  return s.digest();
}
