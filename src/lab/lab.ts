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
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { boot } from './boot.js';
import { readModuleIndex, resolveKernel, type KernelInfo, type ModuleIndex } from './kernels.js';
import { LabSetupError, type LabOptions, type LabResult } from './options.js';
import { OWNER_FILE, prepare, removeOrphanRunDirs, TMP_PREFIX } from './prepare.js';
import { checkLabPrerequisites, findExecutable, formatPrerequisiteReport, realPrereqHost } from './prereqs.js';
import { QEMU_BINARY } from './qemu.js';
import { EXIT_LAB_FAILURE, sysctlPath, UNPRIVILEGED_HOME, UNPRIVILEGED_ID, type UnprivilegedConfig } from './scripts.js';

export { checkLabPrerequisites, formatPrerequisiteReport, type LabPrerequisites } from './prereqs.js';
export { discoverKernels, type KernelInfo } from './kernels.js';
export { QmpClient, QmpError, type QmpEvent } from './qmp.js';
export { EXIT_LAB_FAILURE, EXIT_TIMEOUT } from './scripts.js';
export { DEFAULT_TIMEOUT_MS, LabSetupError, type LabHandle, type LabOptions, type LabResult, type LabStream } from './options.js';
export { CRYPTO_MODULES, guestEnvironment, parseModuleList, parseModuleSpec, unprivilegedEnvironment } from './prepare.js';

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

  removeOrphanRunDirs();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), TMP_PREFIX));
  fs.writeFileSync(path.join(tmp, OWNER_FILE), String(process.pid));
  let child: ChildProcess | undefined;
  // Runs however this process ends, so that neither QEMU nor the temporary directory outlives it.
  const cleanup = (): void => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
      const bootPanic =
        result.exitCode === EXIT_LAB_FAILURE &&
        result.bootMs === undefined &&
        result.interrupted === undefined &&
        (result.error ?? '').startsWith('guest kernel panic');
      if (!bootPanic || attempt >= BOOT_ATTEMPTS) return result;
      process.stderr.write(`kcrypto lab: ${result.error} while booting ${kernel.version}; booting again\n`);
    }
  } finally {
    process.off('exit', cleanup);
    cleanup();
  }
}
