/**
 * `kcrypto bench`: throughput of every usable driver (and `fastest`) against node:crypto and a
 * C baseline compiled on the spot, on the user's own machine, from the installed package.
 * `kcrypto bench --host …` runs the repository's host benchmark instead (a checkout only).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { findPackageRoot } from '../package-root.js';
import { hostBenchCommand } from './bench/host.js';
import { compileBaseline } from './bench/native-baseline.js';
import {
  BenchUsageError,
  DEFAULT_DEPTHS,
  DEFAULT_SIZES,
  DEFAULT_TIME_MS,
  parseBenchArgs,
  sizeArgument,
  type BenchOptions,
} from './bench/options.js';
import { createProgress, type ProgressStream } from './bench/progress.js';
import { runBench, type BaselineSource } from './bench/run.js';
import { renderSvg } from './bench/svg.js';
import { formatTable } from './bench/table.js';

/** Usage text of `kcrypto bench`. */
export const BENCH_USAGE = `usage: kcrypto bench [--algorithm NAME,…] [--sizes LIST] [--depth LIST] [--driver NAME]…
                     [--time MS] [--json] [--svg FILE] [--no-native]
       kcrypto bench --host [options]   (the repository's host benchmark; --host --help)

Measures encryption or hashing throughput on this machine: every usable kcrypto driver and
'fastest' (openSession({ driver })), node:crypto, and a C baseline that cc compiles from the
package's native/bench/ source (AF_ALG, and OpenSSL's libcrypto where its headers are installed).

  --algorithm NAME,…  plain ciphers and hashes by node:crypto name (default: aes-256-cbc,sha256)
  --sizes LIST        request sizes, k and m are KiB and MiB (default: ${DEFAULT_SIZES.map(sizeArgument).join(',')})
  --depth LIST        requests in flight (default: ${DEFAULT_DEPTHS.join(',')})
  --driver NAME       a kcrypto driver or policy to measure, repeatable (default: every usable
                      driver serving the algorithm, and fastest)
  --time MS           measuring time of each point: three rounds, the median counts, each
                      after a tenth more of warm-up (default: ${DEFAULT_TIME_MS})
  --json              the results as JSON on stdout (and nothing else there)
  --svg FILE          also write a chart of MB/s against request size, a line per driver
  --no-native         leave out the C baseline

Prints a table of MB/s with the ratio to node:crypto at each size. A progress bar is drawn on
stderr when it is a terminal. Exits 1 when a point failed (the table says which and why).
`;

/** Options of the checkout's host benchmark, which `kcrypto bench` once ran without --host. */
const HOST_OPTIONS = new Set(['--quick', '--rounds', '--round-ms', '--out']);

/** Where the command writes: the process's streams, or stand-ins in tests. */
export interface BenchIo {
  stdout: (text: string) => void;
  stderr: ProgressStream;
}

const processIo: BenchIo = { stdout: (t) => process.stdout.write(t), stderr: process.stderr };

async function baselineFor(options: BenchOptions): Promise<BaselineSource> {
  if (options.noNative) return { reason: 'left out (--no-native)' };
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (root === null) return { reason: 'cannot find the kcrypto package directory' };
  return compileBaseline(root);
}

/** Runs `kcrypto bench` with the arguments after `bench`; resolves with the exit code. */
export async function benchCommand(argv: string[], io: BenchIo = processIo): Promise<number> {
  if (argv[0] === '--host') return hostBenchCommand(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(BENCH_USAGE);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    const host = argv.find((a) => HOST_OPTIONS.has(a.split('=')[0]!));
    const hint = host ? ` (${host} belongs to the host benchmark: kcrypto bench --host ${host})` : '';
    io.stderr.write(`kcrypto bench: ${err.message}${hint}\n\n${BENCH_USAGE}`);
    return 2;
  }
  // Before a minute of measuring, not after it.
  if (options.svg !== null && !existsSync(dirname(resolve(options.svg)))) {
    io.stderr.write(`kcrypto bench: --svg ${options.svg}: no directory ${dirname(resolve(options.svg))}\n`);
    return 2;
  }
  const baseline = await baselineFor(options);
  if ('reason' in baseline) io.stderr.write(`kcrypto bench: C baseline skipped: ${baseline.reason}\n`);
  try {
    const report = await runBench(options, baseline, createProgress(io.stderr));
    if (options.svg !== null) {
      try {
        writeFileSync(options.svg, renderSvg(report));
        io.stderr.write(`kcrypto bench: chart written to ${options.svg}\n`);
      } catch (err) {
        io.stderr.write(`kcrypto bench: cannot write ${options.svg}: ${(err as Error).message}\n`);
        return 1;
      }
    }
    io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report));
    return report.points.some((p) => p.error !== undefined) ? 1 : 0;
  } finally {
    if ('dispose' in baseline) baseline.dispose();
  }
}
