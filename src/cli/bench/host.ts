/**
 * `kcrypto bench --host`: the repository's host benchmark (bench/host.ts, compiled to
 * dist/esm/bench/host.js), run in a child process with the arguments given. src/ does not import bench/, and the
 * published package leaves bench/ out (package.json `files`): the command works in a checkout
 * of the repository once `npm run build:ts` has compiled it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { findPackageRoot } from '../../package-root.js';

/** Usage text of `kcrypto bench --host`. */
export const HOST_BENCH_USAGE = `usage: kcrypto bench --host [--quick] [--rounds N] [--round-ms MS] [--out FILE]

Measures kcrypto on this machine's CPU against node:crypto: the default session serially and
with 1, 8 and 64 requests in flight, each layer of a request against libuv's thread pool,
8 × 1 MiB in flight, and the event loop with 1000 requests in flight; prints a markdown
report with the goals met and not met (about 4 minutes; --quick: a few seconds).

It runs dist/esm/bench/host.js of a kcrypto checkout (npm run build:ts compiles it); the
published package does not ship bench/. \`kcrypto bench\` without --host measures an
installed package.
`;

/** The compiled host benchmark under package root `root`, or why it cannot run. */
export function benchScript(root: string | null): { script: string } | { reason: string } {
  if (root === null) return { reason: 'kcrypto bench: cannot find the kcrypto package directory' };
  const script = join(root, 'dist', 'esm', 'bench', 'host.js');
  if (existsSync(script)) return { script };
  return {
    reason:
      `kcrypto bench: ${script} is missing. The benchmark lives in bench/, which the published ` +
      'package does not ship (package.json "files"): run it from a checkout of the kcrypto repository ' +
      'after `npm run build:ts`.',
  };
}

/** Runs the host benchmark with the arguments after `--host`; resolves with its exit code. */
export async function hostBenchCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HOST_BENCH_USAGE);
    return 0;
  }
  const found = benchScript(findPackageRoot(dirname(fileURLToPath(import.meta.url))));
  if ('reason' in found) {
    process.stderr.write(`${found.reason}\n`);
    return 1;
  }
  const child = spawn(process.execPath, [found.script, ...argv], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`kcrypto bench: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
