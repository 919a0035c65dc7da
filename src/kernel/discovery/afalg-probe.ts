/**
 * Capability probes for Linux AF_ALG: is the socket family there, which socket types (`hash`,
 * `skcipher`, `aead`, `rng`) can be bound — and, whenever the answer is no, why. Which kernel
 * drivers can be bound by driver name is afalg-binding.ts's; what modprobe.d blocks, modprobe.ts's.
 *
 * Everything is learned by trying (socket, then bind) through the native addon, which is passed
 * in so unit tests can substitute a fake kernel. Kernel versions are never consulted: distributions
 * backport and blacklist freely, and the 2026 AF_ALG cut-backs (Linux 7.2 refusing asynchronous
 * drivers, `algif_aead` blacklisted against Copy Fail) must be recognised by their effect.
 *
 * Errno numbers differ between systems, so they are always looked up by name in the table the
 * addon reports ({@link AfAlgNative.errnoTable}); none is written here.
 *
 * The probes call the addon synchronously; a bind may make the kernel load a module first, so
 * this is discovery-time work, not something to run per request.
 *
 * @module
 */

import { type ErrnoTable, errnoTableOf } from '../../errno.js';
import {
  type AfAlgRestriction,
  admits,
  readAfAlgRestriction,
  restrictionReason,
  sysctlSetting,
  AF_ALG_RESTRICT_SYSCTL,
} from './afalg-restrict.js';
import { BlockFinder, describeBlocks, type ModprobeFile, type ModuleBlock } from './modprobe.js';
import { errnoOfForbid, forbiddenReason, isForbidden } from '../bridge/forbid.js';

/** The AF_ALG socket types (`salg_type`) the upstream kernel implements. */
export type AfAlgType = 'hash' | 'skcipher' | 'aead' | 'rng';

/** All {@link AfAlgType}s, in probing order. */
export const AF_ALG_TYPES: readonly AfAlgType[] = ['hash', 'skcipher', 'aead', 'rng'];

/** The part of the native addon these probes need. */
export interface AfAlgNative {
  /** `socket(AF_ALG, SOCK_SEQPACKET, 0)`: 0 when it succeeds, else the errno. */
  probeAfAlg(): number;
  /** `bind()` of a fresh AF_ALG socket to (type, name): 0 when it succeeds, else the errno. */
  probeBind(type: string, name: string): number;
  /** The host's errno numbers by name (`{ ENOENT: 2, … }` on Linux). */
  errnoTable(): Record<string, number>;
}

/**
 * Algorithm names bound to test each socket type, in order. Each is present on any kernel where
 * the type works (the kernel instantiates templates such as `ecb(aes)` on demand), and a second
 * name tells "type missing" (every name fails with ENOENT) from "one algorithm missing".
 */
export const PROBE_NAMES: Readonly<Record<AfAlgType, readonly string[]>> = {
  hash: ['sha256', 'sha1'],
  // xts(aes): on af_alg_restrict=1's allowlist for every process, so an unprivileged process
  // on 7.3 still learns that the type works.
  skcipher: ['ecb(aes)', 'cbc(aes)', 'xts(aes)'],
  aead: ['gcm(aes)', 'ccm(aes)', 'authenc(hmac(sha256),cbc(aes))'],
  // jitterentropy_rng: the DRBG behind stdrng depends on it, so it is there whenever rng is.
  rng: ['stdrng', 'jitterentropy_rng'],
};

/** Kconfig option behind each socket type, named in reasons so an administrator can act. */
const TYPE_CONFIG: Readonly<Record<AfAlgType, string>> = {
  hash: 'CONFIG_CRYPTO_USER_API_HASH',
  skcipher: 'CONFIG_CRYPTO_USER_API_SKCIPHER',
  aead: 'CONFIG_CRYPTO_USER_API_AEAD',
  rng: 'CONFIG_CRYPTO_USER_API_RNG',
};

// ---------------------------------------------------------------------------------------------
// Kernel algorithm type → AF_ALG socket type

