/**
 * The process-wide forbid of kernel interfaces: `KCRYPTO_FORBID=afalg,devcrypto` in the
 * environment, or `configure({ forbid })`. A forbidden interface is never reached: no
 * socket(AF_ALG) and no open() of a /dev/crypto node is made by this process. Every entry point
 * of this layer that would make one refuses first, with {@link forbiddenError}; the addon
 * refuses as well (native/common/kernel_gate.h) and keeps the forbid for every copy of the
 * package loaded in the process. A forbid is only ever added to, never lifted.
 *
 * @module
 */
import { errnoOf } from '../../errno.js';
import { KCryptoError } from '../../errors.js';

/** A kernel interface kcrypto can be forbidden to reach. */
export type KernelInterface = 'afalg' | 'devcrypto';

/** The environment variable. */
export const FORBID_ENV = 'KCRYPTO_FORBID';

const BITS: Readonly<Record<KernelInterface, number>> = { afalg: 1, devcrypto: 2 };
const ALL = BITS.afalg | BITS.devcrypto;

/** The addon's side of the forbid (present on addons built with it). */
export interface GateNative {
  setForbidden?(mask: number): number;
  kernelGate?(): { forbidden: number; afalgSockets: number; devcryptoOpens: number };
}

/** A parsed KCRYPTO_FORBID: the mask, and the entries it did not know (which forbid both). */
export function parseForbid(value: string | undefined): { mask: number; unknown: string[] } {
  let mask = 0;
  const unknown: string[] = [];
  for (const word of (value ?? '').toLowerCase().split(/[,\s]+/)) {
    if (word === '') continue;
    if (word === 'afalg' || word === 'devcrypto') mask |= BITS[word];
    else {
      // `all`, and anything else: a typo must not leave an interface open.
      mask |= ALL;
      if (word !== 'all') unknown.push(word);
    }
  }
  return { mask, unknown };
}

let envMask: number | undefined;
let configuredMask = 0;
let configuredBy = 'configure({ forbid })';
let gate: GateNative | null = null;

function fromEnv(): number {
  envMask ??= parseForbid(process.env[FORBID_ENV]).mask;
  return envMask;
}

/** Called by the addon loader: hands the forbid read so far to the addon, and reads its own. */
export function attachGate(native: GateNative): void {
  gate = native;
  const mask = fromEnv() | configuredMask;
  if (mask !== 0) native.setForbidden?.(mask);
}

function nativeMask(): number {
  return gate?.kernelGate?.().forbidden ?? 0;
}

/** Whether the process may not reach the interface. */
export function isForbidden(which: KernelInterface): boolean {
  return ((fromEnv() | configuredMask | nativeMask()) & BITS[which]) !== 0;
}

/** The interfaces the process may not reach. */
export function forbiddenInterfaces(): KernelInterface[] {
  return (['afalg', 'devcrypto'] as const).filter((w) => isForbidden(w));
}

/** Why an interface is unusable, for drivers() and errors: what forbade it. */
export function forbiddenReason(which: KernelInterface): string {
  if ((fromEnv() & BITS[which]) !== 0) {
    const { unknown } = parseForbid(process.env[FORBID_ENV]);
    return `forbidden by ${FORBID_ENV}${unknown.length > 0 ? ` (unknown entries ${unknown.join(', ')} forbid every kernel interface)` : ''}`;
  }
  return `forbidden by ${configuredBy}`;
}

/** The typed error for a forbidden interface: a KCryptoError, `code` EPERM, syscall `validate`. */
export function forbiddenError(which: KernelInterface, driver: string): KCryptoError {
  const what = which === 'afalg' ? 'AF_ALG' : '/dev/crypto';
  return new KCryptoError(`${what} ${forbiddenReason(which)}${driver ? ` [${driver}]` : ''}`, {
    code: 'EPERM',
    errno: errnoOf('EPERM'),
    syscall: 'validate',
    driver,
  });
}

/** EPERM's number on this host: what a probe of a forbidden interface answers. */
export function errnoOfForbid(): number {
  return errnoOf('EPERM');
}

/** Throws {@link forbiddenError} when the interface is forbidden. */
export function assertAllowed(which: KernelInterface, driver: string): void {
  if (isForbidden(which)) throw forbiddenError(which, driver);
}

const forwarded = { afalg: 0, devcrypto: 0 };

/** Counts a call the addon loader let through to an entry point that reaches the interface. */
export function countForwarded(which: KernelInterface): void {
  forwarded[which] += 1;
}

/**
 * Calls this copy of the package let through to the addon's entry points that reach each
 * interface (probes and opens): what a test checks stays 0 under a forbid.
 */
export function forwardedCalls(): { afalg: number; devcrypto: number } {
  return { ...forwarded };
}

/** How often this process asked the kernel for an AF_ALG socket or a /dev/crypto descriptor (0s without the addon). */
export function kernelOpens(): { afalg: number; devcrypto: number } {
  const g = gate?.kernelGate?.();
  return { afalg: g?.afalgSockets ?? 0, devcrypto: g?.devcryptoOpens ?? 0 };
}

/**
 * Adds interfaces to the forbid. Returns the interfaces this process already reached among
 * them (the caller decides what that means); the forbid is added only when there are none.
 */
export function addForbid(which: readonly KernelInterface[], by = 'configure({ forbid })'): KernelInterface[] {
  const opens = kernelOpens();
  const reached = which.filter((w) => opens[w] > 0 && !isForbidden(w));
  if (reached.length > 0) return reached;
  let mask = 0;
  for (const w of which) mask |= BITS[w];
  configuredMask |= mask;
  if (mask !== 0) configuredBy = by;
  if (mask !== 0) gate?.setForbidden?.(mask);
  return [];
}
