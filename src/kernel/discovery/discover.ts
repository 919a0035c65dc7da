/**
 * Kernel discovery for Linux: what `/proc/crypto` lists, what each driver is (hardware, CPU
 * instructions, software), and which of them user space can reach through AF_ALG — with a reason
 * for everything that cannot be used. `kcrypto drivers` and the AF_ALG framework drivers are
 * built from this report.
 *
 * Discovery reports; it never throws on a host without AF_ALG, without `/proc/crypto`, or
 * without the native addon.
 *
 * @module
 */

import { errnoTableOf } from '../../errno.js';
import { type AfAlgNative, type AfAlgProbeOptions, type AfAlgStatus, type AfAlgType, afalgTypeOf, probeAfAlgTypes } from './afalg-probe.js';
import { probeDriverBinding } from './afalg-binding.js';
import { type GenericBinding, probeGenericNames } from './afalg-generic.js';
import { type DriverKind, classifyDriver } from './classify.js';
import { type ProcCryptoEntry, parseProcCrypto, readProcCrypto } from './proc-crypto.js';

/** Inputs of {@link discoverKernel}; all optional, for tests and the lab. */
export interface DiscoverKernelOptions extends AfAlgProbeOptions {
  /**
   * `/proc/crypto` text to use instead of reading the file; null behaves as if the file were
   * absent.
   */
  procCryptoText?: string | null;
  /** File to read when `procCryptoText` is not given. Default `/proc/crypto`. */
  procCryptoPath?: string;
  /**
   * Bind every driver by name to learn whether it is reachable (default true). Binding may make
   * the kernel load modules; with false, drivers are listed and classified only.
   */
  probeDrivers?: boolean;
  /**
   * Generic names to try beyond those `/proc/crypto` lists (templates such as `gcm(aes)` are
   * listed only once something instantiated them), with their socket type. Tried only where
   * `crypto.af_alg_restrict` exists: elsewhere driver names bind, and a bind made only to look
   * would leave template instances behind.
   */
  genericNames?: readonly { name: string; afalgType: AfAlgType }[];
}

/** Where the driver list came from. */
export interface ProcCryptoStatus {
  available: boolean;
  /** The file read, or `(injected)`. */
  path: string;
  /** Why the list is empty; absent when read. */
  reason?: string;
}

/** AF_ALG's status plus what driver probing learned about the kernel. */
export interface AfAlgReport extends AfAlgStatus {
  /**
   * True when this kernel refuses asynchronous (hardware) drivers through AF_ALG, false when an
   * asynchronous driver bound, absent when unknown (drivers not probed, or none asynchronous).
   */
  asyncBindRefused?: boolean;
  /** The evidence for `asyncBindRefused`. */
  asyncBindReason?: string;
  /**
   * Generic names bound because none of their drivers bound by driver name, and which driver
   * each reached.
   */
  generic: GenericBinding[];
}

/** One kernel crypto driver as kcrypto sees it. */
export interface KernelDriver {
  /** `cra_name`, e.g. `cbc(aes)`. */
  name: string;
  /** `cra_driver_name`, e.g. `virtio_crypto_aes_cbc`: the name to bind for exactly this driver. */
  driver: string;
  module: string;
  priority: number;
  /** Kernel algorithm type as printed (`skcipher`, `shash`, `akcipher`, …). */
  type: string;
  /** AF_ALG socket type that serves it, or null when none does. */
  afalgType: AfAlgType | null;
  /** `CRYPTO_ALG_ASYNC` (false when /proc/crypto does not print the flag for this type). */
  async: boolean;
  /** `CRYPTO_ALG_INTERNAL`: not allocatable from user space. */
  internal: boolean;
  kind: DriverKind;
  kindReason: string;
  /** Reachable through AF_ALG: by its driver name, or as what its generic name reaches. */
  reachable: boolean;
  /**
   * The name a session binds to reach it: its driver name, or its generic name where the
   * driver name is refused and the generic name reaches this driver. Absent when unreachable.
   */
  bindName?: string;
  /** How the driver behind `bindName` was found when it is a generic name. */
  reachedBy?: GenericBinding['reachedBy'];
  /** Why not reachable; absent when reachable. */
  reason?: string;
  /** errno of the failed bind, when one was tried. */
  errno?: number;
  /** Its name, e.g. `ENOENT`. */
  code?: string;
  /** Refused because the kernel excludes asynchronous drivers from AF_ALG. */
  asyncRefused?: boolean;
  /** Its driver name is refused by `crypto.af_alg_restrict` (no driver name is on a list). */
  restricted?: boolean;
  /** The full `/proc/crypto` record. */
  entry: ProcCryptoEntry;
}

/** The result of {@link discoverKernel}. */
export interface KernelReport {
  procCrypto: ProcCryptoStatus;
  afalg: AfAlgReport;
  /** Every `/proc/crypto` record, in the kernel's order. */
  drivers: KernelDriver[];
}

async function loadEntries(options: DiscoverKernelOptions): Promise<{ status: ProcCryptoStatus; entries: ProcCryptoEntry[] }> {
  if (options.procCryptoText !== undefined) {
    const path = '(injected)';
    if (options.procCryptoText === null) {
      return { status: { available: false, path, reason: 'no /proc/crypto' }, entries: [] };
    }
    return { status: { available: true, path }, entries: parseProcCrypto(options.procCryptoText) };
  }
  const path = options.procCryptoPath ?? '/proc/crypto';
  try {
    const entries = await readProcCrypto(path);
    if (entries === null) return { status: { available: false, path, reason: `${path} does not exist` }, entries: [] };
    return { status: { available: true, path }, entries };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { status: { available: false, path, reason: `cannot read ${path}: ${e.code ?? e.message}` }, entries: [] };
  }
}

