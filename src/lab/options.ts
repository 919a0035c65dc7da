/** The lab's options, its result, and the error it throws when it cannot start. */
import type { LabStall } from './stall.js';

/** Which stream of the guest command a chunk of output comes from. */
export type LabStream = 'stdout' | 'stderr';

/** Handed to {@link LabOptions.onStart} once QEMU is running. */
export interface LabHandle {
  /** Release of the kernel being booted. */
  kernel: string;
  /** QEMU's process id on the host. */
  pid: number;
  /** Unix socket of QEMU's QMP monitor (with {@link LabOptions.qmpSocket}); see `QmpClient`. */
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
   * Stall watchdog: when the command has written nothing (stdout or stderr) for this long, the
   * guest's tasks are dumped and the run ends at once (`EXIT_TIMEOUT`, with `stalled`). Default
   * `DEFAULT_STALL_MS` (8 minutes); 0 turns it off.
   */
  stallMs?: number;
  /**
   * Extra module files (`.ko`, `.ko.xz`, ...) to `insmod` after the standard drivers, in
   * order, each optionally followed by its parameters (`my_driver.ko debug=1 queues=2`);
   * `KCRYPTO_LAB_MODULES` (colon-separated) adds more. `{kernel}` in a path stands for the
   * release being booted, so that one list serves several kernels. A module that fails to
   * load aborts the run with exit code `EXIT_LAB_FAILURE`.
   */
  extraModules?: string[];
  /** Variables added to (or overriding) the guest command's environment. */
  env?: Record<string, string>;
  /** Working directory of the guest command (default: `process.cwd()`). */
  cwd?: string;
  /**
   * sysctls to write in the guest before the command starts, after all modules are loaded:
   * name (`crypto.af_alg_restrict`, or `crypto/af_alg_restrict`) → value. A name the kernel
   * does not have, or a value it refuses, aborts the run with `EXIT_LAB_FAILURE`.
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
   * The command's exit status. `EXIT_TIMEOUT` (124) when it ran out of time,
   * `EXIT_LAB_FAILURE` (125) when the lab failed (see `error`), 128 + n when the
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
  /** Set when the stall watchdog ended the run: where, and the guest's task dump. */
  stalled?: LabStall;
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

/** Default time limit of a run: 20 minutes. */
export const DEFAULT_TIMEOUT_MS = 20 * 60 * 1000;
