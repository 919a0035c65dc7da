/**
 * `kcrypto lab`: run a command inside the QEMU kernel lab.
 *
 *     kcrypto lab [--kernel V|all] [--all-kernels] [--cards N] [--timeout SEC] [--stall SEC] [--memory MiB]
 *                 [--cpus N] [--module file.ko ...] [--env NAME[=VALUE]]
 *                 [--sysctl NAME=VALUE ...] [--unprivileged] [--verbose] -- cmd args...
 *     kcrypto lab --list-kernels
 *
 * `--sysctl` writes a sysctl in the guest once the drivers are loaded (e.g.
 * `crypto.af_alg_restrict=0`, which gives 7.3 the AF_ALG rules of 7.2); an unknown name fails
 * the run. `--unprivileged` runs the command as uid/gid 65534 with no capabilities.
 */
import { checkLabPrerequisites, formatPrerequisiteReport } from '../lab/prereqs.js';
import { LabSetupError, runInLab, type LabOptions, type LabResult } from '../lab/lab.js';
import { sysctlPath } from '../lab/scripts.js';

/** Options of `kcrypto lab`, as parsed from its arguments. */
export interface LabCommandArgs {
  /** Kernel release or image path; `undefined` for the default kernel. */
  kernel?: string;
  /** Run once per installed kernel. */
  allKernels: boolean;
  cards?: number;
  timeoutMs?: number;
  /** Stall watchdog (0: off). */
  stallMs?: number;
  memoryMiB?: number;
  cpus?: number;
  modules: string[];
  env: Record<string, string>;
  /** sysctl name → value, written in the guest before the command (in the order given). */
  sysctl: Record<string, string>;
  /** Run the command as uid/gid 65534 with no capabilities. */
  unprivileged: boolean;
  verbose: boolean;
  listKernels: boolean;
  help: boolean;
  command: string[];
}

/** Usage text of `kcrypto lab`. */
export const LAB_USAGE = `usage: kcrypto lab [options] -- <command> [args...]
       kcrypto lab --list-kernels

Runs <command> as root inside a QEMU guest booted with an installed Debian kernel, with
AF_ALG, the kernel's crypto drivers and virtio-crypto cards available. The guest sees the
host's files (read-only, with writes kept in guest memory) and starts in the current directory.
Kernels are found as /boot/vmlinuz-<release> and as /lib/modules/<release>/vmlinuz.

options:
  --kernel V         kernel release (or unique prefix, or image path); "all" = --all-kernels
  --all-kernels      run once per installed kernel, newest first
  --cards N          virtio-crypto cards (default 2)
  --timeout SEC      limit for the whole run (default 1200)
  --stall SEC        when the command has printed nothing for SEC seconds (default 480; 0 =
                     never), dump the guest's tasks (threads in uninterruptible sleep with
                     their kernel stacks, sysrq w and t) and end the run at once (exit 124)
  --memory MiB       guest memory (default 2048)
  --cpus N           guest CPUs (default 2)
  --module FILE [NAME=VALUE...] [FILE...]
                     extra module(s) to insmod after the standard drivers, in order, each
                     with its parameters (repeatable; KCRYPTO_LAB_MODULES="a.ko x=1:b.ko"
                     adds more); {kernel} in a path is replaced by the release being booted
  --env NAME=VALUE   set a variable for the command; --env NAME copies it from here
  --sysctl NAME=VALUE
                     write /proc/sys/NAME (dots as slashes) in the guest after the drivers
                     are loaded, before the command (repeatable), e.g.
                     --sysctl crypto.af_alg_restrict=0; a sysctl the kernel does not have,
                     or a value it refuses, fails the run (exit 125)
  --unprivileged     run the command as uid/gid 65534 (nobody/nogroup) with no groups and
                     no capabilities (util-linux setpriv); HOME is a fresh writable directory.
                     The current directory is made the command's in the guest, so it can
                     create files there; other host files stay read-only to it, and must be
                     readable by others for it to use them
  --verbose, -v      show the guest's console
  --list-kernels     list usable kernels and missing packages
  -h, --help         this text

exit status: the command's; 124 on timeout or stall, 125 when the lab failed, 2 on usage errors or
missing packages.`;

/** A usage error of `kcrypto lab`. */
export class LabUsageError extends Error {
  override name = 'LabUsageError';
}

