/**
 * What a kernel or driver did: the error kcrypto rejects with when a driver refused or failed a
 * request, a tag did not verify, or a driver or device is not there. (Misuse of the API is a
 * TypeError or RangeError with node:crypto's `code` instead, as node:crypto throws it.)
 *
 * Each carries what a program needs to react to it without parsing a message: the errno name
 * (`code`), its number on this host (`errno`), the system call that produced it (`syscall`, or
 * `'validate'` when kcrypto gave the driver's refusal before reaching the kernel), and the
 * kcrypto driver that was serving the request.
 */
export class KCryptoError extends Error {
  /** errno name, e.g. `'EBADMSG'` for a failed authentication tag. */
  readonly code: string;
  /** errno number on this host (Linux and the BSDs number them differently). */
  readonly errno: number;
  /** The system call that failed, or `'validate'` for a driver's refusal kcrypto gave before the kernel was asked. */
  readonly syscall: string;
  /** The kcrypto driver serving the request, e.g. `'afalg:cbc-aes-aesni'` or `'software'`. */
  readonly driver: string;

  constructor(message: string, fields: { code: string; errno: number; syscall: string; driver: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KCryptoError';
    this.code = fields.code;
    this.errno = fields.errno;
    this.syscall = fields.syscall;
    this.driver = fields.driver;
  }
}

/**
 * What a request rejects with when its `signal` aborted it before it reached a driver: as
 * Node's own promise APIs give it, `name` `'AbortError'`, `code` `'ABORT_ERR'`, and the signal's
 * reason as `cause`.
 */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
