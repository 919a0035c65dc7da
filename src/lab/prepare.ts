/** Everything done on the host before QEMU starts: the share, the initramfs, stage 2, QEMU's arguments. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildInitramfs, MissingToolError } from './initramfs.js';
import type { KernelInfo, ModuleIndex } from './kernels.js';
import { DEFAULT_TIMEOUT_MS, LabSetupError, type LabOptions } from './options.js';
import { BUSYBOX_PATH, findExecutable, realPrereqHost } from './prereqs.js';
import { buildQemuArgs } from './qemu.js';
import { pvhKernelFor } from './vmlinux.js';
import { GUEST_SHARE_DIR, guestDeadline, renderStage2Script, SHARE_FILES, UNPRIVILEGED_HOME, type UnprivilegedConfig } from './scripts.js';

/**
 * Crypto drivers stage 2 loads when the kernel has them as modules (failures tolerated).
 * Slowest first (their self-tests take seconds under TCG), so that the parallel loaders
 * share them out evenly.
 */
export const CRYPTO_MODULES: readonly string[] = [
  'aesni_intel',
  'sha512_ssse3',
  'ghash_clmulni_intel',
  'drbg',
  'virtio_crypto',
  'chacha_x86_64',
  'poly1305_x86_64',
  'sha256_ssse3',
  'sha1_ssse3',
  'des3_ede_x86_64',
  'af_alg',
  'algif_hash',
  'algif_skcipher',
  'algif_aead',
  'algif_rng',
  'crypto_user',
  'cryptd',
  'gcm',
  'ccm',
  'chacha20poly1305',
  'authenc',
  'authencesn',
  'seqiv',
  'echainiv',
  'sha512_generic',
  'sha3_generic',
  'cmac',
  'xcbc',
  'xts',
  'ctr',
  'ecb',
  'cbc',
  'cts',
  'hmac',
  'md5',
  'jitterentropy_rng',
  'des_generic',
  'crc32c_generic',
  'cuse',
];

/** Splits `KCRYPTO_LAB_MODULES` (colon-separated paths; empty entries ignored). */
export function parseModuleList(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((p) => p.trim() !== '');
}

/** A module parameter as insmod takes it: `name=value` (the value may be empty or a comma list). */
const MODULE_PARAM = /^[A-Za-z_][A-Za-z0-9_.-]*=\S*$/;

/**
 * Splits a module spec, `FILE [NAME=VALUE ...]` (whitespace-separated, as a modprobe.d
 * options line), into the file and its parameters; a parameter not of that form is refused.
 */
export function parseModuleSpec(spec: string): { file: string; params: string[] } {
  const [file = '', ...params] = spec.trim().split(/\s+/);
  const bad = params.find((p) => !MODULE_PARAM.test(p));
  if (bad !== undefined) throw new LabSetupError(`module parameter ${JSON.stringify(bad)} of ${file} is not NAME=VALUE`);
  return { file, params };
}

