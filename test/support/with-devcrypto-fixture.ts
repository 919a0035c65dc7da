/**
 * Runs a command with the CUSE /dev/crypto fixture serving one ABI, in the lab guest:
 *
 *     node with-devcrypto-fixture.js <linux|freebsd|netbsd> -- COMMAND…
 *
 * The command sees KCRYPTO_DEVCRYPTO / KCRYPTO_DEVCRYPTO_ABI pointing at the fixture and
 * KCRYPTO_TEST_DRIVERS=devcrypto:, so the conformance suite runs against the fixture's drivers
 * only. Exits with the command's status, or 1 if the fixture did not survive it.
 */
import { spawn } from 'node:child_process';

import { buildFixture, FIXTURE_ABIS, fixtureUnavailable, startFixture, type FixtureAbi } from './devcrypto-fixture.js';

const KCRYPTO_ABI: Readonly<Record<FixtureAbi, string>> = { linux: 'cryptodev-linux', freebsd: 'freebsd', netbsd: 'netbsd' };

async function main(argv: string[]): Promise<number> {
  const abi = argv[0] as FixtureAbi;
  const sep = argv.indexOf('--');
  if (!FIXTURE_ABIS.includes(abi) || sep < 0 || sep === argv.length - 1) {
    process.stderr.write('usage: with-devcrypto-fixture.js <linux|freebsd|netbsd> -- COMMAND…\n');
    return 2;
  }
  const why = fixtureUnavailable();
  if (why) {
    process.stderr.write(`with-devcrypto-fixture: cannot run the fixture here: ${why}\n`);
    return 1;
  }
  const fixture = await startFixture(await buildFixture(), { abi });
  const [cmd, ...args] = argv.slice(sep + 1) as [string, ...string[]];
  const env = {
    ...process.env,
    KCRYPTO_DEVCRYPTO: fixture.path,
    KCRYPTO_DEVCRYPTO_ABI: KCRYPTO_ABI[abi],
    KCRYPTO_TEST_DRIVERS: 'devcrypto:',
  };
  const code = await new Promise<number>((resolve) => {
    const child = spawn(cmd, args, { env, stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`with-devcrypto-fixture: ${cmd}: ${err.message}\n`);
      resolve(127);
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  const survived = fixture.alive();
  const exit = await fixture.stop();
  if (!survived || exit !== 0) {
    process.stderr.write(
      `with-devcrypto-fixture: the ${abi} fixture ${survived ? `exited with ${exit}` : 'died during the run'}:\n${fixture.stderr().slice(-4000)}\n`,
    );
    return code === 0 ? 1 : code;
  }
  return code;
}

process.exitCode = await main(process.argv.slice(2));
