/**
 * Which `/proc/crypto` drivers user space can reach through AF_ALG by driver name, and why not
 * — including the Linux 7.2 refusal of asynchronous drivers, recognised by its effect.
 *
 * @module
 */

import { Buffer } from 'node:buffer';
import { type AfAlgRestriction, restrictionReason, sysctlSetting, AF_ALG_RESTRICT_SYSCTL } from './afalg-restrict.js';
import { type AfAlgStatus, type AfAlgNative, type AfAlgType, afalgTypeOf, call, DENIED } from './afalg-probe.js';
import { type ErrnoTable, errnoTableOf } from '../../errno.js';
import type { ProcCryptoEntry } from './proc-crypto.js';
import { forbiddenReason, isForbidden } from '../bridge/forbid.js';

/** Whether one `/proc/crypto` driver can be bound by its driver name. */
export interface DriverBinding {
  entry: ProcCryptoEntry;
  /** The socket type that would serve it; null when AF_ALG has none for its kernel type. */
  afalgType: AfAlgType | null;
  /** A bind was actually attempted (false when the answer was known without one). */
  probed: boolean;
  reachable: boolean;
  /** Why not reachable; absent when reachable. */
  reason?: string;
  errno?: number;
  code?: string;
  /** Refused because this kernel excludes asynchronous drivers from AF_ALG. */
  asyncRefused?: boolean;
  /** Refused by `crypto.af_alg_restrict` (driver names are on no allowlist). */
  restricted?: boolean;
}

/** The outcome of {@link probeDriverBinding}. */
export interface DriverBindingReport {
  /** One per input entry, same order. */
  bindings: DriverBinding[];
  /**
   * True when this kernel refuses asynchronous drivers through AF_ALG (seen, not assumed);
   * false when an asynchronous driver did bind; absent when no evidence either way.
   */
  asyncBindRefused?: boolean;
  /** The evidence behind `asyncBindRefused`. */
  asyncBindReason?: string;
}

/** Inputs for {@link probeDriverBinding}. */
export interface DriverBindingOptions {
  /** Result of {@link probeAfAlgTypes}, so unusable types are not probed driver by driver. */
  afalg?: AfAlgStatus;
}

/** The reason recorded on each asynchronous driver the kernel refuses. */
export const ASYNC_REFUSED_REASON = 'asynchronous drivers are refused through AF_ALG since 7.2: use /dev/crypto (cryptodev-linux)';

/** `struct sockaddr_alg.salg_name` is 64 bytes with the terminator; the addon's bind uses it. */
const MAX_PROBE_NAME_BYTES = 63;

/**
 * Tries to bind every user-reachable driver of `entries` by its driver name
 * (`cra_driver_name`) on the AF_ALG socket type its kernel type maps to ({@link afalgTypeOf}),
 * recording reachable or the errno and a reason.
 *
 * Internal drivers and types without an AF_ALG socket are reported without a bind. When the
 * socket type itself is unusable (from `options.afalg`, or a failing `socket()`), so is every
 * driver of it, with that reason.
 *
 * Asynchronous refusal: Linux 7.2 allocates every AF_ALG transform with a mask that excludes
 * `CRYPTO_ALG_ASYNC`, so hardware drivers such as `virtio_crypto_aes_cbc` fail to bind by name
 * (ENOENT or EINVAL) while synchronous drivers still bind. When asynchronous drivers fail that
 * way, none binds, and a synchronous driver of the same socket type does bind, the report sets
 * `asyncBindRefused` and marks those drivers with {@link ASYNC_REFUSED_REASON}. Any asynchronous
 * driver that binds (the simd wrappers on older kernels) disproves it.
 *
 * Never throws.
 *
 * @param native - the addon, or null when it could not be loaded.
 * @param entries - records from `/proc/crypto`.
 * @param options - the type-level status, when already known.
 */
export function probeDriverBinding(
  native: AfAlgNative | null,
  entries: readonly ProcCryptoEntry[],
  options: DriverBindingOptions = {},
): DriverBindingReport {
  const errnos = errnoTableOf(native);
  const family = familyStatus(native, errnos, options.afalg);
  const cache = new Map<string, number | { error: string }>();

  const bindings = entries.map((entry): DriverBinding => {
    const mapping = afalgTypeOf(entry.type);
    if (mapping.afalgType === null) {
      return { entry, afalgType: null, probed: false, reachable: false, reason: mapping.reason };
    }
    const afalgType = mapping.afalgType;
    const skip = (reason: string): DriverBinding => ({ entry, afalgType, probed: false, reachable: false, reason });
    if (entry.internal) {
      return skip('internal implementation (CRYPTO_ALG_INTERNAL): reachable only through the algorithm that wraps it');
    }
    if (native === null || !family.available) return skip(`AF_ALG unavailable: ${family.reason}`);
    const typeStatus = options.afalg?.types[afalgType];
    if (typeStatus !== undefined && !typeStatus.available) {
      return skip(`AF_ALG ${afalgType} sockets unavailable: ${typeStatus.reason ?? 'unknown reason'}`);
    }
    if (Buffer.byteLength(entry.driver) > MAX_PROBE_NAME_BYTES) {
      return skip(`driver name longer than ${MAX_PROBE_NAME_BYTES} bytes (sockaddr_alg.salg_name): not probed`);
    }

    const key = `${afalgType}\0${entry.driver}`;
    let r = cache.get(key);
    if (r === undefined) {
      const c = call(() => native.probeBind(afalgType, entry.driver));
      r = 'error' in c ? c : c.errno;
      cache.set(key, r);
    }
    if (typeof r !== 'number') return skip(`native probe failed: ${r.error}`);
    if (r === 0) return { entry, afalgType, probed: true, reachable: true };
    const code = errnos.code(r);
    const restricted =
      errnos.is(r, 'ENOENT') && options.afalg?.restriction !== undefined
        ? restrictionReason(options.afalg.restriction, afalgType, entry.driver, true)
        : null;
    const reason = restricted ?? bindFailure(afalgType, entry, r, code, errnos);
    return {
      entry,
      afalgType,
      probed: true,
      reachable: false,
      errno: r,
      code,
      reason,
      ...(restricted === null ? {} : { restricted: true }),
    };
  });

  return { bindings, ...detectAsyncRefusal(bindings, errnos, options.afalg?.restriction) };
}