/**
 * Discovers the kernel's crypto drivers and what AF_ALG lets user space do with them.
 *
 * Steps: read `/proc/crypto`; probe AF_ALG and its socket types
 * ({@link probeAfAlgTypes}); classify every driver ({@link classifyDriver}); bind every
 * user-reachable driver by name ({@link probeDriverBinding}) unless `probeDrivers` is false.
 *
 * @param native - the addon, or null when it could not be loaded (everything is then reported
 *   unreachable with that reason).
 * @param options - injected `/proc/crypto` text, modprobe.d contents, kernel command line and
 *   platform, for tests.
 */
export async function discoverKernel(native: AfAlgNative | null, options: DiscoverKernelOptions = {}): Promise<KernelReport> {
  const loaded = await loadEntries(options);
  const procCrypto = loaded.status;
  let entries = loaded.entries;
  const status = await probeAfAlgTypes(native, options);
  const probe = options.probeDrivers ?? true;
  let report = probe ? probeDriverBinding(native, entries, { afalg: status }) : undefined;

  const afalg: AfAlgReport = { ...status, generic: [] };
  if (report?.asyncBindRefused !== undefined) afalg.asyncBindRefused = report.asyncBindRefused;
  if (report?.asyncBindReason !== undefined) afalg.asyncBindReason = report.asyncBindReason;

  if (report && native !== null && status.available) {
    const names = genericCandidates(entries, report.bindings, status, options);
    if (names.length > 0) {
      const errnos = errnoTableOf(native);
      afalg.generic = probeGenericNames(native, names, {
        ...(status.restriction ? { restriction: status.restriction } : {}),
        asyncRefused: afalg.asyncBindRefused === true,
        errnoName: (n) => errnos.code(n),
        procCryptoPath: options.procCryptoPath ?? '/proc/crypto',
        ...(options.procCryptoText !== undefined ? { readProcCrypto: () => options.procCryptoText ?? null } : {}),
      });
      // Binding a template's generic name instantiates it: list what is there now, and probe
      // the driver names that are new.
      if (options.procCryptoText === undefined) {
        const now = await loadEntries(options);
        const known = new Set(entries.map((e) => `${e.name}\0${e.driver}`));
        const added = now.entries.filter((e) => !known.has(`${e.name}\0${e.driver}`));
        if (added.length > 0) {
          const more = probeDriverBinding(native, added, { afalg: status });
          entries = [...entries, ...added];
          report = { ...report, bindings: [...report.bindings, ...more.bindings] };
        }
      }
    }
  }

  const drivers = entries.map((entry, i): KernelDriver => {
    const kind = classifyDriver(entry);
    const binding = report?.bindings[i];
    const driver: KernelDriver = {
      name: entry.name,
      driver: entry.driver,
      module: entry.module,
      priority: entry.priority,
      type: entry.type,
      afalgType: afalgTypeOf(entry.type).afalgType,
      async: entry.async ?? false,
      internal: entry.internal,
      kind: kind.kind,
      kindReason: kind.reason,
      reachable: binding?.reachable ?? false,
      entry,
    };
    if (binding === undefined) {
      driver.reason = 'not probed (probeDrivers: false)';
      return driver;
    }
    if (binding.reachable) driver.bindName = entry.driver;
    const generic = afalg.generic.find((g) => g.name === entry.name);
    if (!binding.reachable && generic?.bound === true && generic.reached === entry.driver) {
      // Its driver name is refused, but its generic name reaches exactly this driver.
      driver.reachable = true;
      driver.bindName = generic.name;
      if (generic.reachedBy !== undefined) driver.reachedBy = generic.reachedBy;
      return driver;
    }
    let reason = binding.reason;
    if (reason !== undefined && generic !== undefined && !binding.reachable) reason += `; ${genericNote(generic)}`;
    if (reason !== undefined) driver.reason = reason;
    if (binding.errno !== undefined) driver.errno = binding.errno;
    if (binding.code !== undefined) driver.code = binding.code;
    if (binding.asyncRefused === true) driver.asyncRefused = true;
    if (binding.restricted === true) driver.restricted = true;
    return driver;
  });

  return { procCrypto, afalg, drivers };
}

/** What a driver's generic name did, as a clause of that driver's reason. */
function genericNote(g: GenericBinding): string {
  if (!g.bound) return `its generic name ${g.name}: ${g.reason ?? 'refused'}`;
  if (g.reached !== undefined) return `its generic name ${g.name} reaches ${g.reached} instead`;
  return `its generic name ${g.name} binds, to an implementation /proc/crypto does not show`;
}

/**
 * The generic names worth binding: each listed algorithm none of whose drivers bound by driver
 * name, and (only where `crypto.af_alg_restrict` exists) the extra names asked for, on socket
 * types that work.
 */
function genericCandidates(
  entries: readonly ProcCryptoEntry[],
  bindings: readonly { reachable: boolean; afalgType: AfAlgType | null; entry: ProcCryptoEntry }[],
  status: AfAlgStatus,
  options: DiscoverKernelOptions,
): { name: string; afalgType: AfAlgType }[] {
  const reached = new Set(bindings.filter((b) => b.reachable).map((b) => b.entry.name));
  const out = new Map<string, AfAlgType>();
  for (const e of entries) {
    const t = afalgTypeOf(e.type).afalgType;
    if (t === null || e.internal || reached.has(e.name) || out.has(e.name)) continue;
    out.set(e.name, t);
  }
  if (status.restriction?.value !== null && status.restriction?.value !== undefined) {
    for (const g of options.genericNames ?? []) if (!reached.has(g.name) && !out.has(g.name)) out.set(g.name, g.afalgType);
  }
  return [...out].filter(([, t]) => status.types[t].available).map(([name, afalgType]) => ({ name, afalgType }));
}
