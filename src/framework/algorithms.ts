/**
 * What each CRYPTO_* algorithm is, as far as the descriptor semantics need to know: a cipher
 * (IV bytes, block size), a hash or MAC, an AEAD cipher and the auth algorithms that pair
 * with it, a DRBG, or compression. Drivers add how they compute it.
 */
import * as C from './constants.js';

/** A cipher: transforms its region in place. */
export interface CipherKind {
  kind: 'cipher';
  /** Bytes of IV taken from / written to the request by default (FreeBSD sizes: XTS takes 8). */
  ivLength: number;
  /** Other IV lengths a descriptor may ask for with `ivLength`. */
  ivLengths?: readonly number[];
  /** The region must be a multiple of this. */
  block: number;
  /** Smallest non-empty region. */
  minLength?: number;
}

/** A hash or MAC: digests its region, the result goes to `inject` or crp.mac. */
export interface AuthKind {
  kind: 'auth';
  keyed: boolean;
}

/**
 * An AEAD cipher. As in the BSD API, a request pairs its descriptor (the payload region, the
 * IV at `inject`) with one of a matching auth algorithm (the associated-data region, the tag at
 * `inject`); without that descriptor there is no AAD and the tag goes to/comes from crp.mac.
 */
export interface AeadKind {
  kind: 'aead';
  ivLength: number;
  ivLengths?: readonly number[];
  /** The auth algorithms that pair with it. */
  auth: readonly number[];
}

/** The auth half of an AEAD pair: its work is done with the cipher's. */
export interface AeadAuthKind {
  kind: 'aead-auth';
  /** The AEAD ciphers it pairs with. */
  ciphers: readonly number[];
}

/** A DRBG: fills its region. */
export interface RngKind {
  kind: 'rng';
}

/** Compression (CRD_F_COMP): the region is replaced by its (de)compressed form. */
export interface CompKind {
  kind: 'comp';
}

export type AlgorithmKind = CipherKind | AuthKind | AeadKind | AeadAuthKind | RngKind | CompKind;

const GMACS = [C.CRYPTO_AES_NIST_GMAC, C.CRYPTO_AES_128_NIST_GMAC, C.CRYPTO_AES_192_NIST_GMAC, C.CRYPTO_AES_256_NIST_GMAC] as const;
const cipher = (ivLength: number, block: number, extra: Partial<CipherKind> = {}): CipherKind => ({
  kind: 'cipher',
  ivLength,
  block,
  ...extra,
});
const auth = (keyed: boolean): AuthKind => ({ kind: 'auth', keyed });

/** Every algorithm kcrypto's framework knows, by id. */
export const ALGORITHM_KINDS: ReadonlyMap<number, AlgorithmKind> = new Map<number, AlgorithmKind>([
  [C.CRYPTO_DES_CBC, cipher(8, 8)],
  [C.CRYPTO_3DES_CBC, cipher(8, 8)],
  [C.CRYPTO_BLF_CBC, cipher(8, 8)],
  [C.CRYPTO_CAST_CBC, cipher(8, 8)],
  [C.CRYPTO_SKIPJACK_CBC, cipher(8, 8)],
  [C.CRYPTO_AES_CBC, cipher(16, 16)],
  [C.CRYPTO_ARC4, cipher(0, 1)],
  [C.CRYPTO_NULL_CBC, cipher(0, 4)],
  [C.CRYPTO_CAMELLIA_CBC, cipher(16, 16)],
  // FreeBSD's XTS IV is the 64-bit block number (bytes 8–15 of the tweak are zero); kcrypto's
  // API passes the whole 16-byte tweak, as Linux and node:crypto take it.
  [C.CRYPTO_AES_XTS, cipher(8, 1, { ivLengths: [8, 16], minLength: 16 })],
  [C.CRYPTO_AES_ICM, cipher(16, 1)],
  [C.CRYPTO_KC_AES_ECB, cipher(0, 16)],
  [C.CRYPTO_CHACHA20, cipher(16, 1)],
  [C.CRYPTO_MD5, auth(false)],
  [C.CRYPTO_SHA1, auth(false)],
  [C.CRYPTO_SHA2_224, auth(false)],
  [C.CRYPTO_SHA2_256, auth(false)],
  [C.CRYPTO_SHA2_384, auth(false)],
  [C.CRYPTO_SHA2_512, auth(false)],
  [C.CRYPTO_RIPEMD160, auth(false)],
  [C.CRYPTO_BLAKE2B, auth(false)],
  [C.CRYPTO_BLAKE2S, auth(false)],
  [C.CRYPTO_KC_SHA3_224, auth(false)],
  [C.CRYPTO_KC_SHA3_256, auth(false)],
  [C.CRYPTO_KC_SHA3_384, auth(false)],
  [C.CRYPTO_KC_SHA3_512, auth(false)],
  [C.CRYPTO_KC_SM3, auth(false)],
  [C.CRYPTO_MD5_HMAC, auth(true)],
  [C.CRYPTO_SHA1_HMAC, auth(true)],
  [C.CRYPTO_RIPEMD160_HMAC, auth(true)],
  [C.CRYPTO_SHA2_224_HMAC, auth(true)],
  [C.CRYPTO_SHA2_256_HMAC, auth(true)],
  [C.CRYPTO_SHA2_384_HMAC, auth(true)],
  [C.CRYPTO_SHA2_512_HMAC, auth(true)],
  [C.CRYPTO_KC_SHA3_224_HMAC, auth(true)],
  [C.CRYPTO_KC_SHA3_256_HMAC, auth(true)],
  [C.CRYPTO_KC_SHA3_384_HMAC, auth(true)],
  [C.CRYPTO_KC_SHA3_512_HMAC, auth(true)],
  [C.CRYPTO_KC_SM3_HMAC, auth(true)],
  [C.CRYPTO_KC_BLAKE2B_HMAC, auth(true)],
  [C.CRYPTO_KC_BLAKE2S_HMAC, auth(true)],
  [C.CRYPTO_KC_AES_CMAC, auth(true)],
  [C.CRYPTO_MD5_KPDK, auth(true)],
  [C.CRYPTO_SHA1_KPDK, auth(true)],
  [C.CRYPTO_NULL_HMAC, auth(true)],
  [C.CRYPTO_AES_NIST_GCM_16, { kind: 'aead', ivLength: 12, auth: GMACS }],
  [C.CRYPTO_AES_CCM_16, { kind: 'aead', ivLength: 12, ivLengths: [7, 8, 9, 10, 11, 12, 13], auth: [C.CRYPTO_AES_CCM_CBC_MAC] }],
  [C.CRYPTO_CHACHA20_POLY1305, { kind: 'aead', ivLength: 12, auth: [C.CRYPTO_POLY1305] }],
  ...GMACS.map((g): [number, AlgorithmKind] => [g, { kind: 'aead-auth', ciphers: [C.CRYPTO_AES_NIST_GCM_16] }]),
  [C.CRYPTO_AES_CCM_CBC_MAC, { kind: 'aead-auth', ciphers: [C.CRYPTO_AES_CCM_16] }],
  [C.CRYPTO_POLY1305, { kind: 'aead-auth', ciphers: [C.CRYPTO_CHACHA20_POLY1305] }],
  [C.CRYPTO_KC_STDRNG, { kind: 'rng' }],
  [C.CRYPTO_DEFLATE_COMP, { kind: 'comp' }],
]);

/** The kind of `alg`, or undefined for an id kcrypto does not know. */
export function kindOf(alg: number): AlgorithmKind | undefined {
  return ALGORITHM_KINDS.get(alg);
}
