/**
 * The errors kcrypto throws for misuse of its API, built as Node builds its own: the same
 * classes (TypeError, RangeError, Error), the same `code`s and the same messages, so a program
 * that handles node:crypto's misuse errors handles kcrypto's. What a kernel or driver did is a
 * KCryptoError instead (src/errors.ts).
 */
import { inspect } from 'node:util';

/** An error with Node's `code`, as Node's own errors carry it. */
export type NodeError<E extends Error = Error> = E & { readonly code: string };

/** The byte inputs kcrypto takes (keys, IVs, tags, AAD, seeds): any ArrayBufferView. */
export const BYTES = ['Buffer', 'TypedArray', 'DataView'];
/** Request data: bytes, or a string in the request's encoding. */
export const DATA = ['string', ...BYTES];

const PRIMITIVES = new Set(['string', 'function', 'number', 'boolean', 'bigint', 'symbol', 'object']);

/** `err` with `code`, its stack headed `TypeError [CODE]: …` and its toString() as Node's errors have them. */
function coded<E extends Error>(err: E, code: string): NodeError<E> {
  const header = `${err.name} [${code}]`;
  const own = { configurable: true, writable: true };
  if (err.stack !== undefined) Object.defineProperty(err, 'stack', { ...own, value: err.stack.replace(err.name, header) });
  Object.defineProperty(err, 'toString', {
    ...own,
    value(this: Error) {
      return `${header}: ${this.message}`;
    },
  });
  return Object.defineProperty(err, 'code', { ...own, value: code, enumerable: true }) as NodeError<E>;
}

/** `a`, `a or b`, `a, b, or c`: how Node lists alternatives. */
function alternatives(items: string[]): string {
  if (items.length <= 2) return items.join(' or ');
  return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;
}

/** What Node's messages say after `Received` for a value of the wrong type. */
export function received(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'boolean':
      return `type boolean (${String(value)})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: unknown } }).constructor;
      if ((typeof ctor === 'function' || (typeof ctor === 'object' && ctor !== null)) && 'name' in ctor)
        return `an instance of ${String(ctor.name)}`;
      return inspect(value, { depth: -1 });
    }
    case 'string': {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return s.includes("'") ? `type string (${JSON.stringify(s)})` : `type string ('${s}')`;
    }
    default:
      return `type ${typeof value}`;
  }
}

/** `The "name" argument` or, for a dotted name, `The "options.x" property`. */
function subject(name: string): string {
  return `The "${name}" ${name.includes('.') ? 'property' : 'argument'}`;
}

/**
 * ERR_INVALID_ARG_TYPE (TypeError): `name` is not of the `expected` types, each a primitive
 * type name (`'string'`) or a class name (`'Buffer'`).
 */
export function invalidArgType(name: string, expected: string | string[], actual: unknown): NodeError<TypeError> {
  const list = Array.isArray(expected) ? expected : [expected];
  const types = list.filter((t) => PRIMITIVES.has(t));
  const instances = list.filter((t) => !PRIMITIVES.has(t));
  const parts: string[] = [];
  if (types.length > 0) parts.push(`${types.length > 1 ? 'one of type' : 'of type'} ${alternatives(types)}`);
  if (instances.length > 0) parts.push(`an instance of ${alternatives(instances)}`);
  return coded(new TypeError(`${subject(name)} must be ${parts.join(' or ')}. Received ${received(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

/**
 * ERR_INVALID_ARG_VALUE (TypeError, or RangeError for a value of the right type out of its
 * set): `The argument 'name' <reason>. Received <value>`. Never pass key material as `value`:
 * it is printed.
 */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid', range = false): NodeError<TypeError | RangeError> {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  const message = `The ${name.includes('.') ? 'property' : 'argument'} '${name}' ${reason}. Received ${shown}`;
  return coded(range ? new RangeError(message) : new TypeError(message), 'ERR_INVALID_ARG_VALUE');
}

/** Node's `1_000_000` for integers beyond 2^32 in range errors. */
function withSeparators(digits: string): string {
  const start = digits.startsWith('-') ? 1 : 0;
  let out = '';
  let i = digits.length;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return `${digits.slice(0, i)}${out}`;
}

/** ERR_OUT_OF_RANGE (RangeError): `The value of "name" is out of range. It must be <range>. Received <value>`. */
export function outOfRange(name: string, range: string, value: unknown): NodeError<RangeError> {
  const shown = Number.isInteger(value) && Math.abs(value as number) > 2 ** 32 ? withSeparators(String(value)) : inspect(value);
  return coded(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`), 'ERR_OUT_OF_RANGE');
}

/** ERR_MISSING_ARGS (TypeError); a group of names is `"a" or "b"`: one of them is needed. */
export function missingArgs(...names: (string | string[])[]): NodeError<TypeError> {
  const quoted = names.map((n) => (Array.isArray(n) ? n.map((x) => `"${x}"`).join(' or ') : `"${n}"`));
  const list =
    quoted.length === 1
      ? `${quoted[0]} argument`
      : quoted.length === 2
        ? `${quoted[0]} and ${quoted[1]} arguments`
        : `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]} arguments`;
  return coded(new TypeError(`The ${list} must be specified`), 'ERR_MISSING_ARGS');
}

/** ERR_UNKNOWN_ENCODING (TypeError). */
export function unknownEncoding(encoding: unknown): NodeError<TypeError> {
  return coded(new TypeError(`Unknown encoding: ${String(encoding)}`), 'ERR_UNKNOWN_ENCODING');
}

/** ERR_INVALID_STATE (Error): a call the process's state no longer allows. */
export function invalidState(reason: string): NodeError {
  return coded(new Error(`Invalid state: ${reason}`), 'ERR_INVALID_STATE');
}

/** ERR_CRYPTO_UNKNOWN_CIPHER (Error): a cipher name kcrypto does not know. */
export function unknownCipher(): NodeError {
  return coded(new Error('Unknown cipher'), 'ERR_CRYPTO_UNKNOWN_CIPHER');
}

/** ERR_CRYPTO_INVALID_DIGEST (TypeError): a hash name kcrypto does not know. */
export function invalidDigest(name: unknown): NodeError<TypeError> {
  return coded(new TypeError(`Invalid digest: ${String(name)}`), 'ERR_CRYPTO_INVALID_DIGEST');
}

/** ERR_CRYPTO_INVALID_KEYLEN (RangeError): a key length the algorithm does not take. */
export function invalidKeyLength(): NodeError<RangeError> {
  return coded(new RangeError('Invalid key length'), 'ERR_CRYPTO_INVALID_KEYLEN');
}

/** ERR_CRYPTO_INVALID_IV (TypeError): an IV of a length the mode does not take, or one where it takes none. */
export function invalidIv(): NodeError<TypeError> {
  return coded(new TypeError('Invalid initialization vector'), 'ERR_CRYPTO_INVALID_IV');
}

/** ERR_CRYPTO_INVALID_AUTH_TAG (TypeError): a tag length the AEAD (or this session) does not take. */
export function invalidAuthTag(length: unknown): NodeError<TypeError> {
  return coded(new TypeError(`Invalid authentication tag length: ${String(length)}`), 'ERR_CRYPTO_INVALID_AUTH_TAG');
}

/** ERR_INVALID_STATE as a TypeError, as Node's web streams throw it for data they can no longer read. */
export function invalidStateTypeError(what: string): NodeError<TypeError> {
  return coded(new TypeError(`Invalid state: ${what}`), 'ERR_INVALID_STATE');
}
