/**
 * `createSubtle()`: a SubtleCrypto-shaped object whose operations run on a kcrypto driver.
 * Argument checks come first, in the order Node's `crypto.subtle` makes them, so that misuse
 * gives the same TypeError or DOMException name there and here.
 */
import type { webcrypto as nodeWebcrypto } from 'node:crypto';

import type { DriverChoice } from '../open-session.js';
import { aesCipher } from './aes.js';
import { chunksOf, digestBytes, digestStream, hmacSign, hmacVerify, type DigestData } from './digest.js';
import { domError, notBufferSource, typeError } from './errors.js';
import { checkKey, keyArgument, type KCryptoKey } from './key.js';
import { exportSecretKey, generateSecretKey, importSecretKey, type SecretJwk } from './keys.js';
import {
  bytesOf,
  formatOf,
  normalizeAlgorithm,
  usagesOf,
  type BufferSource,
  type HashName,
  type KeyFormat,
  type Usage,
} from './normalize.js';
import { arrayBufferOf } from './sessions.js';

/** Options of {@link createSubtle}. */
export interface SubtleOptions {
  /** The driver every operation runs on, as openSession's `driver` (default `'fastest'`). */
  driver?: DriverChoice;
}

/** An algorithm argument: a name, or an object with `name` and the algorithm's parameters. */
export type AlgorithmArgument = string | ({ name: string } & Record<string, unknown>);

function bufferArgument(v: unknown, method: string, position: string): Uint8Array {
  const b = bytesOf(v);
  if (!b) throw notBufferSource(method, position);
  return b;
}

/** WebIDL's boolean conversion: any value, by its truthiness (untyped callers pass anything). */
function webidlBoolean(v: unknown): boolean {
  return !!v;
}

function required(count: number, n: number, method: string): void {
  if (count < n)
    throw typeError(
      'ERR_MISSING_ARGS',
      `Failed to execute '${method}' on 'SubtleCrypto': ${n} arguments required, but only ${count} present.`,
    );
}

/** Turns a synchronous throw into a rejection, as SubtleCrypto's methods never throw. */
function rejecting<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * A SubtleCrypto over kcrypto: digest (SHA-1/256/384/512, of bytes or of a stream of chunks),
 * AES-CBC/CTR/GCM encrypt and decrypt, HMAC sign and verify, and importKey, exportKey and
 * generateKey for their secret keys (`raw`, `jwk`). Keys are {@link KCryptoKey}s; extractable
 * node:crypto CryptoKeys are accepted too. Other algorithms are a `NotSupportedError`.
 */
export class KSubtle {
  /** The driver this object's operations run on. */
  readonly driver: DriverChoice;

  constructor(options: SubtleOptions = {}) {
    this.driver = options.driver ?? 'fastest';
  }

  /**
   * The digest of `data`: bytes, or a sync or async iterable of byte chunks (a stream), hashed
   * chunk by chunk as they arrive on the session's incremental state.
   */
  digest(algorithm: AlgorithmArgument, data: DigestData): Promise<ArrayBuffer> {
    return rejecting(async () => {
      required(arguments.length, 2, 'digest');
      const chunks = chunksOf(data);
      const bytes = chunks ? undefined : bufferArgument(data, 'digest', '2nd');
      const alg = normalizeAlgorithm(algorithm, 'digest');
      const out = chunks
        ? await digestStream(alg.name as HashName, chunks, this.driver)
        : await digestBytes(alg.name as HashName, bytes!, this.driver);
      return arrayBufferOf(out);
    });
  }

  /** AES-CBC (PKCS#7 padded), AES-CTR or AES-GCM (ciphertext ‖ tag) encryption. */
  encrypt(algorithm: AlgorithmArgument, key: KCryptoKey | nodeWebcrypto.CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    return this.cipher('encrypt', arguments.length, algorithm, key, data);
  }

  /** The inverse of encrypt(): an `OperationError` for a bad tag or bad padding. */
  decrypt(algorithm: AlgorithmArgument, key: KCryptoKey | nodeWebcrypto.CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    return this.cipher('decrypt', arguments.length, algorithm, key, data);
  }

  private cipher(op: 'encrypt' | 'decrypt', count: number, algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    return rejecting(async () => {
      required(count, 3, op);
      const bytes = bufferArgument(data, op, '3rd');
      const alg = normalizeAlgorithm(algorithm, op);
      const k = await keyArgument(key, op, '2nd');
      checkKey(k, alg.name, op);
      return arrayBufferOf(await aesCipher(alg, k, bytes, op === 'decrypt', this.driver));
    });
  }

