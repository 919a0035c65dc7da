/**
 * The kernel lab: runs a command inside a QEMU guest booted with one of the host's Debian
 * kernels, where AF_ALG, the crypto drivers and virtio-crypto cards exist even though the
 * host kernel has none of them.
 *
 * The guest's root is the host's `/` (read-only 9p under a tmpfs overlay), so the command
 * sees the same node, the same checkout and the same `/lib/modules` as the caller. A second,
 * writable 9p share carries the run's script in and the command's output and exit status
 * out; the serial console is only used for diagnostics.
 *
 * The command runs as root by default. `sysctl` settings are written in the guest after the
 * drivers are loaded (e.g. `crypto.af_alg_restrict`, which decides what AF_ALG may bind on
 * 7.3), and `unprivileged` runs the command as uid/gid 65534 with no capabilities, to see what
 * an ordinary process gets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readGuestReport, ReportWatch, REPORT_GRACE_MS, type GuestReport } from './guest-report.js';
import { buildInitramfs, MissingToolError } from './initramfs.js';
import { readModuleIndex, resolveKernel, type KernelInfo, type ModuleIndex } from './kernels.js';
import { OutputTail } from './output-tail.js';
import {
  BUSYBOX_PATH,
  checkLabPrerequisites,
  findExecutable,
  formatPrerequisiteReport,
  realPrereqHost,
} from './prereqs.js';
import { buildQemuArgs, QEMU_BINARY } from './qemu.js';
import { pvhKernelFor } from './vmlinux.js';
import {
  EXIT_LAB_FAILURE,
  EXIT_TIMEOUT,
  FAIL_MARKER,
  GUEST_SHARE_DIR,
  guestDeadline,
  renderStage2Script,
  SHARE_FILES,
  sysctlPath,
  UNPRIVILEGED_HOME,
  UNPRIVILEGED_ID,
  type UnprivilegedConfig,
} from './scripts.js';

export { checkLabPrerequisites, formatPrerequisiteReport, type LabPrerequisites } from './prereqs.js';
export { discoverKernels, type KernelInfo } from './kernels.js';
export { QmpClient, QmpError, type QmpEvent } from './qmp.js';
export { EXIT_LAB_FAILURE, EXIT_TIMEOUT } from './scripts.js';

/** Which stream of the guest command a chunk of output comes from. */
export type LabStream = 'stdout' | 'stderr';

/** Handed to {@link LabOptions.onStart} once QEMU is running. */
export interface LabHandle {
  /** Release of the kernel being booted. */
  kernel: string;
  /** QEMU's process id on the host. */
  pid: number;
  /** Unix socket of QEMU's QMP monitor (with {@link LabOptions.qmpSocket}); see {@link QmpClient}. */
  qmpSocketPath?: string;
  /** Ends the run now: QEMU is killed and the result reports an error. */
  stop(): void;
}

/** Options of {@link runInLab}. */
export interface LabOptions {
  /** Command and arguments to run in the guest (executed directly, not through a shell). */
  command: string[];
  /** Kernel release (`6.1.0-56-amd64`, or a unique prefix like `6.1`) or image path; default: the newest installed. */
  kernel?: string;
  /** virtio-crypto cards to attach (default 2). */
  cards?: number;
  /** Guest memory in MiB (default 2048). */
  memoryMiB?: number;
  /** Guest CPUs (default 2). */
  cpus?: number;
  /** Limit for the whole run, boot included (default 20 minutes); QEMU is killed when it passes. */
  timeoutMs?: number;
  /**
   * Extra module files (`.ko`, `.ko.xz`, ...) to `insmod` after the standard drivers, in
   * order; `KCRYPTO_LAB_MODULES` (colon-separated) adds more. `{kernel}` in a path stands for
   * the release being booted, so that one list serves several kernels. A module that fails to
   * load aborts the run with exit code {@link EXIT_LAB_FAILURE}.
   */
  extraModules?: string[];
  /** Variables added to (or overriding) the guest command's environment. */
  env?: Record<string, string>;
  /** Working directory of the guest command (default: `process.cwd()`). */
  cwd?: string;
  /**
   * sysctls to write in the guest before the command starts, after all modules are loaded:
   * name (`crypto.af_alg_restrict`, or `crypto/af_alg_restrict`) → value. A name the kernel
   * does not have, or a value it refuses, aborts the run with {@link EXIT_LAB_FAILURE}.
   */
  sysctl?: Readonly<Record<string, string>>;
  /**
   * Run the command as uid/gid 65534 (`nobody` / `nogroup`) with no supplementary groups and
   * no capabilities, through the host's util-linux `setpriv`. HOME is then a fresh directory
   * the command owns, and its working directory is handed to it in the guest's overlay (so it
   * can create files there); the rest of the host's tree stays read-only to it.
   */
  unprivileged?: boolean;
  /** Receives the command's output as it arrives; default: copy to this process's stdout / stderr. */
  onOutput?: (stream: LabStream, chunk: Buffer) => void;
  /** Start QEMU with a QMP monitor socket, reported through {@link LabOptions.onStart}. */
  qmpSocket?: boolean;
  /** Called once QEMU has been started. */
  onStart?: (handle: LabHandle) => void;
  /** Aborting it stops the run like {@link LabHandle.stop}. */
  signal?: AbortSignal;
  /** Copy the guest's serial console (kernel messages, lab progress) to stderr. */
  verbose?: boolean;
}

