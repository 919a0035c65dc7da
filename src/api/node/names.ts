/**
 * The node:crypto names the drop-ins serve: node's cipher and hash names that a kcrypto
 * driver implements, with node's aliases (`aes128`, `id-aes128-GCM`, `RSA-SHA256`, …) mapped to
 * the catalog entry they stand for.
 */
import * as nodeCrypto from 'node:crypto';

import { ciphers, findCipher, findHash, type AeadAlgorithm, type CipherAlgorithm, type HashAlgorithm } from '../../algorithms/catalog.js';

/** node:crypto's cipher aliases for the catalog's names. */
const CIPHER_ALIASES: Record<string, string> = {
  aes128: 'aes-128-cbc',
  aes192: 'aes-192-cbc',
  aes256: 'aes-256-cbc',
  'id-aes128-gcm': 'aes-128-gcm',
  'id-aes192-gcm': 'aes-192-gcm',
  'id-aes256-gcm': 'aes-256-gcm',
  'id-aes128-ccm': 'aes-128-ccm',
  'id-aes192-ccm': 'aes-192-ccm',
  'id-aes256-ccm': 'aes-256-ccm',
};

/** node:crypto's hash aliases for the catalog's names (OpenSSL's signature-algorithm names). */
const HASH_ALIASES: Record<string, string> = {
  'rsa-md5': 'md5',
  'rsa-sha1': 'sha1',
  'rsa-sha1-2': 'sha1',
  'rsa-sha224': 'sha224',
  'rsa-sha256': 'sha256',
  'rsa-sha384': 'sha384',
  'rsa-sha512': 'sha512',
  'rsa-sha3-224': 'sha3-224',
  'rsa-sha3-256': 'sha3-256',
  'rsa-sha3-384': 'sha3-384',
  'rsa-sha3-512': 'sha3-512',
  'rsa-ripemd160': 'ripemd160',
  'rsa-sm3': 'sm3',
  ripemd: 'ripemd160',
  rmd160: 'ripemd160',
};

let nodeCiphers: Set<string> | undefined;
let nodeHashes: Set<string> | undefined;

/** The catalog cipher a node:crypto cipher name stands for, if this Node has it too. */
export function cipherByNodeName(name: string): CipherAlgorithm | AeadAlgorithm | undefined {
  const lower = name.toLowerCase();
  nodeCiphers ??= new Set(nodeCrypto.getCiphers().map((n) => n.toLowerCase()));
  if (!nodeCiphers.has(lower)) return undefined;
  const alg = findCipher(CIPHER_ALIASES[lower] ?? lower);
  return alg && alg.mode !== 'authenc' ? alg : undefined;
}

/** The catalog hash a node:crypto hash name stands for, if this Node has it too. */
export function hashByNodeName(name: string): HashAlgorithm | undefined {
  const lower = name.toLowerCase();
  nodeHashes ??= new Set(nodeCrypto.getHashes().map((n) => n.toLowerCase()));
  if (!nodeHashes.has(lower)) return undefined;
  const h = findHash(HASH_ALIASES[lower] ?? lower);
  return h?.name === (HASH_ALIASES[lower] ?? lower) ? h : undefined;
}

/** node:crypto's `getCiphers()`, narrowed to the names kcrypto's drivers serve. */
export function getCiphers(): string[] {
  return nodeCrypto.getCiphers().filter((n) => cipherByNodeName(n) !== undefined);
}

/** node:crypto's `getHashes()`, narrowed to the names kcrypto's drivers serve. */
export function getHashes(): string[] {
  return nodeCrypto.getHashes().filter((n) => hashByNodeName(n) !== undefined);
}

/** Every catalog cipher, for the tests' sweep. */
export function catalogCiphers(): readonly (CipherAlgorithm | AeadAlgorithm)[] {
  return ciphers().filter((c) => c.mode !== 'authenc');
}
