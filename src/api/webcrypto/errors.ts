/**
 * The errors WebCrypto throws, shaped as Node's `globalThis.crypto.subtle` throws them:
 * `DOMException`s by name for what the algorithms refuse, `TypeError`s with Node's `code` for
 * arguments of the wrong type.
 */
import { KCryptoError } from '../../errors.js';

/** A DOMException with WebCrypto's `name` (`NotSupportedError`, `OperationError`, …). */
export function domError(name: string, message: string, cause?: unknown): DOMException {
  const e = new DOMException(message, name);
  if (cause !== undefined) Object.defineProperty(e, 'cause', { value: cause, configurable: true, writable: true });
  return e;
}

/** A TypeError with Node's `code`, as Node's WebIDL conversions throw. */
export function typeError(code: string, message: string): TypeError & { code: string } {
  return Object.assign(new TypeError(message), { code });
}

/** The TypeError of an argument that is not a BufferSource. */
export function notBufferSource(method: string, position: string): TypeError {
  return typeError(
    'ERR_INVALID_ARG_TYPE',
    `Failed to execute '${method}' on 'SubtleCrypto': ${position} argument is not instance of ArrayBuffer, Buffer, TypedArray, or DataView.`,
  );
}

/**
 * What a driver's failure becomes: WebCrypto has one name for an operation that fails once its
 * arguments were accepted, `OperationError`; the KCryptoError (code, errno, driver) is its cause.
 */
export function operationError(err: unknown): unknown {
  if (err instanceof KCryptoError) return domError('OperationError', `${err.message} (${err.code} from ${err.driver})`, err);
  return err;
}
