/**
 * digest() over a BufferSource or a stream of them, and HMAC sign()/verify(), on kcrypto's
 * hash sessions.
 */
import { timingSafeEqual } from 'node:crypto';

import type { DriverChoice } from '../open-session.js';
import { typeError } from './errors.js';
import { hashOf } from './keys.js';
import { keyBytes, type KCryptoKey } from './key.js';
import type { BufferSource, HashName } from './normalize.js';
import { withSession } from './sessions.js';

/** What digest() takes: bytes, or (as proposed for WebCrypto) an iterable of byte chunks. */
export type DigestData = BufferSource | Iterable<BufferSource> | AsyncIterable<BufferSource>;

/** The chunks of a digest's data when it is a (sync or async) iterable; undefined when it is bytes. */
export function chunksOf(data: unknown): Iterable<unknown> | AsyncIterable<unknown> | undefined {
  // A string is iterable but is not data to WebCrypto: it stays a TypeError, as Node gives.
  if (typeof data !== 'object' || data === null || ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return undefined;
  const it = data as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  if (typeof it[Symbol.asyncIterator] === 'function' || typeof it[Symbol.iterator] === 'function') return data as Iterable<unknown>;
  return undefined;
}

/** digest() of bytes: one request. */
export function digestBytes(hash: HashName, data: Uint8Array, driver: DriverChoice): Promise<Uint8Array> {
  return withSession({ hash: hashOf(hash) }, driver, (s) => s.digest(data));
}

/**
 * digest() of a stream: each chunk fed to the session's incremental state as it comes, the
 * next taken once the driver has it, so no chunk is held after it was hashed.
 */
export function digestStream(
  hash: HashName,
  chunks: Iterable<unknown> | AsyncIterable<unknown>,
  driver: DriverChoice,
): Promise<Uint8Array> {
  return withSession({ hash: hashOf(hash) }, driver, async (s) => {
    let i = 0;
    for await (const chunk of chunks) {
      const bytes = ArrayBuffer.isView(chunk) ? chunk : chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : undefined;
      if (bytes === undefined)
        throw typeError(
          'ERR_INVALID_ARG_TYPE',
          `Failed to execute 'digest' on 'SubtleCrypto': chunk ${i} of the 2nd argument is not instance of ArrayBuffer, Buffer, TypedArray, or DataView.`,
        );
      await s.update(bytes);
      i++;
    }
    return s.final();
  });
}

/** The HMAC of `data` under `key` (an HMAC key, checked by the caller). */
export function hmacSign(key: KCryptoKey, data: Uint8Array, driver: DriverChoice): Promise<Uint8Array> {
  const alg = key.algorithm as { hash: { name: HashName } };
  return withSession({ hmac: hashOf(alg.hash.name), key: keyBytes(key) }, driver, (s) => s.digest(data));
}

/** Whether `signature` is the HMAC of `data`: compared in constant time. */
export async function hmacVerify(key: KCryptoKey, signature: Uint8Array, data: Uint8Array, driver: DriverChoice): Promise<boolean> {
  const mac = await hmacSign(key, data, driver);
  return mac.length === signature.length && timingSafeEqual(mac, signature);
}
