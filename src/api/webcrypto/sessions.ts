/**
 * One operation, one session: each WebCrypto call opens a session on the chosen driver, runs
 * its requests and closes it, so that no descriptor outlives a call (a CryptoKey has no close()
 * to release one by).
 */
import { openSession, type DriverChoice, type SessionSpec } from '../open-session.js';
import type { AeadSession, CipherSession, HashSession } from '../session.js';
import { KCryptoError } from '../../errors.js';
import { domError, operationError } from './errors.js';

type SessionOf<S extends SessionSpec> = S extends { hash: string } | { hmac: string } ? HashSession : CipherSession | AeadSession;

/**
 * Runs `fn` on a session opened for `spec` on `driver`. A driver that cannot open the session
 * (it does not implement the algorithm, or refuses the key) is a `NotSupportedError`; a
 * request's failure an `OperationError`; the KCryptoError is the cause of either.
 */
export async function withSession<S extends SessionSpec, T>(
  spec: S,
  driver: DriverChoice,
  fn: (s: SessionOf<S>) => Promise<T>,
): Promise<T> {
  let session: SessionOf<S>;
  try {
    session = (await openSession(spec, { driver })) as SessionOf<S>;
  } catch (err) {
    if (err instanceof KCryptoError)
      throw domError('NotSupportedError', `driver ${driver} cannot serve this operation: ${err.message} (${err.code})`, err);
    throw err;
  }
  try {
    return await fn(session);
  } catch (err) {
    throw operationError(err);
  } finally {
    await session.close();
  }
}

/** A result as WebCrypto gives it: an ArrayBuffer of its own. */
export function arrayBufferOf(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
