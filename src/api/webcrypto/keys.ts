/**
 * importKey, exportKey and generateKey for secret keys (AES-CBC/CTR/GCM, HMAC) in the formats
 * `raw` and `jwk`, with the checks Node's `crypto.subtle` makes and the DOMException names it
 * gives (its quirks included, so that code written against one behaves the same on the other).
 */
import { Buffer } from 'node:buffer';

import { fillRandom } from '../../kernel/random.js';
import { domError, typeError } from './errors.js';
import { keyBytes, makeKey, type KCryptoKey, type SecretKeyAlgorithm } from './key.js';
import { bytesOf, HASHES, type HashName, type KeyFormat, type Normalized, type Usage } from './normalize.js';
import { arrayBufferOf } from './sessions.js';

/** A JSON Web Key of a secret key, as exportKey('jwk') gives one. */
export interface SecretJwk {
  kty: 'oct';
  k: string;
  alg: string;
  ext: boolean;
  key_ops: Usage[];
}

const AES_USAGES: readonly Usage[] = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
const HMAC_USAGES: readonly Usage[] = ['sign', 'verify'];
/** HMAC's default key length: the hash's block size. */
const BLOCK_BITS: Record<HashName, number> = { 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 };

function checkUsages(name: string, usages: readonly Usage[]): void {
  const allowed = name === 'HMAC' ? HMAC_USAGES : AES_USAGES;
  if (usages.some((u) => !allowed.includes(u)))
    throw domError('SyntaxError', `Unsupported key usage for ${name === 'HMAC' ? 'an HMAC' : 'an AES'} key`);
}

/** The JWK `alg` of a key. */
function jwkAlgOf(a: SecretKeyAlgorithm): string {
  if (a.name === 'HMAC') return `HS${a.hash.name.slice(4)}`;
  return `A${a.length}${a.name.slice(4)}`;
}

/** A JsonWebKey argument: WebIDL refuses a non-object, and a `key_ops` that is not a sequence. */
function jwkArgument(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null)
    throw typeError(
      'ERR_INVALID_ARG_TYPE',
      "Failed to execute 'importKey' on 'SubtleCrypto': 2nd argument can not be converted to a dictionary",
    );
  const jwk = v as Record<string, unknown>;
  const ops = jwk['key_ops'];
  if (ops !== undefined && (typeof ops !== 'object' || ops === null || typeof (ops as Iterable<unknown>)[Symbol.iterator] !== 'function'))
    throw typeError(
      'ERR_INVALID_ARG_TYPE',
      "Failed to execute 'importKey' on 'SubtleCrypto': 'key_ops' of 'JsonWebKey' (2nd argument) can not be converted to sequence.",
    );
  return jwk;
}

/** The key bytes of a JWK for `expectedAlg`, checked as Node checks them. */
function jwkBytes(
  jwk: Record<string, unknown>,
  expectedAlg: string | undefined,
  use: string,
  extractable: boolean,
  usages: readonly Usage[],
): Uint8Array {
  if (jwk['kty'] === undefined) throw domError('DataError', 'Invalid keyData');
  if (jwk['kty'] !== 'oct') throw domError('DataError', 'Invalid JWK "kty" Parameter');
  if (typeof jwk['k'] !== 'string') throw domError('DataError', 'Invalid keyData');
  if (jwk['use'] !== undefined && jwk['use'] !== use) throw domError('DataError', 'Invalid JWK "use" Parameter');
  const ops = jwk['key_ops'] as Iterable<unknown> | undefined;
  if (ops !== undefined) {
    const list = [...ops].map(String);
    if (new Set(list).size !== list.length) throw domError('DataError', 'Duplicate key operation');
    if (usages.some((u) => !list.includes(u))) throw domError('DataError', 'Key operations and usage mismatch');
  }
  if (jwk['ext'] !== undefined && jwk['ext'] === false && extractable)
    throw domError('DataError', 'JWK "ext" Parameter and extractable mismatch');
  const bytes = new Uint8Array(Buffer.from(jwk['k'], 'base64url'));
  if (expectedAlg !== undefined && jwk['alg'] !== undefined && jwk['alg'] !== expectedAlg)
    throw domError('DataError', 'JWK "alg" does not match the requested algorithm');
  return bytes;
}

