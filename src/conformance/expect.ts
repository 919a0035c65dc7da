/**
 * Checks on the errors kcrypto rejects with.
 */
import assert from 'node:assert/strict';

import { KCryptoError } from '../errors.js';

/**
 * A validator for `assert.rejects`: a KCryptoError with this code and every field a program
 * relies on set (`errno` a number, `syscall` and `driver` strings); `driver`, when given, must
 * name the driver that served the request.
 */
export function kcryptoError(code: string, driver?: string): (err: unknown) => true {
  return (err) => {
    assertKCryptoError(err, code, driver);
    return true;
  };
}

/** Asserts `err` is a KCryptoError with this code and its fields set. */
export function assertKCryptoError(err: unknown, code: string, driver?: string): asserts err is KCryptoError {
  assert.ok(
    err instanceof KCryptoError,
    `expected a KCryptoError ${code}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
  );
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
  assert.equal(typeof err.errno, 'number', `errno of ${err.message}`);
  assert.ok(err.errno > 0, `errno of ${err.message} is ${err.errno}`);
  assert.equal(typeof err.syscall, 'string', `syscall of ${err.message}`);
  assert.ok(err.syscall.length > 0, `syscall of ${err.message} is empty`);
  assert.equal(typeof err.driver, 'string', `driver of ${err.message}`);
  if (driver !== undefined) assert.equal(err.driver, driver, `driver of ${err.message}`);
}

/**
 * A validator for `assert.rejects`: misuse, thrown as node:crypto throws it: never a
 * KCryptoError, an instance of `cls` (TypeError, RangeError, or Error) with Node's `code`.
 */
export function misuseError(cls: 'TypeError' | 'RangeError' | 'Error', code: string): (err: unknown) => true {
  return (err) => {
    assert.ok(!(err instanceof KCryptoError), `expected ${cls} ${code} for misuse, got ${describeError(err)}`);
    const ctor = { TypeError, RangeError, Error }[cls];
    assert.ok(err instanceof ctor, `expected a ${cls} ${code}, got ${describeError(err)}`);
    if (cls === 'Error')
      assert.ok(!(err instanceof TypeError) && !(err instanceof RangeError), `expected a plain Error, got ${describeError(err)}`);
    assert.equal((err as { code?: unknown }).code, code, describeError(err));
    return true;
  };
}

/** `code: message` of any thrown value, for failure reports. */
export function describeError(err: unknown): string {
  if (err instanceof KCryptoError) return `KCryptoError ${err.code} from ${err.syscall} on ${err.driver || 'no driver'}: ${err.message}`;
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error) return `${err.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${err.message}`;
  return String(err);
}