/** Outcome of {@link runInLab}. */
export interface LabResult {
  /**
   * The command's exit status. {@link EXIT_TIMEOUT} (124) when it ran out of time,
   * {@link EXIT_LAB_FAILURE} (125) when the lab failed (see `error`), 128 + n when the
   * host process was interrupted by signal n.
   */
  exitCode: number;
  /** Signal that ended the command, derived the shell's way from an exit status of 128 + n. */
  signal?: NodeJS.Signals;
  /** Whether the time limit ended the run (in the guest's watchdog or by killing QEMU). */
  timedOut: boolean;
  /** Release of the kernel that ran. */
  kernel: string;
  /** Wall time of the run, from preparing the initramfs to QEMU's exit. */
  durationMs: number;
  /** Wall time from starting QEMU until the guest started the command (±50 ms). */
  bootMs?: number;
  /** Why the lab could not report the command's own status, when it could not. */
  error?: string;
  /** The end of the serial console, when `error` is set. */
  consoleTail?: string;
  /** The host signal (SIGINT / SIGTERM) that interrupted the run. */
  interrupted?: NodeJS.Signals;
}

/** Thrown when the lab cannot start at all (missing packages, unknown kernel, bad options). */
export class LabSetupError extends Error {
  constructor(
    message: string,
    /** Debian packages whose absence caused this, if that is the cause. */
    readonly missingPackages: string[] = [],
  ) {
    super(message);
    this.name = 'LabSetupError';
  }
}

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

/** Default time limit of a run: 20 minutes. */
export const DEFAULT_TIMEOUT_MS = 20 * 60 * 1000;

/** Splits `KCRYPTO_LAB_MODULES` (colon-separated paths; empty entries ignored). */
export function parseModuleList(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((p) => p.trim() !== '');
}

