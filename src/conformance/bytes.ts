/**
 * Hex and byte helpers for vectors and comparisons.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';

/** Bytes of a hex string (whitespace ignored). */
export function unhex(s: string): Buffer {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`not hex: ${s.slice(0, 40)}`);
  return Buffer.from(clean, 'hex');
}

/** Lower-case hex of some bytes. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Up to `max` bytes as hex, with the total length when cut. */
export function preview(b: Uint8Array, max = 32): string {
  return b.length <= max ? hex(b) : `${hex(b.subarray(0, max))}… (${b.length} bytes)`;
}

/**
 * Asserts two byte strings are equal. Unlike deepEqual it reports the length and first
 * differing offset instead of diffing megabytes of output.
 */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (Buffer.compare(actual, expected) === 0) return;
  let at = 0;
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
  assert.fail(
    `${what}: ${actual.length} bytes, expected ${expected.length}; first difference at offset ${at}: ` +
      `got ${preview(actual.subarray(at))}, expected ${preview(expected.subarray(at))}`,
  );
}

/** PKCS#7 padding to the 16-byte AES block (sessions are raw: padding is the caller's). */
export function pkcs7Pad(data: Uint8Array): Buffer {
  const n = 16 - (data.length % 16);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

/** Strips PKCS#7 padding; null when the padding is malformed. */
export function pkcs7Unpad(data: Uint8Array): Buffer | null {
  if (data.length === 0 || data.length % 16 !== 0) return null;
  const n = data[data.length - 1]!;
  if (n < 1 || n > 16) return null;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return null;
  return Buffer.from(data.subarray(0, data.length - n));
}
