/**
 * The kcrypto command line.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { configureAs } from '../api/configure.js';
import type { KernelInterface } from '../kernel/bridge/forbid.js';
import { benchCommand } from './bench-command.js';
import { conformanceCommand } from './conformance-command.js';
import { driversCommand } from './drivers-command.js';
import { labCommand } from './lab-command.js';
import { selftestCommand } from './selftest-command.js';

const USAGE = `usage: kcrypto <command> [options]

  --forbid afalg,devcrypto   (drivers, selftest, bench, conformance) never reach these kernel
                             interfaces: no AF_ALG socket, no /dev/crypto open (as
                             KCRYPTO_FORBID does)

commands:
  drivers [--all] [--json]   the crypto drivers this host offers, and why others are unusable
  selftest [--driver NAME]   known-answer tests on every usable driver (or one)
  conformance [options]      the conformance kit on the kernel's drivers (or those named), as a
                             table, JSON or JUnit XML (kcrypto conformance --help)
  bench [--svg F] [--json]   every usable driver against node:crypto and C on this machine,
                             in MB/s by request size (kcrypto bench --help)
  lab [options] -- CMD...    run CMD in a QEMU guest with a real kernel and virtio-crypto cards
                             (kcrypto lab --help for options)
`;

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  let rest = args;
  if (command === 'drivers' || command === 'selftest' || command === 'bench' || command === 'conformance') {
    const forbid = takeForbid(args);
    if ('error' in forbid) {
      process.stderr.write(`kcrypto ${command}: ${forbid.error}\n`);
      return 2;
    }
    rest = forbid.rest;
  }
  switch (command) {
    case 'drivers':
      return driversCommand(rest);
    case 'selftest':
      return selftestCommand(rest);
    case 'conformance':
      return conformanceCommand(rest);
    case 'lab':
      return labCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`kcrypto: unknown command ${command}\n${USAGE}`);
      return 2;
  }
}

/**
 * Takes `--forbid LIST` / `--forbid=LIST` out of the arguments and applies it before the
 * command runs; child processes (bench's) inherit it through KCRYPTO_FORBID.
 */
function takeForbid(argv: string[]): { rest: string[] } | { error: string } {
  const rest: string[] = [];
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--forbid' || a.startsWith('--forbid=')) {
      const value = a === '--forbid' ? argv[++i] : a.slice('--forbid='.length);
      if (value === undefined || value === '') return { error: '--forbid needs a value: afalg, devcrypto or both (afalg,devcrypto)' };
      words.push(
        ...value
          .split(',')
          .map((w) => w.trim())
          .filter((w) => w !== ''),
      );
    } else {
      rest.push(a);
    }
  }
  if (words.length === 0) return { rest };
  const bad = words.filter((w) => w !== 'afalg' && w !== 'devcrypto');
  if (bad.length > 0) return { error: `--forbid: unknown interface ${bad.join(', ')} (afalg, devcrypto)` };
  try {
    const { forbid } = configureAs({ forbid: words as KernelInterface[] }, '--forbid');
    process.env['KCRYPTO_FORBID'] = forbid.join(',');
  } catch (err) {
    return { error: (err as Error).message };
  }
  return { rest };
}

// Also runnable directly (`node dist/esm/src/cli/main.js …`), as the bin shim does.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