/** Whether `dir` is `parent` or lies below it. */
function isWithin(dir: string, parent: string): boolean {
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

/** Keeps the last `limit` bytes written to it. */
class RingText {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The interesting lines of the console for an error report. */
function tailLines(text: string, lines: number): string {
  return text.replace(/\r/g, '').trimEnd().split('\n').slice(-lines).join('\n');
}

function signalFromStatus(status: number): NodeJS.Signals | undefined {
  if (status <= 128 || status >= 128 + 65) return undefined;
  const n = status - 128;
  const entry = Object.entries(os.constants.signals).find(([, num]) => num === n);
  return entry?.[0] as NodeJS.Signals | undefined;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const TMP_PREFIX = 'kcrypto-lab-';
/** Holds the pid of the process that owns a run directory. */
const OWNER_FILE = 'owner.pid';

/**
 * Removes run directories left by lab processes that were killed outright (SIGKILL gives no
 * chance to clean up). A directory counts as abandoned only when its owner pid is gone.
 */
function removeAbandonedRunDirs(): void {
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
interface Prepared {
  /** Program and arguments that start QEMU. */
  qemu: string;
  kernel: KernelInfo;
  args: string[];
  shareDir: string;
  qmpSocketPath?: string;
}

function prepare(
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
  const guestModules = extraModules.map((file, i) => {
    const source = path.resolve(file.replaceAll('{kernel}', kernel.version));
    if (!fs.existsSync(source)) throw new LabSetupError(`extra module ${source} does not exist`);
    const name = `${i}-${path.basename(source)}`;
    fs.copyFileSync(source, path.join(shareDir, SHARE_FILES.modulesDir, name));
    return path.posix.join(GUEST_SHARE_DIR, SHARE_FILES.modulesDir, name);
  });

  const initrd = path.join(tmp, 'initramfs.img');
  try {
    fs.writeFileSync(
      initrd,
      buildInitramfs({ kernel, index, busybox: BUSYBOX_PATH, verbose: options.verbose ?? false }).archive,
    );
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

/** Boots of one run when the guest kernel panics before the command starts. */
const BOOT_ATTEMPTS = 2;

/**
 * Boots a kernel in QEMU, runs `options.command` in it (as root unless
 * {@link LabOptions.unprivileged}), and reports how it ended.
 *
 * The run is bounded: the guest's watchdog powers the guest off when the command overruns
 * (even when the command is stuck in the kernel), and the host kills QEMU at `timeoutMs`
 * whatever the guest does. SIGINT / SIGTERM of this process kill QEMU too; temporary files
 * are always removed.
 *
 * @throws LabSetupError when the run cannot start (missing packages, unknown kernel, bad options).
 */
export async function runInLab(options: LabOptions): Promise<LabResult> {
  const t0 = Date.now();
  if (options.command.length === 0) throw new LabSetupError('no command given');
  for (const name of Object.keys(options.sysctl ?? {})) {
    try {
      sysctlPath(name);
    } catch (err) {
      throw new LabSetupError((err as Error).message);
    }
  }
  const prereq = checkLabPrerequisites(realPrereqHost(), { unprivileged: options.unprivileged ?? false });
  if (!prereq.ok) throw new LabSetupError(formatPrerequisiteReport(prereq), prereq.missing);
  const qemu = findExecutable(QEMU_BINARY, realPrereqHost());
  if (!qemu) throw new LabSetupError(`${QEMU_BINARY} not found`, ['qemu-system-x86']);
  let unprivileged: UnprivilegedConfig | undefined;
  if (options.unprivileged) {
    // The guest runs the host's setpriv through the 9p root, so the host's path is the guest's.
    const setpriv = findExecutable('setpriv', realPrereqHost());
    if (!setpriv) throw new LabSetupError('setpriv not found (needed to run unprivileged)', ['util-linux']);
    unprivileged = { setpriv, uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID, home: UNPRIVILEGED_HOME };
  }
  let kernel: KernelInfo;
  let index: ModuleIndex;
  try {
    kernel = resolveKernel(options.kernel);
    index = readModuleIndex(kernel);
  } catch (err) {
    throw new LabSetupError((err as Error).message);
  }

  removeAbandonedRunDirs();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), TMP_PREFIX));
  fs.writeFileSync(path.join(tmp, OWNER_FILE), String(process.pid));
  let child: ChildProcess | undefined;
  // Runs however this process ends, so that neither QEMU nor the temporary directory outlives it.
  const cleanup = (): void => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  try {
    // A guest that panics while booting, before the command starts, is booted once more: under
    // TCG the kernel's live code patching (int3 breakpoints on static keys) occasionally faults
    // on a 6.12 guest a couple of seconds into boot. It says nothing of the command.
    for (let attempt = 1; ; attempt++) {
      const dir = path.join(tmp, `boot-${attempt}`);
      fs.mkdirSync(dir);
      const prepared = prepare(options, dir, index, kernel, qemu, unprivileged);
      const result = await boot(options, prepared, t0, (c) => {
        child = c;
      });
      const bootPanic = result.exitCode === EXIT_LAB_FAILURE && result.bootMs === undefined && result.interrupted === undefined && /^guest kernel panic/.test(result.error ?? '');
      if (!bootPanic || attempt >= BOOT_ATTEMPTS) return result;
      process.stderr.write(`kcrypto lab: ${result.error} while booting ${kernel.version}; booting again\n`);
    }
  } finally {
    process.off('exit', cleanup);
    cleanup();
  }
}

async function boot(
  options: LabOptions,
  p: Prepared,
  t0: number,
  setChild: (c: ChildProcess) => void,
): Promise<LabResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const onOutput =
    options.onOutput ??
    ((stream: LabStream, chunk: Buffer): void => {
      (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
    });
  const consoleText = new RingText(64 * 1024);

  const spawnedAt = Date.now();
  const child = spawn(p.qemu, p.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  setChild(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const onConsole = (chunk: Buffer): void => {
    consoleText.push(chunk);
    if (options.verbose) process.stderr.write(chunk);
  };
  child.stdout?.on('data', onConsole);
  child.stderr?.on('data', onConsole);

  let hostTimedOut = false;
  let stopped = false;
  let interrupted: NodeJS.Signals | undefined;
  let bootMs: number | undefined;
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // QEMU ends at SIGTERM; SIGKILL only if it is itself stuck (e.g. on a hung 9p request).
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  };

  const tails = (['stdout', 'stderr'] as const).map(
    (stream) => new OutputTail(path.join(p.shareDir, SHARE_FILES[stream]), (chunk) => onOutput(stream, chunk)),
  );
  const startedFile = path.join(p.shareDir, SHARE_FILES.started);
  let overdue: GuestReport | undefined;
  const reportWatch = new ReportWatch(
    p.shareDir,
    () => consoleText.text(),
    (report) => {
      overdue = report;
      kill();
    },
  );
  let polls = 0;
  const poller = setInterval(() => {
    if (bootMs === undefined && fs.existsSync(startedFile)) bootMs = Date.now() - spawnedAt;
    for (const t of tails) t.poll();
    // The report files are checked less often than the output: one stat of the share per second.
    if (++polls % 20 === 0) reportWatch.poll();
  }, 50);

  const hostTimer = setTimeout(() => {
    hostTimedOut = true;
    kill();
  }, timeoutMs);
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    kill();
  };
  const onAbort = (): void => {
    stopped = true;
    kill();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();

  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('error', (err) => resolve(err));
    child.once('spawn', () => {
      options.onStart?.({
        kernel: p.kernel.version,
        pid: child.pid ?? -1,
        ...(p.qmpSocketPath !== undefined ? { qmpSocketPath: p.qmpSocketPath } : {}),
        stop: onAbort,
      });
      resolve(undefined);
    });
  });
  const exit = spawnError ? { code: null, signal: null } : await exited;

  clearInterval(poller);
  clearTimeout(hostTimer);
  reportWatch.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  options.signal?.removeEventListener('abort', onAbort);
  if (bootMs === undefined && fs.existsSync(startedFile)) bootMs = Date.now() - spawnedAt;
  for (const t of tails) t.close();

  const base = {
    kernel: p.kernel.version,
    durationMs: Date.now() - t0,
    ...(bootMs !== undefined ? { bootMs } : {}),
  };
  const consoleAll = consoleText.text();
  const withConsole = (error: string): { error: string; consoleTail: string } => ({
    error,
    consoleTail: tailLines(consoleAll, 40),
  });

  if (interrupted) {
    const result: LabResult = {
      ...base,
      exitCode: 128 + (os.constants.signals[interrupted] ?? 2),
      timedOut: false,
      interrupted,
      error: `interrupted by ${interrupted}`,
    };
    // Nobody else handles the signal: after cleaning up (the caller's finally), behave as the
    // signal would have without our handler, i.e. end the process.
    if (process.listenerCount(interrupted) === 0) {
      setImmediate(() => process.kill(process.pid, interrupted));
    }
    return result;
  }
  if (spawnError) return { ...base, exitCode: EXIT_LAB_FAILURE, timedOut: false, ...withConsole(`cannot start QEMU: ${spawnError.message}`) };

  const report = readGuestReport(p.shareDir, consoleAll);
  const status = report?.status;
  const guestTimedOut = fs.existsSync(path.join(p.shareDir, SHARE_FILES.timedOut));
  if (overdue !== undefined && report !== undefined) {
    // The command's result is in; only the guest's power-off hung. That is not the command's
    // failure, but it is worth a line: it usually means a device left a thread in the kernel.
    const how = report.source === 'verdict' ? 'the command reported its status but did not exit' : 'the guest did not power off';
    process.stderr.write(
      `kcrypto lab: ${how} within ${Math.round(REPORT_GRACE_MS / 1000)} s on ${p.kernel.version}; QEMU stopped (status ${report.status})\n`,
    );
  }
  if (hostTimedOut && overdue === undefined) {
    return {
      ...base,
      exitCode: EXIT_TIMEOUT,
      timedOut: true,
      ...withConsole(`QEMU killed after ${Math.round(timeoutMs / 1000)} s (run time limit)`),
    };
  }
  if (stopped) return { ...base, exitCode: EXIT_LAB_FAILURE, timedOut: false, error: 'stopped by the caller' };
  if (status === undefined) {
    const failed = new RegExp(`${FAIL_MARKER}: (.*)`).exec(consoleAll)?.[1]?.trim();
    const panic = /Kernel panic - not syncing: (.*)/.exec(consoleAll)?.[1]?.trim();
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    const error = failed
      ? `guest setup failed: ${failed}`
      : panic
        ? `guest kernel panic: ${panic}`
        : `QEMU ended (${how}) without the guest reporting an exit status`;
    return { ...base, exitCode: EXIT_LAB_FAILURE, timedOut: false, ...withConsole(error) };
  }
  const signal = guestTimedOut ? undefined : signalFromStatus(status);
  return {
    ...base,
    exitCode: status,
    timedOut: guestTimedOut,
    ...(signal ? { signal } : {}),
  };
}
