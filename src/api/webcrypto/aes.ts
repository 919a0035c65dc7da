/**
 * AES-CBC, AES-CTR and AES-GCM as WebCrypto defines them, on kcrypto's raw cipher and AEAD
 * sessions: PKCS#7 padding for CBC, the counter block's low `length` bits wrapping for CTR,
 * ciphertext ‖ tag for GCM.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv } from 'node:crypto';

import type { DriverChoice } from '../open-session.js';
import type { AeadSession, CipherSession } from '../session.js';
import { domError } from './errors.js';
import { keyBytes, type KCryptoKey } from './key.js';
import type { Normalized } from './normalize.js';
import { withSession } from './sessions.js';
import { pkcs7Pad, pkcs7Unpad } from '../padding.js';

const BLOCK = 16;
const GCM_TAG_BITS: readonly number[] = [32, 64, 96, 104, 112, 120, 128];
/** The IV length kcrypto's GCM sessions take on every driver (the kernel's gcm(aes): 96 bits). */
const GCM_SESSION_IV = 12;

const failed = (): DOMException => domError('OperationError', 'The operation failed for an operation-specific reason');

async function cbc(key: KCryptoKey, iv: Uint8Array, data: Uint8Array, decrypt: boolean, driver: DriverChoice): Promise<Uint8Array> {
  if (iv.length !== BLOCK) throw domError('OperationError', 'algorithm.iv must contain exactly 16 bytes');
  if (decrypt && (data.length === 0 || data.length % BLOCK !== 0)) throw failed();
  const bytes = keyBytes(key);
  return withSession({ cipher: `aes-${bytes.length * 8}-cbc`, key: bytes }, driver, async (s) => {
    const session = s as CipherSession;
    if (!decrypt) return (await session.encrypt(pkcs7Pad(data), { iv })).ciphertext;
    const plain = pkcs7Unpad(await session.decrypt(data, { iv }));
    if (plain === null) throw failed();
    return plain;
  });
}

/**
 * AES-CTR: the counter block's low `length` bits count blocks and wrap to zero, leaving the
 * rest alone, where kcrypto's ctr(aes) carries into all 128 bits. A message that would wrap is
 * sent as two requests, the second from the wrapped counter block.
 */
async function ctr(key: KCryptoKey, counter: Uint8Array, length: number, data: Uint8Array, driver: DriverChoice): Promise<Uint8Array> {
  if (counter.length !== BLOCK) throw domError('OperationError', 'algorithm.counter must contain exactly 16 bytes');
  if (length === 0 || length > 128) throw domError('OperationError', 'AES-CTR algorithm.length must be between 1 and 128');
  const blocks = BigInt(Math.ceil(data.length / BLOCK));
  const modulus = 1n << BigInt(length);
  if (blocks > modulus) throw failed();
  const whole = BigInt(`0x${Buffer.from(counter).toString('hex')}`);
  const low = whole & (modulus - 1n);
  const untilWrap = modulus - low;
  const bytes = keyBytes(key);
  return withSession({ cipher: `aes-${bytes.length * 8}-ctr`, key: bytes }, driver, async (s) => {
    const session = s as CipherSession;
    if (blocks <= untilWrap) return (await session.encrypt(data, { iv: counter })).ciphertext;
    const split = Number(untilWrap) * BLOCK;
    const wrapped = Buffer.from((whole - low).toString(16).padStart(32, '0'), 'hex');
    const [a, b] = await Promise.all([
      session.encrypt(data.subarray(0, split), { iv: counter }),
      session.encrypt(data.subarray(split), { iv: wrapped }),
    ]);
    return Buffer.concat([a.ciphertext, b.ciphertext]);
  });
}

/**
 * AES-GCM with an IV longer than 96 bits: kcrypto's sessions (after the kernel's gcm(aes)) take
 * 96-bit IVs only, so node:crypto computes these in this process whatever the driver.
 */
function gcmInProcess(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, tagBytes: number, data: Uint8Array, decrypt: boolean): Uint8Array {
  const name = `aes-${key.length * 8}-gcm` as 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
  if (!decrypt) {
    const c = createCipheriv(name, key, iv, { authTagLength: tagBytes }).setAAD(aad);
    return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
  }
  const d = createDecipheriv(name, key, iv, { authTagLength: tagBytes }).setAAD(aad);
  d.setAuthTag(data.subarray(data.length - tagBytes));
  try {
    return Buffer.concat([d.update(data.subarray(0, data.length - tagBytes)), d.final()]);
  } catch {
    throw failed();
  }
}

async function gcm(key: KCryptoKey, alg: Normalized, data: Uint8Array, decrypt: boolean, driver: DriverChoice): Promise<Uint8Array> {
  const tagBits = alg.tagLength ?? 128;
  if (!GCM_TAG_BITS.includes(tagBits)) throw domError('OperationError', `${tagBits} is not a valid AES-GCM tag length`);
  const iv = alg.iv!;
  // Node 20 refuses IVs shorter than 96 bits (its OpenSSL will not set them): so does this.
  if (iv.length < GCM_SESSION_IV) throw failed();
  const tagBytes = tagBits / 8;
  if (decrypt && data.length < tagBytes) throw domError('OperationError', 'The provided data is too small.');
  const aad = alg.additionalData ?? new Uint8Array(0);
  const bytes = keyBytes(key);
  if (iv.length !== GCM_SESSION_IV) return gcmInProcess(bytes, iv, aad, tagBytes, data, decrypt);
  const run = async (session: AeadSession): Promise<Uint8Array> => {
    if (!decrypt) {
      const out = await session.encrypt(data, { iv, aad });
      return Buffer.concat([out.ciphertext, out.tag]);
    }
    const cut = data.length - tagBytes;
    return session.decrypt(data.subarray(0, cut), { iv, aad, tag: data.subarray(cut) });
  };
  const spec = { cipher: `aes-${bytes.length * 8}-gcm`, key: bytes, tagLength: tagBytes };
  return withSession(spec, driver, (s) => {
    const session = s as AeadSession;
    const max = session.maxRequestBytes;
    // An AEAD request cannot be split: one the driver cannot carry whole (through AF_ALG, the
    // kernel's per-request memory limit) runs on the software driver rather than fail.
    if (max !== undefined && aad.length + data.length + (decrypt ? 0 : tagBytes) > max)
      return withSession(spec, 'software', (sw) => run(sw as AeadSession));
    return run(session);
  });
}

/** encrypt() or decrypt() with an AES key, the key and algorithm already checked against each other. */
export function aesCipher(alg: Normalized, key: KCryptoKey, data: Uint8Array, decrypt: boolean, driver: DriverChoice): Promise<Uint8Array> {
  if (alg.name === 'AES-CBC') return cbc(key, alg.iv!, data, decrypt, driver);
  if (alg.name === 'AES-CTR') return ctr(key, alg.counter!, alg.length!, data, driver);
  return gcm(key, alg, data, decrypt, driver);
}