/** The AF_ALG socket type that serves a kernel algorithm type, or why none does. */
export type KernelTypeMapping = { afalgType: AfAlgType; reason?: undefined } | { afalgType: null; reason: string };

/**
 * Maps a `/proc/crypto` `type` to the AF_ALG socket type that can bind it.
 *
 * - `skcipher`, and `lskcipher` (since 6.7 the skcipher API — hence `algif_skcipher` — also
 *   allocates lskcipher algorithms; `cbc(aes)` over a plain cipher is an lskcipher on new
 *   kernels), plus the pre-4.20 `blkcipher`/`ablkcipher`/`givcipher` → `skcipher`;
 * - `aead` (and pre-4.2 `nivaead`) → `aead`;
 * - `shash`, `ahash` (and the ancient `digest`/`hash`) → `hash`;
 * - `rng` → `rng`;
 * - `akcipher`, `sig`, `kpp`, `cipher`, `scomp`, `acomp`, `compression`, `larval` and anything
 *   unknown → none, with the reason.
 *
 * @param kernelType - the `type` field of a `/proc/crypto` record.
 */
export function afalgTypeOf(kernelType: string): KernelTypeMapping {
  switch (kernelType) {
    case 'skcipher':
    case 'lskcipher':
    case 'blkcipher':
    case 'ablkcipher':
    case 'givcipher':
      return { afalgType: 'skcipher' };
    case 'aead':
    case 'nivaead':
      return { afalgType: 'aead' };
    case 'shash':
    case 'ahash':
    case 'digest':
    case 'hash':
      return { afalgType: 'hash' };
    case 'rng':
      return { afalgType: 'rng' };
    case 'akcipher':
    case 'sig':
      return {
        afalgType: null,
        reason: `${kernelType}: asymmetric algorithms were never merged into AF_ALG (keyctl KEYCTL_PKEY_* reaches some)`,
      };
    case 'kpp':
      return {
        afalgType: null,
        reason: 'kpp: key agreement was never merged into AF_ALG (keyctl KEYCTL_DH_COMPUTE reaches DH)',
      };
    case 'cipher':
      return {
        afalgType: null,
        reason: 'cipher: a single-block cipher, reachable only inside a mode template such as ecb(<driver>) or cbc(<driver>)',
      };
    case 'scomp':
    case 'acomp':
    case 'compression':
      return { afalgType: null, reason: `${kernelType}: compression has no AF_ALG socket type` };
    case 'larval':
      return { afalgType: null, reason: 'larval: registration still in progress' };
    default:
      return { afalgType: null, reason: `${kernelType}: no AF_ALG socket type serves this algorithm type` };
  }
}

