/**
 * The algorithms the conformance kit covers, one "family" per kernel algorithm name (cra_name),
 * with what the interface promises about them (key, IV, tag sizes, alignment) written down here
 * independently of src/algorithms/catalog.ts, and node:crypto as the reference implementation
 * every driver is compared with.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

import type { SessionSpec } from '../api/open-session.js';

interface FamilyBase {
  /** The kernel's algorithm name (cra_name), as drivers() lists it; also the test-name prefix. */
  readonly kernelName: string;
  /**
   * The kernel driver name of the instance built only from the kernel's generic (library)
   * implementations, as each kernel generation spells it: `-generic` up to 6.x, `-lib` on 7.x.
   * Template instances (cbc(aes-generic), …) appear in /proc/crypto only once something binds
   * them, so the suite names them explicitly rather than relying on the listing; which
   * spelling the running kernel has is found by binding ({@link requiredGeneric}).
   */
  readonly generic: readonly string[];
}

/** A plain block-cipher mode over AES. */
export interface CipherFamily extends FamilyBase {
  readonly kind: 'cipher';
  readonly mode: 'cbc' | 'ctr' | 'ecb' | 'xts';
  readonly keyLengths: readonly number[];
  /** 0: takes no IV. */
  readonly ivLength: number;
  /** Input length must be a multiple of this. */
  readonly alignment: number;
  /** Shortest input (XTS needs a whole block). */
  readonly minLength: number;
}

/** An AEAD. */
export interface AeadFamily extends FamilyBase {
  readonly kind: 'aead';
  readonly mode: 'gcm' | 'ccm' | 'chacha20-poly1305' | 'authenc';
  readonly keyLengths: readonly number[];
  /** IV / nonce lengths the interface accepts. */
  readonly ivLengths: readonly number[];
  readonly tagLengths: readonly number[];
  readonly alignment: number;
  /** authenc: the HMAC's hash (node:crypto name). */
  readonly authHash?: string;
}

/** An unkeyed hash. */
export interface HashFamily extends FamilyBase {
  readonly kind: 'hash';
  /** node:crypto name. */
  readonly hash: string;
}

/** HMAC (with `hash`) or AES-CMAC (without). */
export interface MacFamily extends FamilyBase {
  readonly kind: 'mac';
  readonly hash?: string;
  /** Key lengths accepted; undefined: any (HMAC). */
  readonly keyLengths?: readonly number[];
}

export type Family = CipherFamily | AeadFamily | HashFamily | MacFamily;

const AES_KEYS = [16, 24, 32] as const;

function cipher(mode: CipherFamily['mode'], over: Partial<CipherFamily> = {}): CipherFamily {
  return {
    kind: 'cipher',
    mode,
    kernelName: `${mode}(aes)`,
    generic: [`${mode}(aes-generic)`, `${mode}(aes-lib)`],
    keyLengths: AES_KEYS,
    ivLength: 16,
    alignment: 1,
    minLength: 0,
    ...over,
  };
}

/** SHA hashes: node:crypto name and the kernel's generic driver name. */
const SHAS = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha3-256'] as const;

export const CIPHERS: readonly CipherFamily[] = [
  cipher('cbc', { alignment: 16 }),
  cipher('ctr'),
  cipher('ecb', { ivLength: 0, alignment: 16 }),
  // XTS keys are two AES keys; node:crypto (and so the interface) has AES-128 and AES-256 XTS.
  // The xts template wraps ecb(aes-generic) and names the instance so: binding
  // "xts(aes-generic)" creates that instance but fails itself (ENOENT, 6.1 and 6.12).
  cipher('xts', { keyLengths: [32, 64], minLength: 16, generic: ['xts(ecb(aes-generic))', 'xts(ecb(aes-lib))'] }),
];

