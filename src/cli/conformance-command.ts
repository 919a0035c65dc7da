/**
 * `kcrypto conformance`: the conformance kit on this machine's kernel drivers (or the drivers
 * named), as a table, JSON or JUnit XML, for driver authors and CI.
 */
import { writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { drivers, type DriverInfo } from '../api/drivers.js';
import type { Check, ConformanceReport, Depth, Progress } from '../conformance/check.js';
import { CHECKS } from '../conformance/checks/index.js';
import { FAMILIES } from '../conformance/families.js';
import { formatJson } from '../conformance/report-json.js';
import { formatJunit } from '../conformance/report-junit.js';
import { formatTable } from '../conformance/report-table.js';
import { runConformance } from '../conformance/runner.js';

/** Usage text of `kcrypto conformance`. */
export const CONFORMANCE_USAGE = `usage: kcrypto conformance [--driver NAME …] [--algorithm ALG …] [--check ID …] [--quick|--full]
                           [--junit FILE] [--json [FILE]] [--load MODULE …]

Checks drivers against node:crypto and published vectors: by default every kernel driver this
machine offers (AF_ALG, /dev/crypto), each on every algorithm it serves.

  --driver NAME      a driver: kcrypto name (afalg:cbc-aes-aesni), kernel driver name, software,
                     openssl, or a driver registered in the framework (see --load)
  --algorithm ALG    a kernel algorithm name (cbc(aes), gcm(aes), hmac(sha256), …)
  --check ID         a check of the kit
  --quick            a sample of each check (the default)
  --full             every vector and size
  --junit FILE       also write JUnit XML (a test suite per driver) to FILE
  --json [FILE]      write the report as JSON to FILE, or without FILE print it on stdout
                     instead of the table
  --load MODULE      import an ES module (a path, or a package name) first: one that registers
                     a driver in kcrypto's framework, which --driver then names
  --driver, --algorithm, --check and --load repeat, and take comma-separated lists.

Exit status: 0 when every check passes (n/a allowed), 1 when one fails, 2 for a mistake on the
command line (an unknown option, driver, algorithm or check).
`;

/** What the command line asks for. */
export interface ConformanceArgs {
  drivers: string[];
  algorithms: string[];
  checks: string[];
  depth: Depth;
  junit?: string;
  /** A file, or `true`: JSON on stdout instead of the table. */
  json?: string | true;
  load: string[];
  help: boolean;
}

/** A mistake on the command line (exit status 2). */
export class ConformanceUsageError extends Error {
  override name = 'ConformanceUsageError';
}

const LISTS = { '--driver': 'drivers', '--algorithm': 'algorithms', '--check': 'checks', '--load': 'load' } as const;

/** Parses the options; throws a {@link ConformanceUsageError} for a mistake. */
export function parseConformanceArgs(argv: readonly string[]): ConformanceArgs {
  const args: ConformanceArgs = { drivers: [], algorithms: [], checks: [], depth: 'quick', load: [], help: false };
  let depthSet: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--')))
        throw new ConformanceUsageError(`${name} needs a value`);
      return v;
    };
    if (name in LISTS) {
      const items = value()
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (items.length === 0) throw new ConformanceUsageError(`${name} needs a value`);
      args[LISTS[name as keyof typeof LISTS]].push(...items);
    } else if (name === '--quick' || name === '--full') {
      if (inline !== undefined) throw new ConformanceUsageError(`${name} takes no value`);
      const depth = name.slice(2) as Depth;
      if (depthSet !== undefined && depthSet !== depth) throw new ConformanceUsageError('--quick and --full exclude each other');
      depthSet = depth;
      args.depth = depth;
    } else if (name === '--junit') {
      args.junit = value();
    } else if (name === '--json') {
      // The file is optional: the next word is one unless it is another option.
      const following = argv[i + 1];
      const next = inline ?? (following !== undefined && (following === '-' || !following.startsWith('-')) ? argv[++i] : undefined);
      args.json = next === undefined || next === '-' ? true : next;
    } else if (name === '-h' || name === '--help') {
      args.help = true;
    } else {
      throw new ConformanceUsageError(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`);
    }
  }
  return args;
}

/** Where the command writes: the process's streams and files, or stand-ins in tests. */
export interface ConformanceIo {
  stdout: (text: string) => void;
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  writeFile: (path: string, text: string) => void;
}

const processIo: ConformanceIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: process.stderr,
  writeFile: (path, text) => writeFileSync(path, text),
};

/** For tests and extensions: checks to run instead of the kit's own. */
export interface ConformanceSeams {
  checkList?: readonly Check[];
}

/** Kernel drivers the kit checks by default: AF_ALG's and /dev/crypto's usable ones. */
function usableKernelDrivers(list: readonly DriverInfo[]): DriverInfo[] {
  return list.filter((d) => d.available && (d.interface === 'afalg' || d.interface === 'devcrypto'));
}

/** One line on what the kernel offers here, in the words of `kcrypto drivers`. */
export function kernelLine(list: readonly DriverInfo[]): string {
  const part = (iface: 'afalg' | 'devcrypto', label: string): string => {
    const usable = list.filter((d) => d.interface === iface && d.available);
    if (usable.length > 0) return `${label}: ${usable.length} usable driver${usable.length === 1 ? '' : 's'}`;
    const entry = list.find((d) => d.interface === iface && !d.available && d.kernelDriver === undefined);
    return `${label}: unavailable${entry?.reason ? ` — ${entry.reason}` : ''}`;
  };
  return `kernel ${release()}: ${part('afalg', 'AF_ALG')}; ${part('devcrypto', '/dev/crypto')}`;
}

/** Imports `spec`: a path (relative to the working directory) or a package name. */
async function load(spec: string): Promise<void> {
  const isPath = spec.startsWith('.') || isAbsolute(spec) || /\.[cm]?[jt]s$/.test(spec);
  await import(isPath ? pathToFileURL(resolve(spec)).href : spec);
}

/** The progress line on a terminal: driver, algorithm, check and how far, redrawn in place. */
function progressLine(stderr: ConformanceIo['stderr']): ((p: Progress) => void) | undefined {
  if (stderr.isTTY !== true) return undefined;
  return (p) => {
    const line = `${p.driver} ${p.algorithm} ${p.check} ${p.done}/${p.total}`;
    stderr.write(`\r\x1b[K${line.slice(0, (stderr.columns ?? 100) - 1)}`);
  };
}

/** Runs the command; returns the exit status. */
export async function conformanceCommand(argv: string[], io: ConformanceIo = processIo, seams: ConformanceSeams = {}): Promise<number> {
  const usage = (message: string): number => {
    io.stderr.write(`kcrypto conformance: ${message}\n`);
    return 2;
  };
  let args: ConformanceArgs;
  try {
    args = parseConformanceArgs(argv);
  } catch (err) {
    if (err instanceof ConformanceUsageError) return usage(`${err.message}\n${CONFORMANCE_USAGE}`);
    throw err;
  }
  if (args.help) {
    io.stdout(CONFORMANCE_USAGE);
    return 0;
  }
  const checkList = seams.checkList ?? CHECKS;
  const badChecks = args.checks.filter((id) => !checkList.some((c) => c.id === id));
  if (badChecks.length > 0)
    return usage(`unknown check ${badChecks.join(', ')}; known: ${checkList.map((c) => c.id).join(', ') || '(none)'}`);
  const badAlgorithms = args.algorithms.filter((a) => !FAMILIES.some((f) => f.kernelName === a));
  if (badAlgorithms.length > 0)
    return usage(`unknown algorithm ${badAlgorithms.join(', ')}; known: ${FAMILIES.map((f) => f.kernelName).join(', ')}`);
  for (const spec of args.load) {
    try {
      await load(spec);
    } catch (err) {
      return usage(`cannot load ${spec}: ${(err as Error).message}`);
    }
  }
  // With JSON on stdout, stdout carries the JSON alone.
  const say = args.json === true ? (l: string) => void io.stderr.write(`${l}\n`) : (l: string) => io.stdout(`${l}\n`);
  const list = await drivers();
  say(kernelLine(list));
  if (args.drivers.length === 0 && usableKernelDrivers(list).length === 0) {
    say('no kernel driver to check here; name one with --driver (e.g. --driver software)');
    return 0;
  }
  const onProgress = progressLine(io.stderr);
  let report: ConformanceReport;
  try {
    report = await runConformance({
      ...(args.drivers.length > 0 ? { drivers: args.drivers } : {}),
      ...(args.algorithms.length > 0 ? { algorithms: args.algorithms } : {}),
      ...(args.checks.length > 0 ? { checks: args.checks } : {}),
      depth: args.depth,
      checkList,
      ...(onProgress ? { onProgress } : {}),
    });
  } catch (err) {
    // The runner's RangeErrors are about names it does not know; the rest are not the user's.
    if (!(err instanceof RangeError)) throw err;
    const known = list.filter((d) => d.available).map((d) => d.name);
    return usage(`${err.message}; usable drivers here: ${known.join(', ')}, or one a --load module registers`);
  } finally {
    if (onProgress) io.stderr.write('\r\x1b[K');
  }
  try {
    if (args.junit !== undefined) io.writeFile(args.junit, formatJunit(report));
    if (typeof args.json === 'string') io.writeFile(args.json, formatJson(report));
  } catch (err) {
    io.stderr.write(`kcrypto conformance: ${(err as Error).message}\n`);
    return 2;
  }
  io.stdout(args.json === true ? formatJson(report) : formatTable(report));
  return report.totals.fail > 0 ? 1 : 0;
}
