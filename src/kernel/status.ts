/**
 * Decoding of the native status encoding (native/common/status.h) and errno naming.
 */
import { KCryptoError } from '../errors.js';
import { loadAddon } from './addon.js';

/** System call ids, in native/common/status.h order. */
const SYSCALLS = ['', 'socket', 'bind', 'setsockopt', 'accept', 'sendmsg', 'recvmsg', 'open', 'ioctl', 'poll', 'validate', 'getsockopt', 'close', 'read', 'write', 'pipe', 'vmsplice', 'splice'] as const;

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

/** Linux numbers, used only when the addon (and so the host's own table) is unavailable. */
const FALLBACK: Record<string, number> = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16,
  EEXIST: 17, ENODEV: 19, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25, ENOSPC: 28, ERANGE: 34, EDEADLK: 35, ENOSYS: 38,
  EBADMSG: 74, EOVERFLOW: 75, EMSGSIZE: 90, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93, ESOCKTNOSUPPORT: 94, EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97, ENOBUFS: 105, ETIMEDOUT: 110, EINPROGRESS: 115, ECANCELED: 125, ENOKEY: 126, EKEYREVOKED: 128,
  EKEYREJECTED: 129, ENOPKG: 65, ERESTART: 85, ESHUTDOWN: 108,
};

let byName: Record<string, number> | undefined;
let byNumber: Map<number, string> | undefined;

function tables(): { byName: Record<string, number>; byNumber: Map<number, string> } {
  if (!byName || !byNumber) {
    const { addon } = loadAddon();
    byName = addon ? { ...FALLBACK, ...addon.errnoTable() } : { ...FALLBACK };
    byNumber = new Map();
    // EOPNOTSUPP and ENOTSUP share a number on Linux; EAGAIN/EWOULDBLOCK likewise: first name wins.
    for (const [name, num] of Object.entries(byName)) if (!byNumber.has(num)) byNumber.set(num, name);
  }
  return { byName, byNumber };
}

/** The host's number for an errno name. */
export function errnoOf(name: string): number {
  const n = tables().byName[name];
  if (n === undefined) throw new TypeError(`unknown errno name ${name}`);
  return n;
}

/** The name of a host errno number (`'E' + number` when unknown). */
export function errnoName(errno: number): string {
  return tables().byNumber.get(errno) ?? `E${errno}`;
}

/** Builds the KCryptoError for an errno. */
export function systemError(errno: number, syscall: string, driver: string, what?: string): KCryptoError {
  const code = errnoName(errno);
  const msg = `${what ? `${what}: ` : ''}${code} (${syscall || 'kernel'})${driver ? ` [${driver}]` : ''}`;
  return new KCryptoError(msg, { code, errno, syscall, driver });
}

/** A KCryptoError for input kcrypto rejects before it reaches the kernel. */
export function invalid(code: string, message: string, driver: string): KCryptoError {
  return new KCryptoError(message, { code, errno: errnoOf(code), syscall: 'validate', driver });
}

/** Turns an error thrown by the addon (with `errno` and `syscall`) into a KCryptoError. */
export function fromNativeThrow(err: unknown, driver: string, what: string): KCryptoError {
  const e = err as { errno?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e?.errno === 'number') return systemError(e.errno, String(e.syscall ?? ''), driver, what);
  return new KCryptoError(`${what}: ${String(e?.message ?? err)}`, { code: 'EINVAL', errno: errnoOf('EINVAL'), syscall: 'validate', driver }, { cause: err });
}
