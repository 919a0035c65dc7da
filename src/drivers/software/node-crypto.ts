/**
 * The software driver's transforms: node:crypto (OpenSSL) in the calling process, synchronous.
 * cryptosoft (the framework's software driver) computes with these; the legacy ciphers
 * OpenSSL 3 keeps out of its default provider are in ./legacy/.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHash, randomBytes, type CipherCCMTypes, type Hash } from 'node:crypto';

import type { HashAlgorithm } from '../../algorithms/catalog.js';
import { KCryptoError } from '../../errors.js';
import { errnoOf } from '../../errno.js';
import type { AeadTransform, AuthTransform, CipherTransform, RngTransform } from '../common/transforms.js';

/** The software driver's name. */
export const SOFTWARE_DRIVER = 'software';

// A zero-length view may carry a null data pointer, which OpenSSL's CCM treats as "no update
// call" and then fails with "tag not set"; always hand it a real empty buffer.
const EMPTY = Buffer.alloc(0);
function nonEmpty(b: Uint8Array): Uint8Array {
  return b.length === 0 ? EMPTY : b;
}

/** Maps an OpenSSL failure to a KCryptoError (EINVAL unless it is a failed tag). */
export function softwareError(err: unknown, what: string, code = 'EINVAL'): KCryptoError {
  return new KCryptoError(
    `${what}: ${(err as Error).message}`,
    { code, errno: errnoOf(code), syscall: 'openssl', driver: SOFTWARE_DRIVER },
    { cause: err },
  );
}

function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw err instanceof KCryptoError ? err : softwareError(err, what);
  }
}

/**
 * A node:crypto cipher. `nodeIv` builds node's IV from the request's (FreeBSD's 8-byte XTS
 * block number becomes a 16-byte tweak). The key is checked at open, as a kernel setkey does.
 */
export function softwareCipher(name: string, key: Uint8Array, ivLength: number, nodeIv?: (iv: Uint8Array) => Uint8Array): CipherTransform {
  const k = Buffer.from(key);
  const ivOf = (iv: Uint8Array): Uint8Array | null =>
    iv.length === 0 ? (ivLength === 0 ? null : Buffer.alloc(ivLength)) : nodeIv ? nodeIv(iv) : iv;
  guard(`${name} key`, () => createCipheriv(name, k, ivLength === 0 ? null : ivOf(Buffer.alloc(ivLength))));
  return {
    kind: 'cipher',
    run: (encrypt, iv, data, key2) =>
      guard(name, () => {
        const c = encrypt ? createCipheriv(name, key2 ?? k, ivOf(iv)) : createDecipheriv(name, key2 ?? k, ivOf(iv));
        c.setAutoPadding(false);
        const out = c.update(data);
        const last = c.final();
        return last.length === 0 ? out : Buffer.concat([out, last]);
      }),
    close: () => {
      k.fill(0);
    },
  };
}

/** A node:crypto AEAD (GCM, CCM, ChaCha20-Poly1305); CCM takes its nonce as the IV. */
export function softwareAead(name: string, key: Uint8Array, ccm: boolean): AeadTransform {
  const k = Buffer.from(key);
  guard(`${name} key`, () => createCipheriv(name as CipherCCMTypes, k, Buffer.alloc(12), { authTagLength: 16 }));
  return {
    kind: 'aead',
    seal: (iv, aad, data, tagLength, key2) =>
      guard(name, () => {
        const c = createCipheriv(name as CipherCCMTypes, key2 ?? k, iv, { authTagLength: tagLength });
        if (aad.length > 0 || ccm) c.setAAD(aad, { plaintextLength: data.length });
        const out = Buffer.concat([c.update(nonEmpty(data)), c.final()]);
        return { out, tag: c.getAuthTag() };
      }),
    open: (iv, aad, data, tag, key2) =>
      guard(name, () => {
        const d = createDecipheriv(name as CipherCCMTypes, key2 ?? k, iv, { authTagLength: tag.length });
        d.setAuthTag(tag);
        if (aad.length > 0 || ccm) d.setAAD(aad, { plaintextLength: data.length });
        const out = d.update(nonEmpty(data));
        try {
          return Buffer.concat([out, d.final()]);
        } catch (err) {
          out.fill(0);
          throw softwareError(err, `${name} tag`, 'EBADMSG');
        }
      }),
    close: () => {
      k.fill(0);
    },
  };
}