/** A module parameter after a module file: `NAME=VALUE`. */
const MODULE_PARAM = /^[A-Za-z_][A-Za-z0-9_.-]*=\S*$/;

/** Whether an argument names a module file (and is not an option). */
function isModuleFile(arg: string | undefined): boolean {
  return arg !== undefined && !arg.startsWith('-') && /\.ko(\.(xz|zst|gz))?$/.test(arg);
}

function positiveInt(flag: string, value: string | undefined, min = 1): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min) {
    throw new LabUsageError(`${flag} needs an integer ≥ ${min}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  }
  return Number(value);
}

/**
 * Parses the arguments that follow `lab`. The command starts after `--`, or at the first
 * argument that is not an option (so `kcrypto lab uname -r` works too).
 *
 * @param hostEnv - where `--env NAME` copies values from.
 * @throws LabUsageError on malformed arguments.
 */
export function parseLabArgs(argv: readonly string[], hostEnv: NodeJS.ProcessEnv = process.env): LabCommandArgs {
  const out: LabCommandArgs = {
    allKernels: false,
    modules: [],
    env: {},
    sysctl: {},
    unprivileged: false,
    verbose: false,
    listKernels: false,
    help: false,
    command: [],
  };
  let i = 0;
  const value = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const v = argv[++i];
    if (v === undefined || v === '--') throw new LabUsageError(`${flag} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      out.command = argv.slice(i + 1);
      return out;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.command = argv.slice(i);
      return out;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    switch (flag) {
      case '--kernel': {
        const v = value(flag, inline);
        if (v === 'all') out.allKernels = true;
        else out.kernel = v;
        break;
      }
      case '--all-kernels':
        out.allKernels = true;
        break;
      case '--cards':
        out.cards = positiveInt(flag, value(flag, inline), 0);
        break;
      case '--timeout':
        out.timeoutMs = positiveInt(flag, value(flag, inline)) * 1000;
        break;
      case '--stall':
        out.stallMs = positiveInt(flag, value(flag, inline), 0) * 1000;
        break;
      case '--memory':
        out.memoryMiB = positiveInt(flag, value(flag, inline), 256);
        break;
      case '--cpus':
        out.cpus = positiveInt(flag, value(flag, inline));
        break;
      case '--module': {
        // "--module a.ko x=1 b.ko": further module files belong to it too, and NAME=VALUE
        // arguments are the parameters of the module file before them.
        const specs = [value(flag, inline)];
        for (;;) {
          const next = argv[i + 1];
          if (inline === undefined && isModuleFile(next)) specs.push(argv[++i] ?? '');
          else if (inline === undefined && next !== undefined && MODULE_PARAM.test(next))
            specs.push(`${specs.pop() ?? ''} ${argv[++i] ?? ''}`);
          else break;
        }
        out.modules.push(...specs);
        break;
      }
      case '--env': {
        const v = value(flag, inline);
        const at = v.indexOf('=');
        if (at === 0) throw new LabUsageError(`--env needs NAME=VALUE or NAME, got ${JSON.stringify(v)}`);
        if (at > 0) out.env[v.slice(0, at)] = v.slice(at + 1);
        else {
          const copied = hostEnv[v];
          if (copied !== undefined) out.env[v] = copied;
        }
        break;
      }
      case '--sysctl': {
        const v = value(flag, inline);
        const at = v.indexOf('=');
        if (at <= 0) throw new LabUsageError(`--sysctl needs NAME=VALUE, got ${JSON.stringify(v)}`);
        const name = v.slice(0, at);
        try {
          sysctlPath(name);
        } catch (err) {
          throw new LabUsageError(`--sysctl: ${(err as Error).message}`);
        }
        // Set again later: the last value counts, at the place of the last setting.
        const { [name]: _earlier, ...others } = out.sysctl;
        out.sysctl = { ...others, [name]: v.slice(at + 1) };
        break;
      }
      case '--unprivileged':
        out.unprivileged = true;
        break;
      case '--verbose':
      case '-v':
        out.verbose = true;
        break;
      case '--list-kernels':
        out.listKernels = true;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new LabUsageError(`unknown option ${arg}`);
    }
  }
  return out;
}

