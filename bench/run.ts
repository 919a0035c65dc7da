/**
 * kcrypto's benchmark: kcrypto against a plain C AF_ALG loop over the same kernel driver and
 * against node:crypto, all in one run so that the figures are comparable.
 *
 *     node dist/esm/bench/run.js [--quick | --seconds S] [--out FILE]
 *         runs here (in the lab guest, where AF_ALG exists); prints the markdown report on
 *         stdout, progress on stderr, and writes FILE too when given.
 *     node dist/esm/bench/run.js --lab [--kernel V] [--quick | --seconds S] [--out FILE]
 *         from the host: builds the C baseline, runs the above in the kernel lab, and writes
 *         FILE on the host (a file written in the guest stays in its memory overlay).
 *     --harness-test: kernel rows on the software driver, to test the harness where there is
 *         no AF_ALG (the report says so).
 *     --devcrypto-fixture ABI: runs the above (here or, with --lab, in the guest) under
 *         test/support/with-devcrypto-fixture.js, so that the /dev/crypto rows measure the
 *         project's CUSE fixture speaking ABI (linux, freebsd, netbsd); the rows are marked so.
 *
 * The /dev/crypto rows use the device kcrypto uses: KCRYPTO_DEVCRYPTO and KCRYPTO_DEVCRYPTO_ABI,
 * /dev/crypto with the system's ABI by default. KCRYPTO_TEST_DRIVERS (set by the fixture
 * wrapper for the test suites) does not restrict the benchmark; a device served by CUSE (the
 * project's test fixture) has its rows marked.
 */

import { parseArgs } from './args.js';
import { bench } from './bench.js';
import { log } from './common.js';
import { fixtureMode, labMode } from './modes.js';
import { publishReport } from './publish.js';
import { renderReport } from './report.js';

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.lab) return labMode(o);
  if (o.devcryptoFixture) return fixtureMode(o);
  const results = await bench(o);
  publishReport(renderReport(results), o.out, log, 'lab');
  return 0;
}

process.exitCode = await main();