export const AEADS: readonly AeadFamily[] = [
  // The kernel's gcm(aes) takes 96-bit IVs only.
  {
    kind: 'aead',
    mode: 'gcm',
    kernelName: 'gcm(aes)',
    generic: ['gcm_base(ctr(aes-generic),ghash-generic)', 'gcm_base(ctr(aes-lib),ghash-lib)'],
    keyLengths: AES_KEYS,
    ivLengths: [12],
    tagLengths: [4, 8, 12, 13, 14, 15, 16],
    alignment: 1,
  },
  // CCM nonces of 7..13 bytes, tags of 4..16 even bytes (RFC 3610 / SP 800-38C).
  {
    kind: 'aead',
    mode: 'ccm',
    kernelName: 'ccm(aes)',
    generic: ['ccm_base(ctr(aes-generic),cbcmac(aes-generic))', 'ccm_base(ctr(aes-lib),cbcmac(aes-lib))'],
    keyLengths: AES_KEYS,
    ivLengths: [7, 8, 9, 10, 11, 12, 13],
    tagLengths: [4, 6, 8, 10, 12, 14, 16],
    alignment: 1,
  },
  {
    kind: 'aead',
    mode: 'chacha20-poly1305',
    kernelName: 'rfc7539(chacha20,poly1305)',
    generic: ['rfc7539(chacha20-generic,poly1305-generic)', 'rfc7539(chacha20-lib,poly1305-generic)'],
    keyLengths: [32],
    ivLengths: [12],
    tagLengths: [16],
    alignment: 1,
  },
  {
    kind: 'aead',
    mode: 'authenc',
    kernelName: 'authenc(hmac(sha256),cbc(aes))',
    generic: ['authenc(hmac(sha256-generic),cbc(aes-generic))', 'authenc(hmac(sha256-lib),cbc(aes-lib))'],
    keyLengths: AES_KEYS,
    ivLengths: [16],
    // Any even length up to the digest; a few, including the full digest.
    tagLengths: [32, 16, 12, 20],
    alignment: 16,
    authHash: 'sha256',
  },
];

export const HASHES: readonly HashFamily[] = SHAS.map((hash) => ({
  kind: 'hash',
  hash,
  kernelName: hash,
  generic: [`${hash}-generic`, `${hash}-lib`],
}));

export const MACS: readonly MacFamily[] = [
  ...SHAS.map((hash): MacFamily => ({
    kind: 'mac',
    hash,
    kernelName: `hmac(${hash})`,
    generic: [`hmac(${hash}-generic)`, `hmac(${hash}-lib)`],
  })),
  { kind: 'mac', kernelName: 'cmac(aes)', generic: ['cmac(aes-generic)', 'cmac(aes-lib)'], keyLengths: AES_KEYS },
];

export const FAMILIES: readonly Family[] = [...CIPHERS, ...AEADS, ...HASHES, ...MACS];

/** The family of a kernel algorithm name. */
export function family(kernelName: string): Family {
  const f = FAMILIES.find((x) => x.kernelName === kernelName);
  if (!f) throw new Error(`no test family ${kernelName}`);
  return f;
}

/** Key material of one session. */
export interface Keys {
  key: Buffer;
  /** authenc only. */
  authKey?: Buffer;
}

/** Random keys for a session of `f`, the `i`-th variant (key lengths taken in turn). */
export function randomKeys(f: Family, i = 0): Keys {
  switch (f.kind) {
    case 'cipher':
    case 'aead': {
      const key = randomBytes(f.keyLengths[i % f.keyLengths.length]!);
      return f.kind === 'aead' && f.mode === 'authenc' ? { key, authKey: randomBytes(32 + (i % 3) * 16) } : { key };
    }
    case 'hash':
      return { key: Buffer.alloc(0) };
    case 'mac':
      // HMAC: short, block-sized and longer-than-block keys (the latter are hashed first).
      return { key: randomBytes(f.keyLengths ? f.keyLengths[i % f.keyLengths.length]! : [16, 64, 200][i % 3]!) };
  }
}

/**
 * The openSession spec of `f` with these keys. Ciphers use kernel names (`cbc(aes)`), so the
 * key length picks the variant and a wrong one is a key-size error, not an unknown name.
 */
export function specOf(f: Family, keys: Keys, tagLength?: number): SessionSpec {
  switch (f.kind) {
    case 'cipher':
      return { cipher: f.kernelName, key: keys.key };
    case 'aead': {
      const spec = { cipher: f.kernelName, key: keys.key, ...(tagLength === undefined ? {} : { tagLength }) };
      return keys.authKey ? { ...spec, authKey: keys.authKey } : spec;
    }
    case 'hash':
      return { hash: f.hash };
    case 'mac':
      return f.hash ? { hmac: f.hash, key: keys.key } : { cmac: 'aes', key: keys.key };
  }
}

/** node:crypto's name of a cipher family at a key length (authenc: its CBC half). */
export function nodeCipherName(mode: string, keyLength: number): string {
  if (mode === 'xts') return `aes-${keyLength * 4}-xts`;
  if (mode === 'authenc') return `aes-${keyLength * 8}-cbc`;
  if (mode === 'chacha20-poly1305') return 'chacha20-poly1305';
  return `aes-${keyLength * 8}-${mode}`;
}