function describe(result: LabResult): string | undefined {
  if (result.interrupted) return `interrupted by ${result.interrupted}`;
  if (result.stalled) return `${result.error ?? 'stalled'} (kernel ${result.kernel})`;
  if (result.timedOut) return `timed out on ${result.kernel}${result.error ? ` (${result.error})` : ''}`;
  if (result.error) return `${result.error} (kernel ${result.kernel})`;
  if (result.signal) return `command ended with status ${result.exitCode} (${result.signal}) on ${result.kernel}`;
  return undefined;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Runs `kcrypto lab`. `argv` holds the arguments after `lab`.
 *
 * @returns the process exit status: the command's (the first failing one with
 *   `--all-kernels`), 2 for usage errors or missing packages.
 */
export async function labCommand(argv: string[]): Promise<number> {
  let args: LabCommandArgs;
  try {
    args = parseLabArgs(argv);
  } catch (err) {
    if (!(err instanceof LabUsageError)) throw err;
    process.stderr.write(`kcrypto lab: ${err.message}\n${LAB_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${LAB_USAGE}\n`);
    return 0;
  }

  const prereq = checkLabPrerequisites(undefined, { unprivileged: args.unprivileged });
  if (args.listKernels) {
    for (const k of prereq.kernels) process.stdout.write(`${k}\n`);
    if (!prereq.ok) process.stderr.write(`${formatPrerequisiteReport(prereq)}\n`);
    return prereq.ok ? 0 : 2;
  }
  if (!prereq.ok) {
    process.stderr.write(`${formatPrerequisiteReport(prereq)}\n`);
    return 2;
  }
  if (args.command.length === 0) {
    process.stderr.write(`kcrypto lab: no command given\n${LAB_USAGE}\n`);
    return 2;
  }

  const kernels: (string | undefined)[] = args.allKernels ? prereq.kernels : [args.kernel];
  const base: LabOptions = {
    command: args.command,
    extraModules: args.modules,
    env: args.env,
    sysctl: args.sysctl,
    unprivileged: args.unprivileged,
    verbose: args.verbose,
    ...(args.cards !== undefined ? { cards: args.cards } : {}),
    ...(args.timeoutMs !== undefined ? { timeoutMs: args.timeoutMs } : {}),
    ...(args.stallMs !== undefined ? { stallMs: args.stallMs } : {}),
    ...(args.memoryMiB !== undefined ? { memoryMiB: args.memoryMiB } : {}),
    ...(args.cpus !== undefined ? { cpus: args.cpus } : {}),
  };

  const summary: string[] = [];
  let firstFailure = 0;
  for (const [n, kernel] of kernels.entries()) {
    if (args.allKernels) process.stderr.write(`\n=== kcrypto lab: kernel ${kernel} (${n + 1}/${kernels.length}) ===\n`);
    let result: LabResult;
    try {
      result = await runInLab({ ...base, ...(kernel !== undefined ? { kernel } : {}) });
    } catch (err) {
      if (!(err instanceof LabSetupError)) throw err;
      process.stderr.write(`kcrypto lab: ${err.message}\n`);
      return 2;
    }
    const problem = describe(result);
    if (problem) process.stderr.write(`kcrypto lab: ${problem}\n`);
    // In verbose mode the whole console was already shown.
    if (result.consoleTail && result.error && !args.verbose) {
      process.stderr.write(`--- guest console (last lines) ---\n${result.consoleTail}\n---\n`);
    }
    if (result.stalled?.answered) {
      process.stderr.write(
        `--- guest task dump (${result.kernel}) ---\n${result.stalled.diagnostics.trimEnd()}\n--- end of task dump ---\n`,
      );
    }
    summary.push(
      `${result.kernel}: exit ${result.exitCode}${result.timedOut ? ' (timeout)' : ''}, boot ${seconds(result.bootMs)}, total ${seconds(result.durationMs)}`,
    );
    if (result.exitCode !== 0 && firstFailure === 0) firstFailure = result.exitCode;
    if (result.interrupted) break;
  }
  if (args.allKernels) process.stderr.write(`\n=== kcrypto lab summary ===\n${summary.join('\n')}\n`);
  else if (args.verbose) process.stderr.write(`kcrypto lab: ${summary.join('\n')}\n`);
  return firstFailure;
}
