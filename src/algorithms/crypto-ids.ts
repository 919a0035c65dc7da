/**
 * The bridge between kcrypto's catalog (node:crypto and Linux names) and crypto(9) algorithm
 * ids: which CRYPTO_* ids a catalog algorithm is, and which catalog algorithm serves an id.
 */
import * as C from '../framework/constants.js';
import {
  CMAC_AES,
  ciphers,
  hashes,
  hmacOf,
  STDRNG,
  type AeadAlgorithm,
  type Algorithm,
  type CipherAlgorithm,
  type HashAlgorithm,
} from './catalog.js';

/** crypto(9) id of each hash, and of its HMAC. */
const HASH_IDS: Readonly<Record<string, [hash: number, hmac: number]>> = {
  md5: [C.CRYPTO_MD5, C.CRYPTO_MD5_HMAC],
  sha1: [C.CRYPTO_SHA1, C.CRYPTO_SHA1_HMAC],
  sha224: [C.CRYPTO_SHA2_224, C.CRYPTO_SHA2_224_HMAC],
  sha256: [C.CRYPTO_SHA2_256, C.CRYPTO_SHA2_256_HMAC],
  sha384: [C.CRYPTO_SHA2_384, C.CRYPTO_SHA2_384_HMAC],
  sha512: [C.CRYPTO_SHA2_512, C.CRYPTO_SHA2_512_HMAC],
  'sha3-224': [C.CRYPTO_KC_SHA3_224, C.CRYPTO_KC_SHA3_224_HMAC],
  'sha3-256': [C.CRYPTO_KC_SHA3_256, C.CRYPTO_KC_SHA3_256_HMAC],
  'sha3-384': [C.CRYPTO_KC_SHA3_384, C.CRYPTO_KC_SHA3_384_HMAC],
  'sha3-512': [C.CRYPTO_KC_SHA3_512, C.CRYPTO_KC_SHA3_512_HMAC],
  sm3: [C.CRYPTO_KC_SM3, C.CRYPTO_KC_SM3_HMAC],
  ripemd160: [C.CRYPTO_RIPEMD160, C.CRYPTO_RIPEMD160_HMAC],
  blake2b512: [C.CRYPTO_BLAKE2B, C.CRYPTO_KC_BLAKE2B_HMAC],
  blake2s256: [C.CRYPTO_BLAKE2S, C.CRYPTO_KC_BLAKE2S_HMAC],
};

const CIPHER_IDS: Readonly<Record<string, number>> = {
  cbc: C.CRYPTO_AES_CBC,
  ctr: C.CRYPTO_AES_ICM,
  xts: C.CRYPTO_AES_XTS,
  ecb: C.CRYPTO_KC_AES_ECB,
};

/** AEAD modes: the cipher id and the auth id it pairs with. */
const AEAD_IDS: Readonly<Record<string, [cipher: number, auth: number]>> = {
  gcm: [C.CRYPTO_AES_NIST_GCM_16, C.CRYPTO_AES_NIST_GMAC],
  ccm: [C.CRYPTO_AES_CCM_16, C.CRYPTO_AES_CCM_CBC_MAC],
  'chacha20-poly1305': [C.CRYPTO_CHACHA20_POLY1305, C.CRYPTO_POLY1305],
};

/** The ids of a catalog algorithm: one, or two for an AEAD (cipher, then its auth half). */
export function idsOf(alg: Algorithm): number[] {
  switch (alg.kind) {
    case 'cipher':
      return [CIPHER_IDS[alg.mode]!];
    case 'aead':
      if (alg.mode === 'authenc') return [C.CRYPTO_AES_CBC, HASH_IDS[alg.authHash!.name]![1]];
      return [...AEAD_IDS[alg.mode]!];
    case 'hash':
      return [HASH_IDS[alg.name]![0]];
    case 'mac':
      return [alg.hash ? HASH_IDS[alg.hash.name]![1] : C.CRYPTO_KC_AES_CMAC];
    case 'rng':
      return [C.CRYPTO_KC_STDRNG];
  }
}

/**
 * The catalog algorithm behind `id` with a key of `keyLength` bytes, as a kernel driver
 * opens it: for the auth half of an AEAD, the AEAD.
 */
export function catalogOf(id: number, keyLength: number): Algorithm | undefined {
  for (const [mode, cid] of Object.entries(CIPHER_IDS)) {
    if (cid === id) return ciphers().find((c): c is CipherAlgorithm => c.kind === 'cipher' && c.mode === mode && c.keyLength === keyLength);
  }
  for (const [mode, [cid, aid]] of Object.entries(AEAD_IDS)) {
    const auths = mode === 'gcm' ? [aid, C.CRYPTO_AES_128_NIST_GMAC, C.CRYPTO_AES_192_NIST_GMAC, C.CRYPTO_AES_256_NIST_GMAC] : [aid];
    if (cid === id || auths.includes(id))
      return ciphers().find((c): c is AeadAlgorithm => c.kind === 'aead' && c.mode === mode && (cid !== id || c.keyLength === keyLength));
  }
  for (const [name, [hid, mid]] of Object.entries(HASH_IDS)) {
    if (hid === id) return hashes().find((h) => h.name === name);
    if (mid === id) return hmacOf(name);
  }
  if (id === C.CRYPTO_KC_AES_CMAC) return CMAC_AES;
  if (id === C.CRYPTO_KC_STDRNG) return STDRNG;
  return undefined;
}

/** The ids a kernel algorithm (cra_name) serves: `cbc(aes)` → AES-CBC; `sha256` → SHA-256 and, over hmac(), its HMAC. */
export function idsOfKernelName(craName: string): number[] {
  for (const c of ciphers()) {
    if (c.kernelName !== craName) continue;
    return c.kind === 'aead' && c.mode === 'gcm'
      ? [...idsOf(c), C.CRYPTO_AES_128_NIST_GMAC, C.CRYPTO_AES_192_NIST_GMAC, C.CRYPTO_AES_256_NIST_GMAC]
      : idsOf(c);
  }
  const authenc = /^authenc\(hmac\(([^)]+)\),cbc\(aes\)\)$/.exec(craName);
  if (authenc) {
    const inner = hashes().find((x) => x.kernelName === authenc[1]);
    return inner ? [C.CRYPTO_AES_CBC, HASH_IDS[inner.name]![1]] : [];
  }
  const h = hashes().find((x) => x.kernelName === craName);
  if (h) return [...HASH_IDS[h.name]!];
  const m = /^hmac\((.+)\)$/.exec(craName);
  if (m) {
    const inner = hashes().find((x) => x.kernelName === m[1]);
    return inner ? [HASH_IDS[inner.name]![1]] : [];
  }
  if (craName === CMAC_AES.kernelName) return [C.CRYPTO_KC_AES_CMAC];
  if (craName === 'stdrng') return [C.CRYPTO_KC_STDRNG];
  return [];
}

/** The hash an HMAC id is over. */
export function hmacHashOf(id: number): HashAlgorithm | undefined {
  const name = Object.entries(HASH_IDS).find(([, [, mid]]) => mid === id)?.[0];
  return name ? hashes().find((h) => h.name === name) : undefined;
}
