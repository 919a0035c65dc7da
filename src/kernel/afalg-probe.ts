/**
 * Capability probes for Linux AF_ALG: is the socket family there, which socket types (`hash`,
 * `skcipher`, `aead`, `rng`) can be bound, which kernel drivers user space can reach by driver
 * name — and, whenever the answer is no, why.
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

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ErrnoTable, errnoTableOf } from '../errno.js';
import { type AfAlgRestriction, admits, readAfAlgRestriction, restrictionReason, sysctlSetting, AF_ALG_RESTRICT_SYSCTL } from './afalg-restrict.js';
import type { ProcCryptoEntry } from './proc-crypto.js';

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
export type KernelTypeMapping =
  | { afalgType: AfAlgType; reason?: undefined }
  | { afalgType: null; reason: string };

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
function call(f: () => number): { errno: number } | { error: string } {
  try {
    return { errno: f() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const DENIED = 'denied (seccomp/LSM/container)';

// ---------------------------------------------------------------------------------------------
// Module blocking: modprobe.d and the kernel command line

/** One configuration file's text, as read or as injected by a test. */
export interface ModprobeFile {
  path: string;
  text: string;
}

/** How a module is kept from loading. */
export type ModuleBlockKind = 'blacklist' | 'install' | 'alias-off' | 'module_blacklist' | 'modprobe.blacklist';

/** A configuration line that stops a kernel module from loading on demand. */
export interface ModuleBlock {
  /** The module it blocks, as written. */
  module: string;
  kind: ModuleBlockKind;
  /** `file:line`, or `/proc/cmdline`. */
  source: string;
  /** The directive as written. */
  directive: string;
}

/**
 * modprobe.d directories in kmod's precedence order: a file name found in an earlier directory
 * hides the same name in later ones.
 */
export const MODPROBE_DIRS: readonly string[] = [
  '/etc/modprobe.d',
  '/run/modprobe.d',
  '/usr/local/lib/modprobe.d',
  '/lib/modprobe.d',
  '/usr/lib/modprobe.d',
];

/**
 * Reads every `*.conf` in the modprobe.d directories, applying kmod's rule that a file name in
 * an earlier directory overrides the same name in a later one (which also folds `/lib` into
 * `/usr/lib` on merged-usr systems). Missing or unreadable directories and files are skipped.
 *
 * @param dirs - directories in precedence order.
 * @returns the files, sorted by file name as kmod reads them.
 */
export async function readModprobeFiles(dirs: readonly string[] = MODPROBE_DIRS): Promise<ModprobeFile[]> {
  const chosen = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.endsWith('.conf') && !chosen.has(name)) chosen.set(name, join(dir, name));
    }
  }
  const files: ModprobeFile[] = [];
  for (const name of [...chosen.keys()].sort()) {
    const path = chosen.get(name) as string;
    try {
      files.push({ path, text: await readFile(path, 'utf8') });
    } catch {
      // A dangling symlink or a file we may not read: it cannot be reported on, skip it.
    }
  }
  return files;
}

/** Module names treat `-` and `_` alike. */
function sameModule(a: string, b: string): boolean {
  return a.replaceAll('-', '_') === b.replaceAll('-', '_');
}

/** Logical lines of a modprobe.d file: comments dropped, backslash continuations joined. */
function logicalLines(text: string): Array<{ line: number; words: string[]; raw: string }> {
  const out: Array<{ line: number; words: string[]; raw: string }> = [];
  const physical = text.split(/\r?\n/);
  for (let i = 0; i < physical.length; i++) {
    const start = i + 1;
    let raw = physical[i] ?? '';
    while (raw.endsWith('\\') && i + 1 < physical.length) {
      raw = raw.slice(0, -1) + ' ' + (physical[++i] ?? '');
    }
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const words = trimmed.split(/\s+/);
    // Quoted back with single spaces, so a continued line reads as one directive.
    out.push({ line: start, words, raw: words.join(' ') });
  }
  return out;
}

/**
 * Finds the configuration that keeps `module` from loading on demand.
 *
 * Recognised: `blacklist <module>` (stops loading through an alias, which is how the kernel
 * requests `algif-aead` and `net-pf-38`), `install <module> <command>` (runs the command
 * instead, e.g. `/bin/false` or `/bin/true`, unless it calls modprobe `--ignore-install`),
 * `alias <alias> off`, and the kernel command line's `module_blacklist=` and
 * `modprobe.blacklist=`.
 *
 * @param module - module name, e.g. `algif_aead`.
 * @param aliases - aliases the kernel requests it by, e.g. `algif-aead`.
 * @param files - modprobe.d contents ({@link readModprobeFiles}).
 * @param cmdline - the kernel command line, or null when unknown.
 */
