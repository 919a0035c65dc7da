/** The benchmark run elsewhere: under the CUSE /dev/crypto fixture here, or in the kernel lab. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { Options } from './args.js';
import { errorText, log, packageRoot } from './common.js';
import { buildBaseline } from './measure.js';
import { writeReport } from './publish.js';

/** This script with the arguments for the run itself, under the fixture wrapper when asked for. */
export function runCommand(o: Options): string[] {
  const command = [process.execPath, fileURLToPath(new URL('./run.js', import.meta.url)), ...o.forward];
  if (!o.devcryptoFixture) return command;
  const wrapper = fileURLToPath(new URL('../test/support/with-devcrypto-fixture.js', import.meta.url));
  return [process.execPath, wrapper, o.devcryptoFixture, '--', ...command];
}

/** Builds the CUSE fixture here, where it takes seconds rather than the guest's minutes. */
export async function prebuildFixture(): Promise<void> {
  try {
    const { buildFixture } = await import('../test/support/devcrypto-fixture.js');
    await buildFixture();
  } catch (err) {
    log(`the /dev/crypto fixture could not be built here (${errorText(err)}); the run will try`);
  }
}

/** The report the run printed, into the lab section of the --out file (see publish.ts). */
export function writeOut(o: Options, chunks: Buffer[]): void {
  if (o.out) writeReport(Buffer.concat(chunks).toString('utf8'), o.out, log, 'lab');
}

/** Runs the benchmark in a child process under the CUSE fixture wrapper, here. */
export async function fixtureMode(o: Options): Promise<number> {
  await prebuildFixture();
  const [cmd, ...args] = runCommand(o) as [string, ...string[]];
  const chunks: Buffer[] = [];
  const code = await new Promise<number>((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      process.stdout.write(chunk);
    });
    child.on('error', (err) => {
      log(`${cmd}: ${err.message}`);
      done(127);
    });
    child.on('close', (c, signal) => done(c ?? (signal ? 128 : 1)));
  });
  if (code === 0) writeOut(o, chunks);
  return code;
}

export async function labMode(o: Options): Promise<number> {
  const root = packageRoot();
  for (const name of ['afalg-baseline', 'devcrypto-baseline'] as const) {
    const built = buildBaseline(root, name, log);
    if ('reason' in built) log(`${name} unavailable on the host (${built.reason}); the guest will try to build it`);
  }
  if (o.devcryptoFixture) await prebuildFixture();
  const { runInLab } = await import('../src/lab/lab.js');
  const chunks: Buffer[] = [];
  log(
    `running in the lab${o.kernel ? ` (kernel ${o.kernel})` : ''}${o.devcryptoFixture ? `, /dev/crypto from the CUSE fixture (${o.devcryptoFixture} ABI)` : ''}`,
  );
  const result = await runInLab({
    command: runCommand(o),
    ...(o.kernel ? { kernel: o.kernel } : {}),
    onOutput: (stream, chunk) => {
      if (stream === 'stdout') {
        chunks.push(chunk);
        process.stdout.write(chunk);
      } else process.stderr.write(chunk);
    },
  });
  if (result.error) log(`lab: ${result.error}`);
  if (result.exitCode === 0) writeOut(o, chunks);
  return result.exitCode;
}
