/**
 * Ciphers in TypeScript, for cryptosoft: the ones OpenSSL 3 keeps in its legacy provider
 * (DES, Blowfish, CAST-128, ARC4) or never had (Skipjack). A block cipher is a key schedule
 * plus one-block encrypt/decrypt; cbc() turns it into what cryptosoft runs per request.
 */
import { invalid } from '../../../kernel/bridge/status.js';

/** A keyed block cipher: one block at a time, `src` and `dst` may be the same bytes. */
export interface BlockCipher {
  readonly blockSize: number;
  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void;
  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void;
}

/** A block cipher algorithm: its key lengths and its key schedule. */
export interface BlockCipherAlgorithm {
  readonly name: string;
  readonly blockSize: number;
  /** Whether the algorithm takes a key of `bytes` bytes. */
  keyLength(bytes: number): boolean;
  /** Runs the key schedule; a key of a length the algorithm does not take is EINVAL. */
  create(key: Uint8Array): BlockCipher;
}

/**
 * A cipher as cryptosoft runs it: keyed once per session (or per request with
 * CRD_F_KEY_EXPLICIT), then one call per request.
 */
export interface SoftCipher {
  readonly name: string;
  /** Whether cryptosoft accepts a key of `bytes` bytes (FreeBSD's limits). */
  keyLength(bytes: number): boolean;
  init(key: Uint8Array): SoftCipherContext;
}

/** A keyed SoftCipher. */
export interface SoftCipherContext {
  /** Encrypts or decrypts `data` (whole blocks) from `iv`; returns new bytes. */
  run(encrypt: boolean, iv: Uint8Array, data: Uint8Array): Uint8Array;
}

/** Throws EINVAL unless `alg` takes a key of `key.length` bytes. */
export function checkKey(alg: { name: string; keyLength(bytes: number): boolean }, key: Uint8Array): void {
  if (!alg.keyLength(key.length)) throw invalid('EINVAL', `${alg.name}: no ${key.length}-byte keys`, 'cryptosoft');
}

/** The big-endian 32-bit word at `off`. */
export function be32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Stores `v` big-endian at `off`. */
export function putBe32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}

/** Words of a hex string (tables kept compact in the source). */
export function wordsOfHex(hex: string): Uint32Array {
  const out = new Uint32Array(hex.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 8, i * 8 + 8), 16);
  return out;
}

function checkCbc(c: BlockCipher, iv: Uint8Array, data: Uint8Array): void {
  if (data.length % c.blockSize !== 0)
    throw invalid('EINVAL', `CBC: ${data.length} bytes is not a whole number of ${c.blockSize}-byte blocks`, 'cryptosoft');
  if (iv.length < c.blockSize) throw invalid('EINVAL', `CBC: a ${iv.length}-byte IV`, 'cryptosoft');
}

/** CBC encryption of whole blocks. */
export function cbcEncrypt(c: BlockCipher, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkCbc(c, iv, data);
  const n = c.blockSize;
  const out = new Uint8Array(data.length);
  let prev: Uint8Array = iv;
  let prevOff = 0;
  for (let off = 0; off < data.length; off += n) {
    for (let i = 0; i < n; i++) out[off + i] = data[off + i]! ^ prev[prevOff + i]!;
    c.encryptBlock(out, off, out, off);
    prev = out;
    prevOff = off;
  }
  return out;
}

/** CBC decryption of whole blocks. */
export function cbcDecrypt(c: BlockCipher, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkCbc(c, iv, data);
  const n = c.blockSize;
  const out = new Uint8Array(data.length);
  for (let off = 0; off < data.length; off += n) {
    c.decryptBlock(data, off, out, off);
    // The previous ciphertext block is read from `data`, which is never written.
    const prev = off === 0 ? iv : data;
    const prevOff = off === 0 ? 0 : off - n;
    for (let i = 0; i < n; i++) out[off + i] = out[off + i]! ^ prev[prevOff + i]!;
  }
  return out;
}

/**
 * `alg` in CBC mode, as cryptosoft's swcr_encdec() chains FreeBSD's block ciphers;
 * `keyLength` narrows the key lengths to what cryptosoft accepts.
 */
export function cbc(alg: BlockCipherAlgorithm, keyLength: (bytes: number) => boolean = (b) => alg.keyLength(b)): SoftCipher {
  return {
    name: `${alg.name}-CBC`,
    keyLength: (b) => keyLength(b) && alg.keyLength(b),
    init(key) {
      const c = alg.create(key);
      return { run: (encrypt, iv, data) => (encrypt ? cbcEncrypt(c, iv, data) : cbcDecrypt(c, iv, data)) };
    },
  };
}
