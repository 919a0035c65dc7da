/**
 * Decoding of the native status encoding (native/common/status.h) and the errors built from it.
 */
import { errnoName, errnoOf } from '../../errno.js';
import { KCryptoError } from '../../errors.js';

/** System call ids, in native/common/status.h order. */
const SYSCALLS = [
  '',
  'socket',
  'bind',
  'setsockopt',
  'accept',
  'sendmsg',
  'recvmsg',
  'open',
  'ioctl',
  'poll',
  'validate',
  'getsockopt',
  'close',
  'read',
  'write',
  'pipe',
  'vmsplice',
  'splice',
] as const;

/** Returned by `run()` when the request was queued instead. */
export const QUEUED = -1;

/** A failed native status. */
export interface DecodedError {
  errno: number;
  syscall: string;
}

/** Decodes a failed status (value < -1). */
export function decodeError(value: number): DecodedError {
  const v = -value - 2;
  const errno = v % 4096;
  const id = Math.floor(v / 4096);
  return { errno, syscall: SYSCALLS[id] ?? `syscall#${id}` };
}

/** Builds the KCryptoError for an errno. */
export function systemError(errno: number, syscall: string, driver: string, what?: string): KCryptoError {
  const code = errnoName(errno);
  const msg = `${what ? `${what}: ` : ''}${code} (${syscall || 'kernel'})${driver ? ` [${driver}]` : ''}`;
  return new KCryptoError(msg, { code, errno, syscall, driver });
}

/** A KCryptoError for what a driver refuses, given before the request reaches the kernel (its limits, an algorithm it lacks). */
export function invalid(code: string, message: string, driver: string): KCryptoError {
  return new KCryptoError(message, { code, errno: errnoOf(code), syscall: 'validate', driver });
}

/** Turns an error thrown by the addon (with `errno` and `syscall`) into a KCryptoError. */
export function fromNativeThrow(err: unknown, driver: string, what: string): KCryptoError {
  const e = err as { errno?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e?.errno === 'number') return systemError(e.errno, typeof e.syscall === 'string' ? e.syscall : '', driver, what);
  return new KCryptoError(
    `${what}: ${String(e?.message ?? err)}`,
    { code: 'EINVAL', errno: errnoOf('EINVAL'), syscall: 'validate', driver },
    { cause: err },
  );
}
