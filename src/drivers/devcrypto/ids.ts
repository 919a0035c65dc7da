/**
 * crypto(9) algorithms on /dev/crypto: the id each ABI gives a framework algorithm. The three
 * numberings diverge (cryptodev-linux's 21 is AES-CTR, FreeBSD's CAMELLIA_CBC; GCM is 50, 25
 * and 29), so a crypto(9) algorithm always goes through {@link devCryptoAlgorithmId}: no number
 * from one table is ever handed to another system. The kernel wrapper (src/kernel/bridge/devcrypto.ts)
 * speaks the ABI's numbers only.
 *
 * @module
 */
import * as C from '../../framework/constants.js';
import { devCryptoDriverName, type DevCryptoAbi } from '../../kernel/bridge/devcrypto.js';
import { invalid } from '../../kernel/bridge/status.js';

/** A crypto(9) algorithm's id on each ABI that offers it through /dev/crypto. */
export interface DevCryptoAlgorithm {
  /** The crypto(9) constant's name. */
  name: string;
  /** The framework's (FreeBSD) number. */
  crypto9: number;
  ids: Partial<Record<DevCryptoAbi, number>>;
  /** How the ABI's algorithm differs from the crypto(9) one, where it does. */
  notes?: Partial<Record<DevCryptoAbi, string>>;
}

/**
 * crypto(9) algorithms by framework number, with each ABI's id. An ABI is absent when its
 * /dev/crypto does not offer the algorithm: cryptodev-linux's enum has ids its ioctl code maps
 * to no kernel algorithm; FreeBSD's cryptodev.h keeps the legacy ids 1-6, 9, 10, 12, 13 that
 * its /dev/crypto no longer serves; NetBSD has no plain SHA-2, XTS, CCM or ChaCha.
 */
