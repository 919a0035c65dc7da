/**
 * The software driver: node:crypto (OpenSSL) in the calling process. Always available, and on
 * most hosts the fastest path for small requests.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual, type CipherCCMTypes, type CipherGCMTypes, type Hash } from 'node:crypto';

import type { AeadAlgorithm, CipherAlgorithm, HashAlgorithm, MacAlgorithm } from '../algorithms/catalog.js';
import { KCryptoError } from '../errors.js';
import { errnoOf, invalid } from '../kernel/status.js';
import type { AeadBackend, AeadOutput, CipherBackend, HashBackend, RngBackend } from './backend.js';

/** The software driver's name. */
export const SOFTWARE_DRIVER = 'software';

// A zero-length view may carry a null data pointer, which OpenSSL's CCM treats as "no update
// call" and then fails with "tag not set"; always hand it a real empty buffer.
const EMPTY = Buffer.alloc(0);
function nonEmpty(b: Uint8Array): Uint8Array {
  return b.length === 0 ? EMPTY : b;
}

function concatInput(data: Uint8Array | Uint8Array[]): Uint8Array[] {
  return Array.isArray(data) ? data : [data];
}

/** Maps an OpenSSL failure to a KCryptoError (EINVAL unless it is a failed tag). */
function softwareError(err: unknown, what: string, code = 'EINVAL'): KCryptoError {
  return new KCryptoError(`${what}: ${(err as Error).message}`, { code, errno: errnoOf(code), syscall: 'openssl', driver: SOFTWARE_DRIVER }, { cause: err });
}

function run<T>(what: string, fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof KCryptoError ? err : softwareError(err, what));
  }
}

/** node:crypto's name for a catalog cipher. */
function opensslCipherName(alg: CipherAlgorithm | AeadAlgorithm): string {
  return alg.name;
}

/** Opens a plain cipher session. Key length errors surface here, as with a kernel setkey. */
export function openSoftwareCipher(alg: CipherAlgorithm, key: Uint8Array): CipherBackend {
  const name = opensslCipherName(alg);
  const k = Buffer.from(key);
  // Instantiating once validates the key the way the kernel's setkey does at open.
  try {
    createCipheriv(name, k, alg.ivLength ? Buffer.alloc(alg.ivLength) : null);
  } catch (err) {
    throw softwareError(err, `${alg.name} key`);
  }
  const transform = (decrypt: boolean, data: Uint8Array, iv: Uint8Array | null): Buffer => {
    const c = decrypt ? createDecipheriv(name, k, iv) : createCipheriv(name, k, iv);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(data), c.final()]);
  };
  return {
    driver: SOFTWARE_DRIVER,
    encrypt: (data, iv) => run(alg.name, () => ({ ciphertext: transform(false, data, iv) })),
    decrypt: (data, iv) => run(alg.name, () => transform(true, data, iv)),
    close: async () => {
      k.fill(0);
    },
  };
}

/** Opens an AEAD session (GCM, CCM, ChaCha20-Poly1305, authenc). */
export function openSoftwareAead(alg: AeadAlgorithm, key: Uint8Array, tagLength: number, authKey?: Uint8Array): AeadBackend {
  const k = Buffer.from(key);
  if (alg.mode === 'authenc') return openSoftwareAuthenc(alg, k, tagLength, Buffer.from(authKey ?? []));
  try {
    createCipheriv(alg.name as CipherGCMTypes, k, Buffer.alloc(12), { authTagLength: tagLength });
  } catch (err) {
    throw softwareError(err, `${alg.name} key`);
  }
  const ccm = alg.mode === 'ccm';
  return {
    driver: SOFTWARE_DRIVER,
    encrypt: (pt, iv, aad) =>
      run(alg.name, (): AeadOutput => {
        const c = createCipheriv(alg.name as CipherCCMTypes, k, iv, { authTagLength: tagLength });
        if (aad.length > 0 || ccm) c.setAAD(aad, { plaintextLength: pt.length });
        const ciphertext = Buffer.concat([c.update(nonEmpty(pt)), c.final()]);
        return { ciphertext, tag: c.getAuthTag() };
      }),
    decrypt: (ct, iv, aad, tag) =>
      run(alg.name, () => {
        const d = createDecipheriv(alg.name as CipherCCMTypes, k, iv, { authTagLength: tagLength });
        d.setAuthTag(tag);
        if (aad.length > 0 || ccm) d.setAAD(aad, { plaintextLength: ct.length });
        const out = d.update(nonEmpty(ct));
        try {
          return Buffer.concat([out, d.final()]);
        } catch (err) {
          out.fill(0);
          throw softwareError(err, `${alg.name} tag`, 'EBADMSG');
        }
      }),
    close: async () => {
      k.fill(0);
    },
  };
}