/** A native call that may throw (addon built without a function, say) becomes a result. */
export function call(f: () => number): { errno: number } | { error: string } {
  try {
    return { errno: f() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** The reason given for EPERM/EACCES from socket() or bind(). */
export const DENIED = 'denied (seccomp/LSM/container)';

// ---------------------------------------------------------------------------------------------
// Socket family and socket types

/** Test hooks and host facts for {@link probeAfAlgTypes}. */
export interface AfAlgProbeOptions {
  /** modprobe.d contents to search instead of reading modprobe.d's directories. */
  modprobeFiles?: readonly ModprobeFile[];
  /** Kernel command line instead of reading `/proc/cmdline`; null for none. */
  cmdline?: string | null;
  /** Host platform instead of `process.platform` (AF_ALG exists only on Linux). */
  platform?: NodeJS.Platform;
  /** `crypto.af_alg_restrict` and this process's privilege, instead of reading them. */
  restriction?: AfAlgRestriction;
}

/** One `bind()` the type probe made. `errno` 0 means it bound. */
export interface BindAttempt {
  name: string;
  errno: number;
  code: string;
}

/** Whether one AF_ALG socket type can be used, and why not. */
export interface AfAlgTypeStatus {
  available: boolean;
  /** Why the type is unavailable; absent when available. */
  reason?: string;
  /** The errno behind `reason`. */
  errno?: number;
  /** Its name, e.g. `ENOENT`. */
  code?: string;
  /** The probe name that bound, when available. */
  boundName?: string;
  /** Every bind tried, in order. */
  attempts: BindAttempt[];
  /** Configuration that keeps `algif_<type>` from loading, when found. */
  blocks?: ModuleBlock[];
  /** Unavailable because `af_alg_restrict` refused every name tried, not for want of a module. */
  restricted?: boolean;
}

/** Whether AF_ALG is usable at all, and each socket type's status. */
export interface AfAlgStatus {
  available: boolean;
  /** Why AF_ALG is unusable; absent when available. */
  reason?: string;
  errno?: number;
  code?: string;
  /** Configuration that keeps `af_alg` from loading, when found. */
  blocks?: ModuleBlock[];
  types: Record<AfAlgType, AfAlgTypeStatus>;
  /** `crypto.af_alg_restrict` and this process's privilege (Linux only). */
  restriction?: AfAlgRestriction;
}

/**
 * An {@link AfAlgStatus} saying AF_ALG cannot be used, with the same reason on every type.
 *
 * @param reason - why, e.g. `native addon not loaded`.
 * @param errno - the errno behind it, when there is one.
 * @param code - that errno's name.
 */
export function afalgUnavailable(reason: string, errno?: number, code?: string): AfAlgStatus {
  const types = {} as Record<AfAlgType, AfAlgTypeStatus>;
  for (const t of AF_ALG_TYPES) {
    types[t] = { available: false, reason: `AF_ALG unavailable: ${reason}`, attempts: [] };
    if (errno !== undefined) types[t].errno = errno;
    if (code !== undefined) types[t].code = code;
  }
  const status: AfAlgStatus = { available: false, reason, types };
  if (errno !== undefined) status.errno = errno;
  if (code !== undefined) status.code = code;
  return status;
}

/**
 * Probes AF_ALG: `socket()` once, then each socket type by binding well-known algorithm names
 * ({@link PROBE_NAMES}).
 *
 * Reasons given:
 * - `socket()` EAFNOSUPPORT: the kernel was built without CONFIG_CRYPTO_USER_API or `af_alg`
 *   cannot be loaded — and, when modprobe.d or the kernel command line blocks `af_alg`, which
 *   line does;
 * - EPERM/EACCES from `socket()` or `bind()`: denied by seccomp, an LSM or the container runtime;
 * - every probe name of a type failing with ENOENT: `algif_<type>` is missing or blacklisted (an
 *   unknown socket type and an unknown algorithm both give ENOENT, so only several well-known
 *   names failing alike point at the type) — naming the blacklist line when there is one;
 * - any other errno: the call and the errno name.
 *
 * Never throws: a missing addon or a throwing native call is reported as a reason.
 *
 * @param native - the addon, or null when it could not be loaded.
 * @param options - test hooks.
 */
export async function probeAfAlgTypes(native: AfAlgNative | null, options: AfAlgProbeOptions = {}): Promise<AfAlgStatus> {
  const platform = options.platform ?? process.platform;
  if (platform !== 'linux') return afalgUnavailable(`AF_ALG is a Linux interface (this host runs ${platform})`);
  if (isForbidden('afalg')) return afalgUnavailable(forbiddenReason('afalg'), errnoOfForbid(), 'EPERM');
  if (native === null) return afalgUnavailable('native addon not loaded');

  const errnos = errnoTableOf(native);
  const blocks = new BlockFinder(options);
  const restriction = options.restriction ?? readAfAlgRestriction();
  const withRestriction = (s: AfAlgStatus): AfAlgStatus => ({ ...s, restriction });

  const sock = call(() => native.probeAfAlg());
  if ('error' in sock) return withRestriction(afalgUnavailable(`native probe failed: ${sock.error}`));
  if (sock.errno !== 0) {
    const code = errnos.code(sock.errno);
    if (errnos.is(sock.errno, 'EPERM', 'EACCES')) {
      return withRestriction(afalgUnavailable(`socket(AF_ALG) ${DENIED}`, sock.errno, code));
    }
    if (errnos.is(sock.errno, 'EAFNOSUPPORT') && restriction.value === 2) {
      return withRestriction(
        afalgUnavailable(
          `AF_ALG disabled by ${sysctlSetting(2)} (an administrator's ${AF_ALG_RESTRICT_SYSCTL}=0 or 1 enables it)`,
          sock.errno,
          code,
        ),
      );
    }
    if (errnos.is(sock.errno, 'EAFNOSUPPORT')) {
      // The kernel requests the family's module as net-pf-38 (AF_ALG's number on Linux).
      const found = await blocks.find('af_alg', ['net-pf-38']);
      let reason = 'kernel built without CONFIG_CRYPTO_USER_API (AF_ALG) or af_alg module not loadable';
      if (found.length > 0) reason += `; ${describeBlocks('af_alg', found)}`;
      const status = withRestriction(afalgUnavailable(reason, sock.errno, code));
      if (found.length > 0) status.blocks = found;
      return status;
    }
    return withRestriction(afalgUnavailable(`socket(AF_ALG) failed with ${code}`, sock.errno, code));
  }

  const types = {} as Record<AfAlgType, AfAlgTypeStatus>;
  for (const type of AF_ALG_TYPES) types[type] = await probeType(native, type, errnos, blocks, restriction);
  return { available: true, types, restriction };
}

async function probeType(
  native: AfAlgNative,
  type: AfAlgType,
  errnos: ErrnoTable,
  blocks: BlockFinder,
  restriction: AfAlgRestriction,
): Promise<AfAlgTypeStatus> {
  const attempts: BindAttempt[] = [];
  for (const name of PROBE_NAMES[type]) {
    const r = call(() => native.probeBind(type, name));
    if ('error' in r) return { available: false, reason: `native probe failed: ${r.error}`, attempts };
    attempts.push({ name, errno: r.errno, code: r.errno === 0 ? 'OK' : errnos.code(r.errno) });
    if (r.errno === 0) return { available: true, boundName: name, attempts };
  }

  const other = attempts.find((a) => !errnos.is(a.errno, 'ENOENT'));
  // af_alg_restrict=1 refuses names off its allowlist with ENOENT too: only a name it admits
  // that still fails says the socket type itself is missing.
  if (other === undefined && restriction.value === 1 && attempts.every((a) => !admits(restriction, type, a.name))) {
    const first = attempts[0]!;
    const why = attempts.map((a) => `${a.name}: ${restrictionReason(restriction, type, a.name) ?? 'refused'}`).join('; ');
    return {
      available: false,
      reason: `every ${type} name tried is refused by ${sysctlSetting(1)} (${why})`,
      errno: first.errno,
      code: first.code,
      attempts,
      restricted: true,
    };
  }
  if (other === undefined) {
    const first = attempts[0]!;
    const module = `algif_${type}`;
    const found = await blocks.find(module, [`algif-${type}`]);
    const names = attempts.map((a) => a.name).join(', ');
    let reason = `${module} module missing or blacklisted (bind to ${names} all gave ENOENT)`;
    reason +=
      found.length > 0
        ? `; ${describeBlocks(module, found)}`
        : `; no blacklist found, so the kernel lacks ${TYPE_CONFIG[type]} or the module is not installed`;
    const status: AfAlgTypeStatus = { available: false, reason, errno: first.errno, code: first.code, attempts };
    if (found.length > 0) status.blocks = found;
    return status;
  }
  const reason = errnos.is(other.errno, 'EPERM', 'EACCES')
    ? `bind(${type}) ${DENIED}`
    : `bind(${type}, ${other.name}) failed with ${other.code}`;
  return { available: false, reason, errno: other.errno, code: other.code, attempts };
}
