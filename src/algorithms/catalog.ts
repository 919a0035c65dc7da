/**
 * The algorithms kcrypto knows, under node:crypto's names and the Linux crypto API's, with the
 * sizes every driver needs to validate and format requests. No I/O, no dependencies: every
 * layer may use it.
 */

/** Block-cipher modes served as plain (unauthenticated) ciphers. */
export type CipherMode = 'cbc' | 'ctr' | 'ecb' | 'xts';
/** Authenticated modes. `authenc` is a cipher and an HMAC in one kernel transform. */
export type AeadMode = 'gcm' | 'ccm' | 'chacha20-poly1305' | 'authenc';

/** A plain cipher: output length equals input length. */
export interface CipherAlgorithm {
  kind: 'cipher';
  /** node:crypto name, e.g. `aes-128-cbc`. */
  name: string;
  /** Linux crypto API name, e.g. `cbc(aes)`. */
  kernelName: string;
  mode: CipherMode;
  keyLength: number;
  ivLength: number;
  /** Input must be a multiple of this (1 for stream modes). */
  alignment: number;
  /** Smallest input accepted (XTS needs one block). */
  minLength: number;
}

/** An authenticated cipher. */
export interface AeadAlgorithm {
  kind: 'aead';
  name: string;
  kernelName: string;
  mode: AeadMode;
  keyLength: number;
  /** IV (nonce) lengths the caller may pass, as node:crypto takes them. */
  ivLengths: readonly number[];
  tagLengths: readonly number[];
  defaultTagLength: number;
  /** authenc only: the HMAC's hash and the cipher inside. */
  authHash?: HashAlgorithm;
  inner?: CipherAlgorithm;
}

/** A hash. */
export interface HashAlgorithm {
  kind: 'hash';
  name: string;
  kernelName: string;
  digestLength: number;
  blockLength: number;
}

/** A keyed hash. */
export interface MacAlgorithm {
  kind: 'mac';
  name: string;
  kernelName: string;
  digestLength: number;
  /** HMAC: the hash; CMAC: undefined. */
  hash?: HashAlgorithm;
  /** CMAC: allowed key lengths. HMAC takes any. */
  keyLengths?: readonly number[];
}

/** A deterministic random bit generator. */
export interface RngAlgorithm {
  kind: 'rng';
  name: string;
  kernelName: string;
}

/** Any algorithm. */
export type Algorithm = CipherAlgorithm | AeadAlgorithm | HashAlgorithm | MacAlgorithm | RngAlgorithm;

const HASHES: readonly HashAlgorithm[] = [
  ['md5', 'md5', 16, 64],
  ['sha1', 'sha1', 20, 64],
  ['sha224', 'sha224', 28, 64],
  ['sha256', 'sha256', 32, 64],
  ['sha384', 'sha384', 48, 128],
  ['sha512', 'sha512', 64, 128],
  ['sha3-224', 'sha3-224', 28, 144],
  ['sha3-256', 'sha3-256', 32, 136],
  ['sha3-384', 'sha3-384', 48, 104],
  ['sha3-512', 'sha3-512', 64, 72],
  ['sm3', 'sm3', 32, 64],
  ['ripemd160', 'rmd160', 20, 64],
  ['blake2b512', 'blake2b-512', 64, 128],
  ['blake2s256', 'blake2s-256', 32, 64],
].map(([name, kernelName, digestLength, blockLength]) => ({ kind: 'hash', name, kernelName, digestLength, blockLength }) as HashAlgorithm);

const CIPHER_MODES: Record<CipherMode, { ivLength: number; alignment: number; minLength: number }> = {
  cbc: { ivLength: 16, alignment: 16, minLength: 0 },
  ecb: { ivLength: 0, alignment: 16, minLength: 0 },
  ctr: { ivLength: 16, alignment: 1, minLength: 0 },
  xts: { ivLength: 16, alignment: 1, minLength: 16 },
};

function aesCipher(mode: CipherMode, bits: number): CipherAlgorithm {
  const m = CIPHER_MODES[mode];
  const keyLength = mode === 'xts' ? (bits / 8) * 2 : bits / 8;
  return { kind: 'cipher', name: `aes-${bits}-${mode}`, kernelName: `${mode}(aes)`, mode, keyLength, ...m };
}

const CIPHERS: readonly CipherAlgorithm[] = [
  ...(['cbc', 'ctr', 'ecb'] as const).flatMap((mode) => [128, 192, 256].map((bits) => aesCipher(mode, bits))),
  aesCipher('xts', 128),
  aesCipher('xts', 256),
];

const GCM_TAGS = [4, 8, 12, 13, 14, 15, 16] as const;
const CCM_TAGS = [4, 6, 8, 10, 12, 14, 16] as const;

const AEADS: readonly AeadAlgorithm[] = [
  ...[128, 192, 256].map((bits): AeadAlgorithm => ({
    kind: 'aead',
    name: `aes-${bits}-gcm`,
    kernelName: 'gcm(aes)',
    mode: 'gcm',
    keyLength: bits / 8,
    ivLengths: [12],
    tagLengths: GCM_TAGS,
    defaultTagLength: 16,
  })),
  ...[128, 192, 256].map((bits): AeadAlgorithm => ({
    kind: 'aead',
    name: `aes-${bits}-ccm`,
    kernelName: 'ccm(aes)',
    mode: 'ccm',
    keyLength: bits / 8,
    ivLengths: [7, 8, 9, 10, 11, 12, 13],
    tagLengths: CCM_TAGS,
    defaultTagLength: 16,
  })),
  {
    kind: 'aead',
    name: 'chacha20-poly1305',
    kernelName: 'rfc7539(chacha20,poly1305)',
    mode: 'chacha20-poly1305',
    keyLength: 32,
    ivLengths: [12],
    tagLengths: [16],
    defaultTagLength: 16,
  },
];

