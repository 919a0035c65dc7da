/**
 * One engine request's shape, apart from the session that runs it: its arguments, its size, a
 * request that waits to run (on a thread, or inline later), and the error of a closed session.
 */
import type { KCryptoError } from '../../../errors.js';
import { errnoOf } from '../../../errno.js';
import { systemError } from '../status.js';
import type { KernelSession } from './session.js';
import { Control, type Abandonment, type ControlCode, type OpCode } from './types.js';

/** A request's input: one buffer, several taken in order, or none. */
export type Input = Uint8Array | Uint8Array[] | null;

/**
 * The arguments of `KernelSession.request()` and `requestNow()`: op, input, output, IV, AEAD
 * associated-data length, hash stream (-1: none), the map of output bytes to the result, and
 * whether the caller never reads `output` after a failure (see `request()`).
 */
export type RequestArgs<T> = [
  op: OpCode,
  input: Input,
  output: Uint8Array | null,
  iv: Uint8Array | null,
  assocLen: number,
  stream?: number,
  map?: (bytes: number) => T,
  outputDisposable?: boolean,
];

/**
 * A request that does not complete at once (on a thread, or inline later): what it runs on,
 * and whom it answers. On a thread the same object is its pending entry (one object a request,
 * made with every field, so that all have one shape).
 */
export interface Later {
  /** A request's operation, or a session control (which runs on a thread only). */
  op: OpCode | ControlCode;
  input: Input;
  output: Uint8Array | null;
  iv: Uint8Array | null;
  assocLen: number;
  stream: number;
  size: number;
  map: (bytes: number) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  outputDisposable: boolean;
  /** Its id on the addon's threads (0 until it goes there). */
  id: number;
  /** The session it runs on, once on a thread. */
  session: KernelSession | null;
  /** performance.now() at submission, when nothing else was in flight (a clean hop sample); else -1. */
  aloneSince: number;
}

/** A {@link Later} on the addon's threads. */
export type Pending = Later & { session: KernelSession };

/** A {@link Later} (made only for a request that does not complete at once). */
export function later<T>(
  op: OpCode | ControlCode,
  input: Input,
  output: Uint8Array | null,
  iv: Uint8Array | null,
  assocLen: number,
  stream: number,
  size: number,
  map: (bytes: number) => T,
  resolve: (v: T) => void,
  reject: (e: unknown) => void,
  outputDisposable: boolean,
): Later {
  return {
    op,
    input,
    output,
    iv,
    assocLen,
    stream,
    size,
    map,
    resolve: resolve as (v: unknown) => void,
    reject,
    outputDisposable,
    id: 0,
    session: null,
    aloneSince: -1,
  };
}

/** Whether `op` is a session control (open, close) rather than a request. */
export function isControl(op: OpCode | ControlCode): op is ControlCode {
  return op >= Control.Open;
}

export function inputSize(input: Input): number {
  if (input === null) return 0;
  if (Array.isArray(input)) {
    let n = 0;
    for (const b of input) n += b.length;
    return n;
  }
  return input.length;
}

let ebadf: number | undefined;

/** The error of a request to a session that is closed or closing. */
export function closedError(driver: string): KCryptoError {
  ebadf ??= errnoOf('EBADF');
  return systemError(ebadf, 'validate', driver, 'session is closed');
}

/** The error of a request to a session that was abandoned (see `KernelSession.abandon`). */
export function abandonedError(driver: string, abandonment: Abandonment | null): KCryptoError {
  return systemError(errnoOf('ESHUTDOWN'), 'validate', driver, `session abandoned: ${abandonment?.detail ?? 'unknown cause'}`);
}