/** Incremental state of a software hash or MAC, copyable. */
export interface SoftwareState {
  update(data: Uint8Array): void;
  digest(): Buffer;
  copy(): SoftwareState;
}

class SoftwareHash implements SoftwareState {
  constructor(
    private readonly alg: HashAlgorithm,
    private h: Hash = createHash(alg.name),
  ) {}
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digest(): Buffer {
    return this.h.digest();
  }
  copy(): SoftwareState {
    return new SoftwareHash(this.alg, this.h.copy());
  }
}

/** HMAC built from two hash states, so that its state can be copied (node's Hmac cannot). */
class SoftwareHmac implements SoftwareState {
  private inner: Hash;
  private readonly outerKey: Buffer;
  constructor(
    private readonly alg: HashAlgorithm,
    key: Uint8Array,
    inner?: Hash,
    outerKey?: Buffer,
  ) {
    if (inner && outerKey) {
      this.inner = inner;
      this.outerKey = outerKey;
      return;
    }
    const copy = Buffer.from(key);
    const k = copy.length > alg.blockLength ? createHash(alg.name).update(copy).digest() : copy;
    const padded = Buffer.alloc(alg.blockLength);
    k.copy(padded);
    const ipad = Buffer.from(padded.map((b) => b ^ 0x36));
    this.outerKey = Buffer.from(padded.map((b) => b ^ 0x5c));
    this.inner = createHash(alg.name).update(ipad);
    copy.fill(0);
    k.fill(0);
    padded.fill(0);
    ipad.fill(0);
  }
  update(data: Uint8Array): void {
    this.inner.update(data);
  }
  digest(): Buffer {
    return createHash(this.alg.name).update(this.outerKey).update(this.inner.digest()).digest();
  }
  copy(): SoftwareState {
    return new SoftwareHmac(this.alg, Buffer.alloc(0), this.inner.copy(), this.outerKey);
  }
}

/** AES-CMAC (NIST SP 800-38B): node:crypto has no CMAC, so it is built on AES-CBC. */
class SoftwareCmac implements SoftwareState {
  private static readonly ZERO = Buffer.alloc(16);
  constructor(
    private readonly key: Buffer,
    private x: Buffer = Buffer.alloc(16),
    private pending: Buffer = Buffer.alloc(0),
  ) {}
  private get cipher(): string {
    return `aes-${this.key.length * 8}-cbc`;
  }
  update(data: Uint8Array): void {
    const all = Buffer.concat([this.pending, data]);
    // The last block (complete or not) is held back: it is mixed with a subkey at the end.
    const keep = all.length === 0 ? 0 : all.length % 16 === 0 ? 16 : all.length % 16;
    const full = all.subarray(0, all.length - keep);
    if (full.length > 0) {
      const c = createCipheriv(this.cipher, this.key, this.x);
      c.setAutoPadding(false);
      const out = c.update(full);
      this.x = Buffer.from(out.subarray(out.length - 16));
    }
    this.pending = Buffer.from(all.subarray(all.length - keep));
  }
  digest(): Buffer {
    const l = this.encryptBlock(SoftwareCmac.ZERO);
    const k1 = SoftwareCmac.double(l);
    const last = Buffer.alloc(16);
    let sub: Buffer;
    if (this.pending.length === 16) {
      this.pending.copy(last);
      sub = k1;
    } else {
      this.pending.copy(last);
      last[this.pending.length] = 0x80;
      sub = SoftwareCmac.double(k1);
    }
    for (let i = 0; i < 16; i++) last[i] = last[i]! ^ sub[i]! ^ this.x[i]!;
    const tag = this.encryptBlock(last);
    this.x = Buffer.alloc(16);
    this.pending = Buffer.alloc(0);
    return tag;
  }
  copy(): SoftwareState {
    return new SoftwareCmac(this.key, Buffer.from(this.x), Buffer.from(this.pending));
  }
  private encryptBlock(block: Buffer): Buffer {
    const c = createCipheriv(`aes-${this.key.length * 8}-ecb`, this.key, null);
    c.setAutoPadding(false);
    return c.update(block);
  }
  private static double(b: Buffer): Buffer {
    const out = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) out[i] = ((b[i]! << 1) | (i < 15 ? b[i + 1]! >> 7 : 0)) & 0xff;
    if (b[0]! & 0x80) out[15] = out[15]! ^ 0x87;
    return out;
  }
}

