/**
 * The kcrypto command line.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { benchCommand } from './bench-command.js';
import { driversCommand } from './drivers-command.js';
import { labCommand } from './lab-command.js';
import { selftestCommand } from './selftest-command.js';

const USAGE = `usage: kcrypto <command> [options]

commands:
  drivers [--all] [--json]   the crypto drivers this host offers, and why others are unusable
  selftest [--driver NAME]   known-answer tests on every usable driver (or one)
  bench [--svg F] [--json]   every usable driver against node:crypto and C on this machine,
                             in MB/s by request size (kcrypto bench --help)
  lab [options] -- CMD...    run CMD in a QEMU guest with a real kernel and virtio-crypto cards
                             (kcrypto lab --help for options)
`;

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'drivers':
      return driversCommand(rest);
    case 'selftest':
      return selftestCommand(rest);
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

// Also runnable directly (`node dist/esm/src/cli/main.js …`), as the bin shim does.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
