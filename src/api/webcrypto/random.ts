/**
 * getRandomValues() and randomUUID() from the kernel's RNG (getrandom(2) through the addon),
 * with Node's checks and DOMException names.
 */
import { fillRandom, randomSource, type RandomSourceInfo } from '../../kernel/random.js';
import { domError } from './errors.js';

/** The most bytes one getRandomValues() call fills (WebCrypto's quota). */
const QUOTA = 65536;

type IntegerArray =
  Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

function isIntegerArray(v: unknown): v is IntegerArray {
  return (
    v instanceof Int8Array ||
    v instanceof Uint8Array ||
    v instanceof Uint8ClampedArray ||
    v instanceof Int16Array ||
    v instanceof Uint16Array ||
    v instanceof Int32Array ||
    v instanceof Uint32Array ||
    v instanceof BigInt64Array ||
    v instanceof BigUint64Array
  );
}

/**
 * Fills an integer typed array with random bytes and returns it, synchronously: a
 * `TypeMismatchError` for anything else (float arrays, DataView), a `QuotaExceededError` past
 * 65536 bytes, as Node's `crypto.getRandomValues()`.
 */
export function getRandomValues<T extends NodeJS.ArrayBufferView | null>(array: T): T {
  if (!isIntegerArray(array)) throw domError('TypeMismatchError', 'The data argument must be an integer-type TypedArray');
  if (array.byteLength > QUOTA) throw domError('QuotaExceededError', 'The requested length exceeds 65,536 bytes');
  fillRandom(array);
  return array;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A random (version 4) UUID, as `crypto.randomUUID()` gives one. */
export function randomUUID(): `${string}-${string}-${string}-${string}-${string}` {
  const b = fillRandom(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => HEX[x]!);
  return `${h.slice(0, 4).join('')}-${h.slice(4, 6).join('')}-${h.slice(6, 8).join('')}-${h.slice(8, 10).join('')}-${h.slice(10).join('')}`;
}

/** Where getRandomValues() and randomUUID() take their bytes: `'getrandom'` (the kernel) or `'node:crypto'`. */
export function randomValuesSource(): RandomSourceInfo {
  return { ...randomSource() };
}