/** Whether `dir` is `parent` or lies below it. */
export function isWithin(dir: string, parent: string): boolean {
  const rel = path.relative(parent, dir);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The guest command's environment: a clean one, plus the caller's additions. PATH puts this
 * node first, then the caller's PATH (the guest sees the same files), then the system
 * directories.
 */
export function guestEnvironment(
  kernel: string,
  cards: number,
  extra: Readonly<Record<string, string>> = {},
  hostPath: string = process.env['PATH'] ?? '',
  nodePath: string = process.execPath,
): Record<string, string> {
  const dirs = [
    path.dirname(nodePath),
    ...hostPath.split(':'),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ].filter((d) => d !== '' && path.isAbsolute(d));
  return {
    PATH: [...new Set(dirs)].join(':'),
    HOME: '/root',
    USER: 'root',
    LOGNAME: 'root',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    KCRYPTO_LAB: '1',
    KCRYPTO_LAB_KERNEL: kernel,
    KCRYPTO_LAB_CARDS: String(cards),
    // Where the command may write its exit status before exiting, for when it cannot exit.
    KCRYPTO_LAB_VERDICT_FILE: path.posix.join(GUEST_SHARE_DIR, SHARE_FILES.verdict),
    ...extra,
  };
}

/** The environment entries that name the user of an unprivileged command (callers' values win). */
export function unprivilegedEnvironment(): Record<string, string> {
  return { HOME: UNPRIVILEGED_HOME, USER: 'nobody', LOGNAME: 'nobody' };
}

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export const TMP_PREFIX = 'kcrypto-lab-';
/** Holds the pid of the process that owns a run directory. */
export const OWNER_FILE = 'owner.pid';

/**
 * Removes run directories left by lab processes that were killed outright (SIGKILL gives no
 * chance to clean up). A directory counts as an orphan only when its owner pid is gone.
 */
export function removeOrphanRunDirs(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(os.tmpdir()).filter((e) => e.startsWith(TMP_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = path.join(os.tmpdir(), entry);
    const pid = Number(readText(path.join(dir, OWNER_FILE)));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Everything prepared on the host before QEMU starts. */
export interface Prepared {
  /** Program and arguments that start QEMU. */
  qemu: string;
  kernel: KernelInfo;
  args: string[];
  shareDir: string;
  qmpSocketPath?: string;
}

export function prepare(
  options: LabOptions,
  tmp: string,
  index: ModuleIndex,
  kernel: KernelInfo,
  qemu: string,
  unprivileged: UnprivilegedConfig | undefined,
): Prepared {
  const cards = options.cards ?? 2;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const shareDir = path.join(tmp, 'share');
  fs.mkdirSync(path.join(shareDir, SHARE_FILES.modulesDir), { recursive: true });

  // Extra modules are copied onto the share: the guest mounts a fresh /tmp, which would hide
  // a module the caller built in the host's /tmp.
  const extraModules = [...(options.extraModules ?? []), ...parseModuleList(process.env['KCRYPTO_LAB_MODULES'])];
  const guestModules = extraModules.map((spec, i) => {
    const { file, params } = parseModuleSpec(spec);
    const source = path.resolve(file.replaceAll('{kernel}', kernel.version));
    if (!fs.existsSync(source)) throw new LabSetupError(`extra module ${source} does not exist`);
    const name = `${i}-${path.basename(source)}`;
    fs.copyFileSync(source, path.join(shareDir, SHARE_FILES.modulesDir, name));
    return { path: path.posix.join(GUEST_SHARE_DIR, SHARE_FILES.modulesDir, name), params };
  });

  const initrd = path.join(tmp, 'initramfs.img');
  try {
    fs.writeFileSync(initrd, buildInitramfs({ kernel, index, busybox: BUSYBOX_PATH, verbose: options.verbose ?? false }).archive);
  } catch (err) {
    if (err instanceof MissingToolError) throw new LabSetupError(err.message, [err.debianPackage]);
    throw err;
  }

  const cryptoModules = CRYPTO_MODULES.filter((m) => index.modules.has(m) && !index.builtin.has(m));
  fs.writeFileSync(
    path.join(shareDir, SHARE_FILES.stage2),
    renderStage2Script({
      command: options.command,
      cwd,
      env: guestEnvironment(kernel.version, cards, { ...(unprivileged ? unprivilegedEnvironment() : {}), ...options.env }),
      cryptoModules,
      modprobeJobs: options.cpus ?? 2,
      extraModules: guestModules,
      // Taken before QEMU starts, so the guest's deadline errs on the early side.
      deadline: guestDeadline(timeoutMs, Date.now()),
      limitSec: Math.round(timeoutMs / 1000),
      mountTmp: !isWithin(cwd, '/tmp'),
      verbose: options.verbose ?? false,
      ...(options.sysctl ? { sysctls: options.sysctl } : {}),
      ...(unprivileged ? { unprivileged } : {}),
    }),
    { mode: 0o755 },
  );

  const qmpSocketPath = options.qmpSocket ? path.join(tmp, 'qmp.sock') : undefined;
  const args = buildQemuArgs({
    kernelImage: pvhKernelFor(kernel.image, kernel.version, tmp) ?? kernel.image,
    initrd,
    shareDir,
    cards,
    memoryMiB: options.memoryMiB ?? 2048,
    cpus: options.cpus ?? 2,
    ...(qmpSocketPath !== undefined ? { qmpSocket: qmpSocketPath } : {}),
  });
  // With setpriv (util-linux), QEMU gets SIGKILL if this process dies without cleaning up
  // (e.g. it is itself SIGKILLed); otherwise only the guest's watchdog would end it.
  const setpriv = findExecutable('setpriv', realPrereqHost());
  const [program, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', qemu, ...args]] : [qemu, args];
  return { qemu: program, kernel, args: argv, shareDir, ...(qmpSocketPath !== undefined ? { qmpSocketPath } : {}) };
}