  /** The HMAC of `data`. */
  sign(algorithm: AlgorithmArgument, key: KCryptoKey | nodeWebcrypto.CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    return rejecting(async () => {
      required(arguments.length, 3, 'sign');
      const bytes = bufferArgument(data, 'sign', '3rd');
      const alg = normalizeAlgorithm(algorithm, 'sign');
      const k = await keyArgument(key, 'sign', '2nd');
      checkKey(k, alg.name, 'sign');
      return arrayBufferOf(await hmacSign(k, bytes, this.driver));
    });
  }

  /** Whether `signature` is the HMAC of `data` (compared in constant time). */
  verify(
    algorithm: AlgorithmArgument,
    key: KCryptoKey | nodeWebcrypto.CryptoKey,
    signature: BufferSource,
    data: BufferSource,
  ): Promise<boolean> {
    return rejecting(async () => {
      required(arguments.length, 4, 'verify');
      const sig = bufferArgument(signature, 'verify', '3rd');
      const bytes = bufferArgument(data, 'verify', '4th');
      const alg = normalizeAlgorithm(algorithm, 'verify');
      const k = await keyArgument(key, 'verify', '2nd');
      if (k.algorithm.name !== alg.name || !k.usages.includes('verify'))
        throw domError('InvalidAccessError', 'Unable to use this key to verify');
      return hmacVerify(k, sig, bytes, this.driver);
    });
  }

  /** A new AES key (`length` 128, 192 or 256) or HMAC key (`hash`, optional `length`), from the kernel's RNG. */
  generateKey(algorithm: AlgorithmArgument, extractable: boolean, keyUsages: Iterable<Usage>): Promise<KCryptoKey> {
    return rejecting(() => {
      required(arguments.length, 3, 'generateKey');
      const usages = usagesOf(keyUsages, 'generateKey');
      const alg = normalizeAlgorithm(algorithm, 'generateKey');
      return Promise.resolve(generateSecretKey(alg, webidlBoolean(extractable), usages));
    });
  }

  /** A key from `raw` bytes or a `jwk` (kty `oct`). */
  importKey(
    format: KeyFormat,
    keyData: BufferSource | nodeWebcrypto.JsonWebKey,
    algorithm: AlgorithmArgument,
    extractable: boolean,
    keyUsages: Iterable<Usage>,
  ): Promise<KCryptoKey> {
    return rejecting(() => {
      // Node 20 asks for 4 (the 5th, usages, then fails as not a sequence).
      required(arguments.length, 4, 'importKey');
      const f = formatOf(format, 'importKey');
      if (f === 'jwk' ? typeof keyData !== 'object' || keyData === null : bytesOf(keyData) === undefined && f === 'raw') {
        if (f === 'jwk')
          throw typeError(
            'ERR_INVALID_ARG_TYPE',
            "Failed to execute 'importKey' on 'SubtleCrypto': 2nd argument can not be converted to a dictionary",
          );
        throw notBufferSource('importKey', '2nd');
      }
      const usages = usagesOf(keyUsages, 'importKey');
      const alg = normalizeAlgorithm(algorithm, 'importKey');
      return Promise.resolve(importSecretKey(f, keyData, alg, webidlBoolean(extractable), usages));
    });
  }

  /** A key's bytes (`raw`, an ArrayBuffer) or its JWK; an extractable key only. */
  exportKey(format: KeyFormat, key: KCryptoKey | nodeWebcrypto.CryptoKey): Promise<ArrayBuffer | SecretJwk> {
    return rejecting(async () => {
      required(arguments.length, 2, 'exportKey');
      const f = formatOf(format, 'exportKey');
      return exportSecretKey(f, await keyArgument(key, 'exportKey', '2nd'));
    });
  }

  /** Not served by kcrypto: a `NotSupportedError`. */
  deriveBits(): Promise<ArrayBuffer> {
    return Promise.reject(domError('NotSupportedError', 'kcrypto does not serve deriveBits'));
  }
  /** Not served by kcrypto: a `NotSupportedError`. */
  deriveKey(): Promise<KCryptoKey> {
    return Promise.reject(domError('NotSupportedError', 'kcrypto does not serve deriveKey'));
  }
  /** Not served by kcrypto: a `NotSupportedError`. */
  wrapKey(): Promise<ArrayBuffer> {
    return Promise.reject(domError('NotSupportedError', 'kcrypto does not serve wrapKey'));
  }
  /** Not served by kcrypto: a `NotSupportedError`. */
  unwrapKey(): Promise<KCryptoKey> {
    return Promise.reject(domError('NotSupportedError', 'kcrypto does not serve unwrapKey'));
  }
}
// On the prototype, not enumerable: as a built-in's tag, and out of util.inspect's listing.
Object.defineProperty(KSubtle.prototype, Symbol.toStringTag, { value: 'SubtleCrypto', configurable: true });

/** A SubtleCrypto whose operations run on `options.driver` (default `'fastest'`). */
export function createSubtle(options?: SubtleOptions): KSubtle {
  return new KSubtle(options);
}
