/**
 * Binding generic algorithm names (`cbc(aes)`, `sha256`) through AF_ALG, and finding out which
 * kernel driver each one reaches.
 *
 * Since Linux 7.3's `af_alg_restrict=1` no driver name binds, but some generic names do; the
 * kernel then gives the socket its highest-priority implementation of that name that passes
 * AF_ALG's mask (no asynchronous drivers since 7.2), that has passed its self-test and is not
 * internal. Which one that is matters (a session must say what it runs on), so it is observed
 * where the kernel allows: while the socket is bound, the chosen implementation's reference
 * count in `/proc/crypto` is one higher than before. Where nothing can be observed (no
 * reference counts, or a fake kernel), the choice is worked out from priorities and reported
 * as such.
 *
 * @module
 */

import { readFileSync } from 'node:fs';

import type { AfAlgNative, AfAlgType } from './afalg-probe.js';
import { type AfAlgRestriction, restrictionReason } from './afalg-restrict.js';
import { type ProcCryptoEntry, parseProcCrypto } from './proc-crypto.js';

/** The addon call that binds and reads a file while bound (absent from fakes and old builds). */
export interface GenericNative extends AfAlgNative {
  probeBindSnapshot?(type: string, name: string, path: string): { errno: number; text?: string };
}

/** How the driver behind a bound generic name was found. */
export type ReachedBy = 'observed' | 'priority';

/** One generic name tried. */
export interface GenericBinding {
  /** The generic name (`cra_name`), e.g. `cbc(aes)`. */
  name: string;
  afalgType: AfAlgType;
  bound: boolean;
  /** The bind's errno, when it failed. */
  errno?: number;
  /** Its name, e.g. `ENOENT`. */
  code?: string;
  /** Why it did not bind. */
  reason?: string;
  /** The kernel driver (`cra_driver_name`) a bound name reached. */
  reached?: string;
  /** `observed`: its reference count rose while bound; `priority`: worked out from /proc/crypto. */
  reachedBy?: ReachedBy;
}

/** Inputs of {@link probeGenericNames}. */
export interface GenericProbeOptions {
  restriction?: AfAlgRestriction;
  /** Asynchronous drivers are refused through AF_ALG here (seen or implied). */
  asyncRefused: boolean;
  /** errno names by number, for reasons. */
  errnoName: (errno: number) => string;
  /** `/proc/crypto`'s path (the snapshot reads it while bound). */
  procCryptoPath: string;
  /** Reads `/proc/crypto` now; null when it cannot. Default: read `procCryptoPath`. */
  readProcCrypto?: () => string | null;
}

/**
 * Which implementation the kernel gives a generic name, by its rules: the highest priority among
 * the entries of that name that are not internal, have not failed their self-test, and pass the
 * mask (not asynchronous where AF_ALG refuses asynchronous drivers).
 */
export function kernelChoice(entries: readonly ProcCryptoEntry[], name: string, asyncRefused: boolean): ProcCryptoEntry | undefined {
  return entries
    .filter((e) => e.name === name && !e.internal && e.selftest !== 'unknown' && !(asyncRefused && e.async === true))
    .sort((a, b) => b.priority - a.priority)[0];
}

/** The entry whose reference count rose between two readings, preferring the highest priority. */
function risen(before: readonly ProcCryptoEntry[], during: readonly ProcCryptoEntry[], name: string): ProcCryptoEntry | undefined {
  const was = new Map(before.map((e) => [`${e.name}\0${e.driver}`, e.refcnt]));
  return during
    .filter((e) => e.name === name && !e.internal && e.refcnt > (was.get(`${e.name}\0${e.driver}`) ?? 0))
    .sort((a, b) => b.priority - a.priority)[0];
}

/**
 * Binds each generic name once and, for those that bind, names the driver reached.
 *
 * Never throws: a native call that throws is reported as the reason.
 *
 * @param native - the addon.
 * @param names - generic names with the socket type to bind them on.
 * @param options - host facts and hooks.
 * @returns one binding per name, same order.
 */
export function probeGenericNames(
  native: GenericNative,
  names: readonly { name: string; afalgType: AfAlgType }[],
  options: GenericProbeOptions,
): GenericBinding[] {
  const read =
    options.readProcCrypto ??
    ((): string | null => {
      try {
        return readFileSync(options.procCryptoPath, 'utf8');
      } catch {
        return null;
      }
    });
  return names.map(({ name, afalgType }): GenericBinding => {
    const beforeText = read();
    let errno: number;
    let during: string | undefined;
    try {
      if (native.probeBindSnapshot) {
        const r = native.probeBindSnapshot(afalgType, name, options.procCryptoPath);
        errno = r.errno;
        during = r.text;
      } else {
        errno = native.probeBind(afalgType, name);
      }
    } catch (err) {
      return { name, afalgType, bound: false, reason: `native probe failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (errno !== 0) {
      const code = options.errnoName(errno);
      const restricted = code === 'ENOENT' && options.restriction ? restrictionReason(options.restriction, afalgType, name) : null;
      const reason =
        restricted ??
        (code === 'ENOENT'
          ? `bind(${afalgType}, ${name}) failed with ENOENT: the kernel has no implementation of it that AF_ALG may use`
          : `bind(${afalgType}, ${name}) failed with ${code}`);
      return { name, afalgType, bound: false, errno, code, reason };
    }
    const before = beforeText === null ? [] : parseProcCrypto(beforeText);
    const seen = during !== undefined && during !== '' ? risen(before, parseProcCrypto(during), name) : undefined;
    if (seen) return { name, afalgType, bound: true, reached: seen.driver, reachedBy: 'observed' };
    // Nothing observable: the kernel's rule over what it lists now (a template instance the
    // bind created is listed after it).
    const after = read();
    const chosen = kernelChoice(after === null ? before : parseProcCrypto(after), name, options.asyncRefused);
    return chosen ? { name, afalgType, bound: true, reached: chosen.driver, reachedBy: 'priority' } : { name, afalgType, bound: true };
  });
}