/** Reference encryption (or decryption) of a plain cipher, unpadded. */
export function refCipher(f: CipherFamily | AeadFamily, key: Uint8Array, iv: Uint8Array | null, data: Uint8Array, decrypt = false): Buffer {
  const name = nodeCipherName(f.mode, key.length);
  const c = decrypt ? createDecipheriv(name, key, iv) : createCipheriv(name, key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** Reference AEAD encryption. authenc is AES-CBC, then HMAC over AAD ‖ ciphertext, truncated. */
export function refAead(
  f: AeadFamily,
  keys: Keys,
  iv: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
  tagLength: number,
): { ciphertext: Buffer; tag: Buffer } {
  if (f.mode === 'authenc') {
    const ciphertext = refCipher(f, keys.key, iv, pt);
    const tag = createHmac(f.authHash!, keys.authKey!).update(aad).update(ciphertext).digest().subarray(0, tagLength);
    return { ciphertext, tag };
  }
  const c = createCipheriv(nodeCipherName(f.mode, keys.key.length) as 'aes-128-ccm', keys.key, iv, { authTagLength: tagLength });
  // CCM needs the message length up front, even without AAD.
  if (f.mode === 'ccm' || aad.length > 0) c.setAAD(aad, { plaintextLength: pt.length });
  // OpenSSL's CCM fails final() with "tag not set" after an update() with a zero-length
  // buffer that has a data pointer (randomBytes(0), or any empty Buffer the addon has looked
  // at); a fresh empty view has none, and is what an empty message needs.
  const ciphertext = Buffer.concat([c.update(pt.length > 0 ? pt : new Uint8Array(0)), c.final()]);
  return { ciphertext, tag: c.getAuthTag() };
}

/** Reference digest or MAC (full length) of several buffers in order. */
export function refDigest(f: HashFamily | MacFamily, key: Uint8Array, parts: readonly Uint8Array[]): Buffer {
  if (f.kind === 'mac' && !f.hash) return aesCmac(key, Buffer.concat(parts));
  const h = f.kind === 'hash' ? createHash(f.hash) : createHmac(f.hash!, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Doubling in GF(2^128) as CMAC's subkey derivation defines it (SP 800-38B §6.1). */
function dbl(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i]! << 1) | (i < 15 ? b[i + 1]! >> 7 : 0)) & 0xff;
  if (b[0]! & 0x80) out[15]! ^= 0x87;
  return out;
}

/**
 * AES-CMAC (SP 800-38B), the test's own oracle since node:crypto has none: the last block is
 * mixed with a subkey (K1 if complete, else padded and K2), then the CBC-MAC's last block.
 */
export function aesCmac(key: Uint8Array, msg: Buffer): Buffer {
  const aes = (mode: 'ecb' | 'cbc', data: Buffer): Buffer => {
    const c = createCipheriv(`aes-${key.length * 8}-${mode}`, key, mode === 'ecb' ? null : Buffer.alloc(16));
    c.setAutoPadding(false);
    return c.update(data);
  };
  const k1 = dbl(aes('ecb', Buffer.alloc(16)));
  const complete = msg.length > 0 && msg.length % 16 === 0;
  const m = complete ? Buffer.from(msg) : Buffer.concat([msg, Buffer.from([0x80]), Buffer.alloc(15 - (msg.length % 16))]);
  const sub = complete ? k1 : dbl(k1);
  for (let i = 0; i < 16; i++) m[m.length - 16 + i]! ^= sub[i]!;
  return aes('cbc', m).subarray(m.length - 16);
}

/** Request sizes of the random tests: 0 to 1 MiB, around block and page boundaries. */
export const SIZES: readonly number[] = [0, 1, 15, 16, 17, 64, 100, 1000, 4096, 16384, 65536, 65536 + 16, 262144, 1 << 20];

/** The sizes among `sizes` that `f` accepts (alignment, XTS's one-block minimum). */
export function sizesFor(f: Family, sizes: readonly number[] = SIZES): number[] {
  const alignment = f.kind === 'cipher' || f.kind === 'aead' ? f.alignment : 1;
  const min = f.kind === 'cipher' ? f.minLength : 0;
  return sizes.filter((n) => n % alignment === 0 && n >= min);
}

/**
 * IV lengths usable for a message of `size` bytes: CCM's length field has 15 − nonce bytes,
 * so long messages need short nonces.
 */
export function ivLengthsFor(f: AeadFamily, size: number): number[] {
  return f.ivLengths.filter((n) => f.mode !== 'ccm' || size < 2 ** (8 * (15 - n)));
}