/** Encrypt-then-MAC exactly as the kernel's authenc(): HMAC over AAD ‖ ciphertext. */
function openSoftwareAuthenc(alg: AeadAlgorithm, encKey: Buffer, tagLength: number, authKey: Buffer): AeadBackend {
  const inner = alg.inner!;
  const hash = alg.authHash!;
  if (encKey.length !== inner.keyLength) throw invalid('EINVAL', `${alg.name}: cipher key must be ${inner.keyLength} bytes`, SOFTWARE_DRIVER);
  const mac = (aad: Uint8Array, ct: Uint8Array): Buffer => {
    const h = new SoftwareHmac(hash, authKey);
    h.update(aad);
    h.update(ct);
    return h.digest().subarray(0, tagLength);
  };
  return {
    driver: SOFTWARE_DRIVER,
    encrypt: (pt, iv, aad) =>
      run(alg.name, () => {
        const c = createCipheriv(inner.name, encKey, iv);
        c.setAutoPadding(false);
        const ciphertext = Buffer.concat([c.update(pt), c.final()]);
        return { ciphertext, tag: mac(aad, ciphertext) };
      }),
    decrypt: (ct, iv, aad, tag) =>
      run(alg.name, () => {
        const expect = mac(aad, ct);
        if (expect.length !== tag.length || !timingSafeEqual(expect, tag)) throw softwareError(new Error('authentication failed'), `${alg.name} tag`, 'EBADMSG');
        const d = createDecipheriv(inner.name, encKey, iv);
        d.setAutoPadding(false);
        return Buffer.concat([d.update(ct), d.final()]);
      }),
    close: async () => {
      encKey.fill(0);
      authKey.fill(0);
    },
  };
}

/** Incremental state of a software hash or MAC, copyable. */
interface SoftwareState {
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
    let k = Buffer.from(key);
    if (k.length > alg.blockLength) k = createHash(alg.name).update(k).digest();
    const padded = Buffer.alloc(alg.blockLength);
    k.copy(padded);
    const ipad = Buffer.from(padded.map((b) => b ^ 0x36));
    this.outerKey = Buffer.from(padded.map((b) => b ^ 0x5c));
    this.inner = createHash(alg.name).update(ipad);
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

function hashBackend(fresh: () => SoftwareState, state: SoftwareState = fresh()): HashBackend {
  let current = state;
  return {
    driver: SOFTWARE_DRIVER,
    digest: (data) =>
      run('digest', () => {
        const s = fresh();
        for (const d of concatInput(data)) s.update(d);
        return s.digest();
      }),
    update: (data) =>
      run('update', () => {
        for (const d of concatInput(data)) current.update(d);
      }),
    final: () =>
      run('final', () => {
        const out = current.digest();
        current = fresh();
        return out;
      }),
    copy: () => run('copy', () => hashBackend(fresh, current.copy())),
    close: async () => {},
  };
}

/** Opens a hash session. */
export function openSoftwareHash(alg: HashAlgorithm): HashBackend {
  try {
    createHash(alg.name);
  } catch (err) {
    throw softwareError(err, `${alg.name} is not available in this OpenSSL`, 'ENOENT');
  }
  return hashBackend(() => new SoftwareHash(alg));
}

/** Opens a MAC session (HMAC or AES-CMAC). */
export function openSoftwareMac(alg: MacAlgorithm, key: Uint8Array): HashBackend {
  const k = Buffer.from(key);
  if (alg.hash) {
    const hash = alg.hash;
    try {
      createHash(hash.name);
    } catch (err) {
      throw softwareError(err, `${hash.name} is not available in this OpenSSL`, 'ENOENT');
    }
    return hashBackend(() => new SoftwareHmac(hash, k));
  }
  if (!alg.keyLengths?.includes(k.length)) throw invalid('EINVAL', `${alg.name}: key must be ${alg.keyLengths?.join(', ')} bytes`, SOFTWARE_DRIVER);
  return hashBackend(() => new SoftwareCmac(k));
}

/** Opens a random-number generator (the OpenSSL DRBG behind crypto.randomBytes). */
export function openSoftwareRng(): RngBackend {
  return {
    driver: SOFTWARE_DRIVER,
    generate: (n) => run('random', () => randomBytes(n)),
    close: async () => {},
  };
}