export function findModuleBlocks(
  module: string,
  aliases: readonly string[],
  files: readonly ModprobeFile[],
  cmdline: string | null = null,
): ModuleBlock[] {
  const blocks: ModuleBlock[] = [];
  for (const file of files) {
    for (const { line, words, raw } of logicalLines(file.text)) {
      const [directive, target, ...rest] = words;
      if (target === undefined) continue;
      const source = `${file.path}:${line}`;
      if (directive === 'blacklist' && sameModule(target, module)) {
        blocks.push({ module: target, kind: 'blacklist', source, directive: raw });
      } else if (directive === 'install' && sameModule(target, module)) {
        const command = rest.join(' ');
        if (!command.includes('--ignore-install')) blocks.push({ module: target, kind: 'install', source, directive: raw });
      } else if (
        directive === 'alias' &&
        rest[0] === 'off' &&
        (sameModule(target, module) || aliases.some((a) => sameModule(a, target)))
      ) {
        blocks.push({ module: target, kind: 'alias-off', source, directive: raw });
      }
    }
  }
  if (cmdline !== null) {
    for (const word of cmdline.trim().split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq < 0) continue;
      const key = word.slice(0, eq);
      if (key !== 'module_blacklist' && key !== 'modprobe.blacklist') continue;
      for (const name of word.slice(eq + 1).split(',')) {
        if (sameModule(name, module)) blocks.push({ module: name, kind: key, source: '/proc/cmdline', directive: word });
      }
    }
  }
  return blocks;
}

function describeBlocks(module: string, blocks: readonly ModuleBlock[]): string {
  const what = blocks.map((b) => `"${b.directive}" (${b.source})`).join(', ');
  const kinds = new Set(blocks.map((b) => b.kind));
  const verb = kinds.size === 1 && kinds.has('install') ? 'disabled by an install override' : 'blacklisted';
  return `${module} is ${verb}: ${what}`;
}

/** Lazily loads modprobe.d and the kernel command line, once, only when a probe failed. */
class BlockFinder {
  #loaded: Promise<{ files: readonly ModprobeFile[]; cmdline: string | null }> | undefined;

  constructor(private readonly options: AfAlgProbeOptions) {}

  async find(module: string, aliases: readonly string[]): Promise<ModuleBlock[]> {
    this.#loaded ??= this.#load();
    const { files, cmdline } = await this.#loaded;
    return findModuleBlocks(module, aliases, files, cmdline);
  }

  async #load(): Promise<{ files: readonly ModprobeFile[]; cmdline: string | null }> {
    const files = this.options.modprobeFiles ?? (await readModprobeFiles());
    let cmdline = this.options.cmdline;
    if (cmdline === undefined) {
      try {
        cmdline = await readFile('/proc/cmdline', 'utf8');
      } catch {
        cmdline = null;
      }
    }
    return { files, cmdline };
  }
}

// ---------------------------------------------------------------------------------------------
// Socket family and socket types

/** Test hooks and host facts for {@link probeAfAlgTypes}. */
export interface AfAlgProbeOptions {
  /** modprobe.d contents to search instead of reading {@link MODPROBE_DIRS}. */
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
export async function probeAfAlgTypes(
  native: AfAlgNative | null,
  options: AfAlgProbeOptions = {},
): Promise<AfAlgStatus> {
  const platform = options.platform ?? process.platform;
  if (platform !== 'linux') return afalgUnavailable(`AF_ALG is a Linux interface (this host runs ${platform})`);
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
        afalgUnavailable(`AF_ALG disabled by ${sysctlSetting(2)} (an administrator's ${AF_ALG_RESTRICT_SYSCTL}=0 or 1 enables it)`, sock.errno, code),
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
    const first = attempts[0] as BindAttempt;
    const why = attempts.map((a) => `${a.name}: ${restrictionReason(restriction, type, a.name) ?? 'refused'}`).join('; ');
    return { available: false, reason: `every ${type} name tried is refused by ${sysctlSetting(1)} (${why})`, errno: first.errno, code: first.code, attempts, restricted: true };
  }
  if (other === undefined) {
    const first = attempts[0] as BindAttempt;
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

// ---------------------------------------------------------------------------------------------
// Individual drivers

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
export const ASYNC_REFUSED_REASON =
  'asynchronous drivers are refused through AF_ALG since 7.2: use /dev/crypto (cryptodev-linux)';

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
    const restricted = errnos.is(r, 'ENOENT') && options.afalg?.restriction !== undefined ? restrictionReason(options.afalg.restriction, afalgType, entry.driver, true) : null;
    const reason = restricted ?? bindFailure(afalgType, entry, r, code, errnos);
    return { entry, afalgType, probed: true, reachable: false, errno: r, code, reason, ...(restricted === null ? {} : { restricted: true }) };
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
  const asyncFailed = probed.filter(
    (b) => isAsync(b) && !b.reachable && b.errno !== undefined && errnos.is(b.errno, 'ENOENT', 'EINVAL'),
  );
  if (asyncBound.length > 0) {
    return {
      asyncBindRefused: false,
      asyncBindReason: `asynchronous drivers bind (e.g. ${asyncBound.map((b) => b.entry.driver).slice(0, 3).join(', ')})`,
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
  const failedNames = refused.map((b) => b.entry.driver).slice(0, 3).join(', ');
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
function impliedAsyncRefusal(asyncFailed: DriverBinding[], restriction: AfAlgRestriction | undefined): Pick<DriverBindingReport, 'asyncBindRefused' | 'asyncBindReason'> {
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