/** importKey() once its arguments are converted: a new key, or the DOMException Node gives. */
export function importSecretKey(format: KeyFormat, keyData: unknown, alg: Normalized, extractable: boolean, usages: Usage[]): KCryptoKey {
  checkUsages(alg.name, usages);
  let bytes: Uint8Array;
  if (format === 'spki' || format === 'pkcs8') {
    // Node's own names for these refusals: NotSupportedError for AES, a DOMException named 'Error' for HMAC.
    throw domError(
      alg.name === 'HMAC' ? 'Error' : 'NotSupportedError',
      `Unable to import ${alg.name === 'HMAC' ? 'HMAC' : 'AES'} key with format ${format}`,
    );
  }
  if (format === 'raw') {
    const b = bytesOf(keyData);
    if (!b)
      throw typeError(
        'ERR_INVALID_ARG_TYPE',
        "Failed to execute 'importKey' on 'SubtleCrypto': 2nd argument is not instance of ArrayBuffer, Buffer, TypedArray, or DataView.",
      );
    bytes = b;
  } else {
    const jwk = jwkArgument(keyData);
    const expected = alg.name === 'HMAC' ? jwkAlgOf({ name: 'HMAC', length: 0, hash: { name: alg.hash! } }) : undefined;
    bytes = jwkBytes(jwk, expected, alg.name === 'HMAC' ? 'sig' : 'enc', extractable, usages);
    if (alg.name !== 'HMAC' && jwk['alg'] !== undefined && [16, 24, 32].includes(bytes.length)) {
      if (jwk['alg'] !== jwkAlgOf({ name: alg.name as 'AES-CBC', length: bytes.length * 8 }))
        throw domError('DataError', 'JWK "alg" does not match the requested algorithm');
    }
  }
  let algorithm: SecretKeyAlgorithm;
  if (alg.name === 'HMAC') {
    if (bytes.length === 0) throw domError('DataError', 'Zero-length key is not supported');
    if (alg.length !== undefined && alg.length !== bytes.length * 8) throw domError('DataError', 'Invalid key length');
    algorithm = { name: 'HMAC', length: bytes.length * 8, hash: { name: alg.hash! } };
  } else {
    if (![16, 24, 32].includes(bytes.length)) throw domError('DataError', 'Invalid key length');
    algorithm = { name: alg.name as 'AES-CBC', length: bytes.length * 8 };
  }
  if (usages.length === 0) throw domError('SyntaxError', 'Usages cannot be empty when importing a secret key.');
  return makeKey(algorithm, extractable, usages, bytes);
}

/** exportKey() once its arguments are converted. */
export function exportSecretKey(format: KeyFormat, key: KCryptoKey): ArrayBuffer | SecretJwk {
  // Node 20 names this DOMException 'InvalidAccessException' (not WebCrypto's InvalidAccessError).
  if (!key.extractable) throw domError('InvalidAccessException', 'key is not extractable');
  const name = key.algorithm.name === 'HMAC' ? 'HMAC' : key.algorithm.name;
  if (format === 'spki' || format === 'pkcs8')
    throw domError('InvalidAccessError', `Unable to export a ${format === 'spki' ? 'raw' : format} ${name} secret key`);
  const bytes = keyBytes(key);
  if (format === 'raw') return arrayBufferOf(bytes);
  return {
    key_ops: [...key.usages],
    ext: key.extractable,
    kty: 'oct',
    k: Buffer.from(bytes).toString('base64url'),
    alg: jwkAlgOf(key.algorithm),
  };
}

/** generateKey() once its arguments are converted: the key's bytes from the kernel's RNG. */
export function generateSecretKey(alg: Normalized, extractable: boolean, usages: Usage[]): KCryptoKey {
  checkUsages(alg.name, usages);
  let algorithm: SecretKeyAlgorithm;
  if (alg.name === 'HMAC') {
    const length = alg.length ?? BLOCK_BITS[alg.hash!];
    if (length === 0) throw domError('OperationError', 'The operation failed for an operation-specific reason');
    if (length % 8 !== 0)
      throw typeError('ERR_INVALID_ARG_VALUE', `The property 'algorithm.length' must be a multiple of 8. Received ${length}`);
    algorithm = { name: 'HMAC', length, hash: { name: alg.hash! } };
  } else {
    if (alg.length !== 128 && alg.length !== 192 && alg.length !== 256)
      throw domError('OperationError', 'AES key length must be 128, 192, or 256 bits');
    algorithm = { name: alg.name as 'AES-CBC', length: alg.length };
  }
  if (usages.length === 0) throw domError('SyntaxError', 'Usages cannot be empty when creating a key.');
  return makeKey(algorithm, extractable, usages, fillRandom(new Uint8Array(algorithm.length / 8)));
}

/** The kcrypto hash name of a WebCrypto one. */
export function hashOf(name: HashName): string {
  return HASHES[name];
}