/**
 * The session key of a MAC, shared by a transform and its copies: zeroed when the last of them
 * closes (a copy may outlive the transform it was copied from).
 */
export class SharedKey {
  private users = 1;
  constructor(readonly bytes: Buffer) {}
  take(): this {
    this.users++;
    return this;
  }
  release(): void {
    if (--this.users === 0) this.bytes.fill(0);
  }
}

/**
 * A hash or MAC over copyable software states; `fresh(key)` starts one (key: a per-request key).
 * `key`: the session key `fresh` uses, released at close.
 */
export function softwareAuth(
  digestLength: number,
  fresh: (key: Uint8Array | null) => SoftwareState,
  state: SoftwareState = fresh(null),
  key?: SharedKey,
): AuthTransform {
  let current = state;
  let closed = false;
  return {
    kind: 'auth',
    digestLength,
    digest: (data, key) =>
      guard('digest', () => {
        const s = fresh(key);
        if (Array.isArray(data)) for (const d of data) s.update(d);
        else s.update(data);
        return s.digest();
      }),
    update: (data) =>
      guard('update', () => {
        for (const d of data) current.update(d);
      }),
    final: () =>
      guard('final', () => {
        const out = current.digest();
        current = fresh(null);
        return out;
      }),
    copy: () => softwareAuth(digestLength, fresh, current.copy(), key?.take()),
    close: () => {
      if (closed) return;
      closed = true;
      key?.release();
    },
  };
}

/** A plain hash, checked at open against what this OpenSSL provides. */
export function softwareHash(alg: HashAlgorithm): AuthTransform {
  guard(`${alg.name} is not available in this OpenSSL`, () => createHash(alg.name));
  return softwareAuth(alg.digestLength, () => new SoftwareHash(alg));
}

/** An HMAC over `alg` with `key` (a per-request key replaces it). */
export function softwareHmac(alg: HashAlgorithm, key: Uint8Array): AuthTransform {
  guard(`${alg.name} is not available in this OpenSSL`, () => createHash(alg.name));
  const k = new SharedKey(Buffer.from(key));
  return softwareAuth(alg.digestLength, (key2) => new SoftwareHmac(alg, key2 ?? k.bytes), undefined, k);
}

/** AES-CMAC with `key` (16, 24 or 32 bytes). */
export function softwareCmac(key: Uint8Array): AuthTransform {
  if (![16, 24, 32].includes(key.length))
    throw softwareError(new Error(`key must be 16, 24 or 32 bytes, got ${key.length}`), 'cmac-aes key');
  const k = new SharedKey(Buffer.from(key));
  return softwareAuth(16, (key2) => new SoftwareCmac(key2 ? Buffer.from(key2) : k.bytes), undefined, k);
}

/** Random bytes from the OpenSSL DRBG behind crypto.randomBytes. */
export function softwareRng(): RngTransform {
  return { kind: 'rng', generate: (n) => randomBytes(n), close: () => {} };
}