/** All hashes, by node:crypto name. */
export function hashes(): readonly HashAlgorithm[] {
  return HASHES;
}

/** All plain ciphers and AEADs, by node:crypto name. */
export function ciphers(): readonly (CipherAlgorithm | AeadAlgorithm)[] {
  return [...CIPHERS, ...AEADS];
}

/** Finds a hash by node:crypto or kernel name. */
export function findHash(name: string): HashAlgorithm | undefined {
  const n = name.toLowerCase();
  return HASHES.find((h) => h.name === n || h.kernelName === n || h.name.replace('-', '') === n);
}

/** The HMAC over a hash (node:crypto or kernel hash name). */
export function hmacOf(hashName: string): MacAlgorithm | undefined {
  const h = findHash(hashName);
  if (!h) return undefined;
  return { kind: 'mac', name: `hmac-${h.name}`, kernelName: `hmac(${h.kernelName})`, digestLength: h.digestLength, hash: h };
}

/** CMAC over AES (the key length picks AES-128/192/256). */
export const CMAC_AES: MacAlgorithm = {
  kind: 'mac',
  name: 'cmac-aes',
  kernelName: 'cmac(aes)',
  digestLength: 16,
  keyLengths: [16, 24, 32],
};

/** The kernel's standard DRBG. */
export const STDRNG: RngAlgorithm = { kind: 'rng', name: 'stdrng', kernelName: 'stdrng' };

/**
 * Finds a cipher by node:crypto name (`aes-128-cbc`) or by kernel name with the key length
 * deciding the variant (`cbc(aes)` + 16-byte key). Includes `authenc(hmac(H),cbc(aes))`.
 */
export function findCipher(name: string, keyLength?: number): CipherAlgorithm | AeadAlgorithm | undefined {
  const n = name.toLowerCase();
  const byNode = [...CIPHERS, ...AEADS].find((c) => c.name === n);
  if (byNode) return byNode;
  const authenc = /^authenc\(hmac\(([^)]+)\),cbc\(aes\)\)$/.exec(n);
  if (authenc) return authencOf(authenc[1]!, keyLength ?? 16);
  if (n === 'rfc7539(chacha20,poly1305)') return AEADS.find((a) => a.mode === 'chacha20-poly1305');
  if (keyLength === undefined) return undefined;
  return [...CIPHERS, ...AEADS].find((c) => c.kernelName === n && c.keyLength === keyLength);
}

/**
 * `authenc(hmac(H),cbc(aes))`: AES-CBC encryption, then an HMAC over the associated data and
 * the ciphertext (IPsec's encrypt-then-authenticate), as one kernel AEAD transform.
 */
export function authencOf(hashName: string, cipherKeyLength: number): AeadAlgorithm | undefined {
  const h = findHash(hashName);
  const inner = CIPHERS.find((c) => c.mode === 'cbc' && c.keyLength === cipherKeyLength);
  if (!h || !inner) return undefined;
  const tags: number[] = [];
  for (let t = 4; t <= h.digestLength; t += 2) tags.push(t);
  if (!tags.includes(h.digestLength)) tags.push(h.digestLength);
  return {
    kind: 'aead',
    name: `authenc-hmac-${h.name}-${inner.name}`,
    kernelName: `authenc(hmac(${h.kernelName}),cbc(aes))`,
    mode: 'authenc',
    keyLength: cipherKeyLength,
    ivLengths: [16],
    tagLengths: tags,
    defaultTagLength: h.digestLength,
    authHash: h,
    inner,
  };
}

/** Kernel AF_ALG socket type for an algorithm. */
export function afalgTypeOf(alg: Algorithm): 'skcipher' | 'aead' | 'hash' | 'rng' {
  switch (alg.kind) {
    case 'cipher':
      return 'skcipher';
    case 'aead':
      return 'aead';
    case 'hash':
    case 'mac':
      return 'hash';
    case 'rng':
      return 'rng';
  }
}

/**
 * Every algorithm kcrypto serves, one entry per name: the ciphers and AEADs, the hashes, their
 * HMACs, CMAC, the DRBG, and authenc() over AES-CBC with the HMACs IPsec uses (128-bit key;
 * the kernel name is the same for every key length).
 */
export function allAlgorithms(): Algorithm[] {
  const authenc = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'].flatMap((h) => authencOf(h, 16) ?? []);
  return [...CIPHERS, ...AEADS, ...HASHES, ...HASHES.flatMap((h) => hmacOf(h.name) ?? []), CMAC_AES, STDRNG, ...authenc];
}

/** {@link allAlgorithms} by kernel name (`cbc(aes)` → AES-128/192/256-CBC), in catalog order. */
export function algorithmsByKernelName(): Map<string, Algorithm[]> {
  const out = new Map<string, Algorithm[]>();
  for (const a of allAlgorithms()) out.set(a.kernelName, [...(out.get(a.kernelName) ?? []), a]);
  return out;
}