/** AF_ALG as a whole, from the given status or one `socket()` when none was given. */
function familyStatus(
  native: AfAlgNative | null,
  errnos: ErrnoTable,
  given: AfAlgStatus | undefined,
): { available: boolean; reason?: string } {
  if (given !== undefined) return given;
  if (isForbidden('afalg')) return { available: false, reason: forbiddenReason('afalg') };
  if (native === null) return { available: false, reason: 'native addon not loaded' };
  const s = call(() => native.probeAfAlg());
  if ('error' in s) return { available: false, reason: `native probe failed: ${s.error}` };
  if (s.errno === 0) return { available: true };
  return { available: false, reason: `socket(AF_ALG) failed with ${errnos.code(s.errno)}` };
}

function bindFailure(type: AfAlgType, entry: ProcCryptoEntry, errno: number, code: string, errnos: ErrnoTable): string {
  const what = `bind(${type}, ${entry.driver})`;
  if (errnos.is(errno, 'EPERM', 'EACCES')) return `${what} ${DENIED}`;
  if (errnos.is(errno, 'ENOENT')) return `${what} failed with ENOENT: the kernel found no such driver for an AF_ALG ${type} socket`;
  if (errnos.is(errno, 'EINVAL')) return `${what} failed with EINVAL: the kernel rejected this driver for an AF_ALG ${type} socket`;
  return `${what} failed with ${code}`;
}

function detectAsyncRefusal(
  bindings: DriverBinding[],
  errnos: ErrnoTable,
  restriction: AfAlgRestriction | undefined,
): Pick<DriverBindingReport, 'asyncBindRefused' | 'asyncBindReason'> {
  const probed = bindings.filter((b) => b.probed);
  const isAsync = (b: DriverBinding): boolean => b.entry.async === true;
  const asyncBound = probed.filter((b) => isAsync(b) && b.reachable);
  const asyncFailed = probed.filter((b) => isAsync(b) && !b.reachable && b.errno !== undefined && errnos.is(b.errno, 'ENOENT', 'EINVAL'));
  if (asyncBound.length > 0) {
    return {
      asyncBindRefused: false,
      asyncBindReason: `asynchronous drivers bind (e.g. ${asyncBound
        .map((b) => b.entry.driver)
        .slice(0, 3)
        .join(', ')})`,
    };
  }
  if (asyncFailed.length === 0) return {};

  const syncBound = probed.filter((b) => !isAsync(b) && b.reachable);
  const refused = asyncFailed.filter((b) => syncBound.some((s) => s.afalgType === b.afalgType));
  if (refused.length === 0) return impliedAsyncRefusal(asyncFailed, restriction);

  for (const b of refused) {
    b.asyncRefused = true;
    b.reason = `${ASYNC_REFUSED_REASON}; bind gave ${b.code ?? 'an error'}`;
  }
  const failedNames = refused
    .map((b) => b.entry.driver)
    .slice(0, 3)
    .join(', ');
  const siblings = syncBound
    .filter((s) => refused.some((b) => b.afalgType === s.afalgType))
    .map((s) => s.entry.driver)
    .slice(0, 3)
    .join(', ');
  return {
    asyncBindRefused: true,
    asyncBindReason: `${ASYNC_REFUSED_REASON}: asynchronous drivers fail to bind by name (${failedNames}) while synchronous drivers of the same socket type bind (${siblings}) and no asynchronous driver binds`,
  };
}

/**
 * While `af_alg_restrict=1` refuses every driver name, whether asynchronous drivers would bind
 * cannot be seen. The sysctl came with 7.3, after 7.2 stopped AF_ALG from allocating
 * asynchronous transforms at all, so a kernel that has it refuses them whatever it is set to
 * (the lab checks this with the sysctl at 0). Reported as implied, not as seen.
 */
function impliedAsyncRefusal(
  asyncFailed: DriverBinding[],
  restriction: AfAlgRestriction | undefined,
): Pick<DriverBindingReport, 'asyncBindRefused' | 'asyncBindReason'> {
  if (restriction?.value !== 1) return {};
  const restricted = asyncFailed.filter((b) => b.restricted === true);
  if (restricted.length === 0) return {};
  for (const b of restricted) {
    b.asyncRefused = true;
    b.reason = `${b.reason ?? 'refused'}; with ${sysctlSetting(0)} too: ${ASYNC_REFUSED_REASON}`;
  }
  return {
    asyncBindRefused: true,
    asyncBindReason: `${ASYNC_REFUSED_REASON} (implied: kernels with ${AF_ALG_RESTRICT_SYSCTL} have that change; not observable by binding while ${sysctlSetting(1)} refuses every driver name)`,
  };
}
