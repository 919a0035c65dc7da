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

import {
  type AfAlgNative,
  type AfAlgProbeOptions,
  type AfAlgStatus,
  type AfAlgType,
  afalgTypeOf,
  probeAfAlgTypes,
  probeDriverBinding,
} from './afalg-probe.js';
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
  /** Bound by driver name through AF_ALG during discovery. */
  reachable: boolean;
  /** Why not reachable; absent when reachable. */
  reason?: string;
  /** errno of the failed bind, when one was tried. */
  errno?: number;
  /** Its name, e.g. `ENOENT`. */
  code?: string;
  /** Refused because the kernel excludes asynchronous drivers from AF_ALG. */
  asyncRefused?: boolean;
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
export async function discoverKernel(
  native: AfAlgNative | null,
  options: DiscoverKernelOptions = {},
): Promise<KernelReport> {
  const { status: procCrypto, entries } = await loadEntries(options);
  const status = await probeAfAlgTypes(native, options);
  const probe = options.probeDrivers ?? true;
  const report = probe ? probeDriverBinding(native, entries, { afalg: status }) : undefined;

  const afalg: AfAlgReport = { ...status };
  if (report?.asyncBindRefused !== undefined) afalg.asyncBindRefused = report.asyncBindRefused;
  if (report?.asyncBindReason !== undefined) afalg.asyncBindReason = report.asyncBindReason;

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
    if (binding.reason !== undefined) driver.reason = binding.reason;
    if (binding.errno !== undefined) driver.errno = binding.errno;
    if (binding.code !== undefined) driver.code = binding.code;
    if (binding.asyncRefused === true) driver.asyncRefused = true;
    return driver;
  });

  return { procCrypto, afalg, drivers };
}
