/**
 * kcrypto's CryptoKey: a secret key of WebCrypto's shape (`type`, `extractable`, `algorithm`,
 * `usages`). Its bytes live outside the object, so they are neither enumerable nor shown by
 * `util.inspect`, and only this package's operations reach them.
 */
import type { webcrypto as nodeWebcrypto } from 'node:crypto';

import { HASHES, type AesName, type HashName, type KeyAlgorithmName, type Usage } from './normalize.js';
import { domError, typeError } from './errors.js';

/** `algorithm` of an AES key. */
export interface AesKeyAlgorithm {
  name: AesName;
  length: number;
}
/** `algorithm` of an HMAC key. */
export interface HmacKeyAlgorithm {
  name: 'HMAC';
  length: number;
  hash: { name: HashName };
}
/** `algorithm` of a {@link KCryptoKey}. */
export type SecretKeyAlgorithm = AesKeyAlgorithm | HmacKeyAlgorithm;

const secrets = new WeakMap<object, Uint8Array>();

/** A secret key for kcrypto's `subtle`: made by its `generateKey()` and `importKey()` only. */
export class KCryptoKey {
  /** Always `'secret'`: kcrypto's WebCrypto serves symmetric algorithms. */
  readonly type = 'secret' as const;
  /** Whether `exportKey()` may give the key's bytes. */
  readonly extractable: boolean;
  /** The algorithm the key is for, frozen. */
  readonly algorithm: Readonly<SecretKeyAlgorithm>;
  /** What the key may be used for, frozen. */
  readonly usages: readonly Usage[];

  /** @internal */
  constructor(token: symbol, algorithm: SecretKeyAlgorithm, extractable: boolean, usages: readonly Usage[], bytes: Uint8Array) {
    if (token !== CONSTRUCT) throw typeError('ERR_ILLEGAL_CONSTRUCTOR', 'Illegal constructor');
    this.extractable = extractable;
    this.algorithm = Object.freeze(
      algorithm.name === 'HMAC' ? { ...algorithm, hash: Object.freeze({ ...algorithm.hash }) } : { ...algorithm },
    );
    this.usages = Object.freeze([...usages]);
    secrets.set(this, bytes);
  }
}
// On the prototype, not enumerable: as a built-in's tag, and out of util.inspect's listing.
Object.defineProperty(KCryptoKey.prototype, Symbol.toStringTag, { value: 'CryptoKey', configurable: true });

const CONSTRUCT = Symbol('KCryptoKey');

/** A new key over `bytes` (which it keeps: pass a copy). */
export function makeKey(algorithm: SecretKeyAlgorithm, extractable: boolean, usages: readonly Usage[], bytes: Uint8Array): KCryptoKey {
  return new KCryptoKey(CONSTRUCT, algorithm, extractable, usages, bytes);
}

/** The key's bytes (the stored array: do not change it). */
export function keyBytes(key: KCryptoKey): Uint8Array {
  return secrets.get(key)!;
}

/** Node's own CryptoKey class, where this Node has one as a global. */
const NodeCryptoKey = (globalThis as { CryptoKey?: abstract new () => object }).CryptoKey;
const adopted = new WeakMap<object, Promise<KCryptoKey>>();

/**
 * A node:crypto CryptoKey as a kcrypto key: an extractable AES-CBC/CTR/GCM or HMAC key is
 * exported (raw) once and its copy kept for as long as the node key lives. A non-extractable
 * one is refused: its flag says its bytes stay where they are.
 */
async function adopt(key: nodeWebcrypto.CryptoKey): Promise<KCryptoKey> {
  const name = key.algorithm.name as KeyAlgorithmName;
  if (name !== 'AES-CBC' && name !== 'AES-CTR' && name !== 'AES-GCM' && name !== 'HMAC')
    throw domError('NotSupportedError', `kcrypto does not serve ${key.algorithm.name} keys`);
  if (!key.extractable)
    throw domError('InvalidAccessError', 'a non-extractable CryptoKey of node:crypto cannot be used by kcrypto: its bytes cannot be read');
  const raw = new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', key));
  const a = key.algorithm as unknown as { length: number; hash?: { name: string } };
  const algorithm: SecretKeyAlgorithm =
    name === 'HMAC' ? { name, length: a.length, hash: { name: a.hash!.name as HashName } } : { name, length: a.length };
  if (algorithm.name === 'HMAC' && !(algorithm.hash.name in HASHES)) throw domError('NotSupportedError', 'Unrecognized algorithm name');
  return makeKey(algorithm, key.extractable, key.usages, raw);
}

/**
 * The `position` argument of `method` as a kcrypto key: a {@link KCryptoKey}, or a node:crypto
 * CryptoKey adopted (see adopt()); anything else is a TypeError, as Node gives.
 */
export async function keyArgument(v: unknown, method: string, position: string): Promise<KCryptoKey> {
  if (v instanceof KCryptoKey) return v;
  if (NodeCryptoKey !== undefined && v instanceof NodeCryptoKey) {
    let p = adopted.get(v);
    if (!p) {
      p = adopt(v as nodeWebcrypto.CryptoKey);
      adopted.set(v, p);
      p.catch(() => adopted.delete(v));
    }
    return p;
  }
  throw typeError(
    'ERR_INVALID_ARG_TYPE',
    `Failed to execute '${method}' on 'SubtleCrypto': ${position} argument is not of type CryptoKey.`,
  );
}

/** WebCrypto's check that `key` is for `name` and allows `usage`: else InvalidAccessError. */
export function checkKey(key: KCryptoKey, name: string, usage: Usage): void {
  if (key.algorithm.name !== name || !key.usages.includes(usage))
    throw domError('InvalidAccessError', 'The requested operation is not valid for the provided key');
}