export const DEVCRYPTO_ALGORITHMS: readonly DevCryptoAlgorithm[] = [
  { name: 'CRYPTO_DES_CBC', crypto9: C.CRYPTO_DES_CBC, ids: { 'cryptodev-linux': 1, netbsd: 1 } },
  { name: 'CRYPTO_3DES_CBC', crypto9: C.CRYPTO_3DES_CBC, ids: { 'cryptodev-linux': 2, netbsd: 2 } },
  { name: 'CRYPTO_BLF_CBC', crypto9: C.CRYPTO_BLF_CBC, ids: { 'cryptodev-linux': 3, netbsd: 3 } },
  { name: 'CRYPTO_CAST_CBC', crypto9: C.CRYPTO_CAST_CBC, ids: { netbsd: 4 } },
  { name: 'CRYPTO_SKIPJACK_CBC', crypto9: C.CRYPTO_SKIPJACK_CBC, ids: { netbsd: 5 } },
  { name: 'CRYPTO_MD5_HMAC', crypto9: C.CRYPTO_MD5_HMAC, ids: { 'cryptodev-linux': 6, netbsd: 6 } },
  { name: 'CRYPTO_SHA1_HMAC', crypto9: C.CRYPTO_SHA1_HMAC, ids: { 'cryptodev-linux': 7, freebsd: 7, netbsd: 7 } },
  { name: 'CRYPTO_RIPEMD160_HMAC', crypto9: C.CRYPTO_RIPEMD160_HMAC, ids: { 'cryptodev-linux': 8, freebsd: 8, netbsd: 8 } },
  { name: 'CRYPTO_MD5_KPDK', crypto9: C.CRYPTO_MD5_KPDK, ids: { netbsd: 9 } },
  { name: 'CRYPTO_SHA1_KPDK', crypto9: C.CRYPTO_SHA1_KPDK, ids: { netbsd: 10 } },
  { name: 'CRYPTO_AES_CBC', crypto9: C.CRYPTO_AES_CBC, ids: { 'cryptodev-linux': 11, freebsd: 11, netbsd: 11 } },
  { name: 'CRYPTO_MD5', crypto9: C.CRYPTO_MD5, ids: { 'cryptodev-linux': 13, netbsd: 13 } },
  { name: 'CRYPTO_SHA1', crypto9: C.CRYPTO_SHA1, ids: { 'cryptodev-linux': 14, freebsd: 14, netbsd: 14 } },
  { name: 'CRYPTO_NULL_HMAC', crypto9: C.CRYPTO_NULL_HMAC, ids: { freebsd: 15, netbsd: 16 } },
  {
    name: 'CRYPTO_NULL_CBC',
    crypto9: C.CRYPTO_NULL_CBC,
    ids: { 'cryptodev-linux': 16, freebsd: 16, netbsd: 17 },
    notes: { 'cryptodev-linux': 'CRYPTO_NULL: ecb(cipher_null), a stream with no IV' },
  },
  { name: 'CRYPTO_SHA2_256_HMAC', crypto9: C.CRYPTO_SHA2_256_HMAC, ids: { 'cryptodev-linux': 18, freebsd: 18, netbsd: 15 } },
  { name: 'CRYPTO_SHA2_384_HMAC', crypto9: C.CRYPTO_SHA2_384_HMAC, ids: { 'cryptodev-linux': 19, freebsd: 19, netbsd: 24 } },
  { name: 'CRYPTO_SHA2_512_HMAC', crypto9: C.CRYPTO_SHA2_512_HMAC, ids: { 'cryptodev-linux': 20, freebsd: 20, netbsd: 25 } },
  { name: 'CRYPTO_CAMELLIA_CBC', crypto9: C.CRYPTO_CAMELLIA_CBC, ids: { 'cryptodev-linux': 101, freebsd: 21, netbsd: 26 } },
  { name: 'CRYPTO_AES_XTS', crypto9: C.CRYPTO_AES_XTS, ids: { 'cryptodev-linux': 22, freebsd: 22 } },
  {
    name: 'CRYPTO_AES_ICM',
    crypto9: C.CRYPTO_AES_ICM,
    ids: { 'cryptodev-linux': 21, freebsd: 23 },
    notes: { 'cryptodev-linux': 'CRYPTO_AES_CTR: ctr(aes), the same 16-byte big-endian counter block' },
  },
  { name: 'CRYPTO_AES_NIST_GMAC', crypto9: C.CRYPTO_AES_NIST_GMAC, ids: { freebsd: 24 } },
  {
    name: 'CRYPTO_AES_NIST_GCM_16',
    crypto9: C.CRYPTO_AES_NIST_GCM_16,
    ids: { 'cryptodev-linux': 50, freebsd: 25, netbsd: 29 },
    notes: {
      netbsd:
        'CRYPTO_AES_GCM_16 through CIOCCRYPT, paired with CRYPTO_AES_{128,192,256}_GMAC: key = AES key ‖ 4-byte salt (RFC 4106), no AAD',
    },
  },
  {
    name: 'CRYPTO_AES_128_NIST_GMAC',
    crypto9: C.CRYPTO_AES_128_NIST_GMAC,
    ids: { netbsd: 30 },
    notes: { netbsd: 'the GMAC half of an AES-128-GCM session' },
  },
  {
    name: 'CRYPTO_AES_192_NIST_GMAC',
    crypto9: C.CRYPTO_AES_192_NIST_GMAC,
    ids: { netbsd: 31 },
    notes: { netbsd: 'the GMAC half of an AES-192-GCM session' },
  },
  {
    name: 'CRYPTO_AES_256_NIST_GMAC',
    crypto9: C.CRYPTO_AES_256_NIST_GMAC,
    ids: { netbsd: 32 },
    notes: { netbsd: 'the GMAC half of an AES-256-GCM session' },
  },
  { name: 'CRYPTO_BLAKE2B', crypto9: C.CRYPTO_BLAKE2B, ids: { freebsd: 29 } },
  { name: 'CRYPTO_BLAKE2S', crypto9: C.CRYPTO_BLAKE2S, ids: { freebsd: 30 } },
  { name: 'CRYPTO_CHACHA20', crypto9: C.CRYPTO_CHACHA20, ids: { freebsd: 31 } },
  { name: 'CRYPTO_SHA2_224_HMAC', crypto9: C.CRYPTO_SHA2_224_HMAC, ids: { 'cryptodev-linux': 107, freebsd: 32 } },
  { name: 'CRYPTO_RIPEMD160', crypto9: C.CRYPTO_RIPEMD160, ids: { 'cryptodev-linux': 102, freebsd: 33 } },
  { name: 'CRYPTO_SHA2_224', crypto9: C.CRYPTO_SHA2_224, ids: { 'cryptodev-linux': 103, freebsd: 34 } },
  { name: 'CRYPTO_SHA2_256', crypto9: C.CRYPTO_SHA2_256, ids: { 'cryptodev-linux': 104, freebsd: 35 } },
  { name: 'CRYPTO_SHA2_384', crypto9: C.CRYPTO_SHA2_384, ids: { 'cryptodev-linux': 105, freebsd: 36 } },
  { name: 'CRYPTO_SHA2_512', crypto9: C.CRYPTO_SHA2_512, ids: { 'cryptodev-linux': 106, freebsd: 37 } },
  { name: 'CRYPTO_POLY1305', crypto9: C.CRYPTO_POLY1305, ids: { freebsd: 38 } },
  { name: 'CRYPTO_AES_CCM_CBC_MAC', crypto9: C.CRYPTO_AES_CCM_CBC_MAC, ids: { freebsd: 39 } },
  {
    name: 'CRYPTO_AES_CCM_16',
    crypto9: C.CRYPTO_AES_CCM_16,
    ids: { 'cryptodev-linux': 51, freebsd: 40 },
    notes: { 'cryptodev-linux': 'ccm(aes): the IV is the 16-byte counter block prefix (flags ‖ nonce), not the nonce' },
  },
  { name: 'CRYPTO_CHACHA20_POLY1305', crypto9: C.CRYPTO_CHACHA20_POLY1305, ids: { freebsd: 41 } },
];

const BY_CRYPTO9 = new Map<number, DevCryptoAlgorithm>(DEVCRYPTO_ALGORITHMS.map((a) => [a.crypto9, a]));

/** The ABI's id for a crypto(9) algorithm (framework numbering), or undefined when it has none. */
export function devCryptoAlgorithmId(abi: DevCryptoAbi, crypto9Alg: number): number | undefined {
  return BY_CRYPTO9.get(crypto9Alg)?.ids[abi];
}

/** As {@link devCryptoAlgorithmId}, but an ABI without the algorithm is a KCryptoError EOPNOTSUPP. */
export function requireDevCryptoAlgorithm(abi: DevCryptoAbi, crypto9Alg: number): number {
  const id = devCryptoAlgorithmId(abi, crypto9Alg);
  if (id === undefined) {
    const name = BY_CRYPTO9.get(crypto9Alg)?.name ?? `algorithm ${crypto9Alg}`;
    throw invalid('EOPNOTSUPP', `${name} is not available through /dev/crypto on ${abi}`, devCryptoDriverName(abi, ''));
  }
  return id;
}
