/**
 * WebCrypto's argument conversions and algorithm normalisation for the algorithms kcrypto
 * serves, with the errors Node's `crypto.subtle` gives: a TypeError where WebIDL refuses an
 * argument's type, `NotSupportedError` for an algorithm name the operation does not know.
 */
import { domError, typeError } from './errors.js';

/** Bytes as WebCrypto takes them: an ArrayBuffer or any view of one. */
export type BufferSource = ArrayBuffer | ArrayBufferView;

/** The WebCrypto operations that take an algorithm. */
export type Operation = 'digest' | 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'generateKey' | 'importKey';

/** The hashes WebCrypto names, with kcrypto's names. */
export const HASHES = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' } as const;
export type HashName = keyof typeof HASHES;

/** The secret-key algorithms served. */
export type AesName = 'AES-CBC' | 'AES-CTR' | 'AES-GCM';
export type KeyAlgorithmName = AesName | 'HMAC';

const NAMES: Record<Operation, readonly string[]> = {
  digest: Object.keys(HASHES),
  encrypt: ['AES-CBC', 'AES-CTR', 'AES-GCM'],
  decrypt: ['AES-CBC', 'AES-CTR', 'AES-GCM'],
  sign: ['HMAC'],
  verify: ['HMAC'],
  generateKey: ['AES-CBC', 'AES-CTR', 'AES-GCM', 'HMAC'],
  importKey: ['AES-CBC', 'AES-CTR', 'AES-GCM', 'HMAC'],
};

/** A normalised algorithm: its registered name and its parameters, converted and copied. */
export interface Normalized {
  name: string;
  iv?: Uint8Array;
  counter?: Uint8Array;
  length?: number;
  additionalData?: Uint8Array;
  tagLength?: number;
  hash?: HashName;
}

/** A copy of a BufferSource's bytes (WebCrypto copies its inputs when called), or undefined. */
export function bytesOf(v: unknown): Uint8Array | undefined {
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  return undefined;
}

/** WebIDL's [EnforceRange] integer conversion, as Node words its refusal. */
function enforceRange(v: unknown, what: string, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw typeError('ERR_INVALID_ARG_VALUE', `${what} is not a finite number.`);
  const i = Math.trunc(n);
  if (i < 0 || i > max) throw typeError('ERR_OUT_OF_RANGE', `${what} is outside the expected range of 0 to ${max}.`);
  return i;
}

function missing(dictionary: string, member: string): TypeError {
  return typeError(
    'ERR_MISSING_OPTION',
    `Failed to normalize algorithm: passed algorithm can not be converted to '${dictionary}' because '${member}' is required in '${dictionary}'.`,
  );
}

function bufferMember(params: Record<string, unknown>, dictionary: string, member: string, required: boolean): Uint8Array | undefined {
  const v = params[member];
  if (v === undefined) {
    if (required) throw missing(dictionary, member);
    return undefined;
  }
  const b = bytesOf(v);
  if (!b)
    throw typeError(
      'ERR_INVALID_ARG_TYPE',
      `Failed to normalize algorithm: ${member} in '${dictionary}' is not instance of ArrayBuffer, Buffer, TypedArray, or DataView.`,
    );
  return b;
}

/** The name and parameters of an AlgorithmIdentifier (a string or an object with `name`). */
function identifier(alg: unknown): { name: string; params: Record<string, unknown> } {
  // WebIDL's (object or DOMString): anything not an object is taken as its string.
  if (typeof alg !== 'object' || alg === null) return { name: String(alg), params: {} };
  const params = alg as Record<string, unknown>;
  if (params['name'] === undefined) throw missing('Algorithm', 'name');
  // WebIDL's DOMString conversion of whatever `name` holds.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- an object's name converts as String() converts it, as Node's does
  return { name: String(params['name']), params };
}

/** `hash` of HMAC's parameters: a hash algorithm identifier, normalised for digest. */
function hashMember(params: Record<string, unknown>, dictionary: string): HashName {
  if (params['hash'] === undefined) throw missing(dictionary, 'hash');
  return normalizeAlgorithm(params['hash'], 'digest').name as HashName;
}

/** WebCrypto's "normalize an algorithm" for `op`, over the algorithms kcrypto serves. */
export function normalizeAlgorithm(alg: unknown, op: Operation): Normalized {
  const { name: given, params } = identifier(alg);
  const name = NAMES[op].find((n) => n.toUpperCase() === given.toUpperCase());
  if (name === undefined) throw domError('NotSupportedError', 'Unrecognized algorithm name');
  const out: Normalized = { name };
  if (op === 'encrypt' || op === 'decrypt') {
    if (name === 'AES-CBC') out.iv = bufferMember(params, 'AesCbcParams', 'iv', true)!;
    if (name === 'AES-CTR') {
      out.counter = bufferMember(params, 'AesCtrParams', 'counter', true)!;
      if (params['length'] === undefined) throw missing('AesCtrParams', 'length');
      out.length = enforceRange(params['length'], 'length', 255);
    }
    if (name === 'AES-GCM') {
      out.iv = bufferMember(params, 'AesGcmParams', 'iv', true)!;
      const aad = bufferMember(params, 'AesGcmParams', 'additionalData', false);
      if (aad) out.additionalData = aad;
      if (params['tagLength'] !== undefined) out.tagLength = enforceRange(params['tagLength'], 'tagLength', 255);
    }
  } else if (op === 'generateKey' || op === 'importKey') {
    if (name === 'HMAC') {
      out.hash = hashMember(params, op === 'generateKey' ? 'HmacKeyGenParams' : 'HmacImportParams');
      if (params['length'] !== undefined) out.length = enforceRange(params['length'], 'length', 0xffffffff);
    } else if (op === 'generateKey') {
      if (params['length'] === undefined) throw missing('AesKeyGenParams', 'length');
      out.length = enforceRange(params['length'], 'length', 0xffff);
    }
  }
  return out;
}

/** The key usages WebCrypto defines. */
export const USAGES = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'] as const;
export type Usage = (typeof USAGES)[number];

/** A `sequence<KeyUsage>` argument, checked as WebIDL checks one. */
export function usagesOf(v: unknown, method: string): Usage[] {
  if (typeof v !== 'object' || v === null || typeof (v as Iterable<unknown>)[Symbol.iterator] !== 'function')
    throw typeError(
      'ERR_INVALID_ARG_TYPE',
      `Failed to execute '${method}' on 'SubtleCrypto': 3rd argument can not be converted to sequence.`,
    );
  const out: Usage[] = [];
  for (const u of v as Iterable<unknown>) {
    const s = String(u);
    if (!(USAGES as readonly string[]).includes(s))
      throw typeError(
        'ERR_INVALID_ARG_VALUE',
        `Failed to execute '${method}' on 'SubtleCrypto': value '${s}' is not a valid enum value of type KeyUsage.`,
      );
    out.push(s as Usage);
  }
  return out;
}

/** The key formats WebCrypto defines (kcrypto's secret keys take 'raw' and 'jwk'). */
export type KeyFormat = 'raw' | 'jwk' | 'spki' | 'pkcs8';

/** A `KeyFormat` argument. */
export function formatOf(v: unknown, method: string): KeyFormat {
  const s = String(v);
  if (s !== 'raw' && s !== 'jwk' && s !== 'spki' && s !== 'pkcs8')
    throw typeError(
      'ERR_INVALID_ARG_VALUE',
      `Failed to execute '${method}' on 'SubtleCrypto': 1st argument value '${s}' is not a valid enum value of type KeyFormat.`,
    );
  return s;
}
