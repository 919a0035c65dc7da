// Random differential tests: every driver of every algorithm against node:crypto, through the
// conformance kit's `differential` check (src/conformance/checks/differential.ts): random keys,
// IVs, AAD and tag lengths; whole requests, the data split through the node:crypto drop-in,
// digests in pieces and through update()/final(), cipher requests in place; kernel and engine
// drivers under each execution policy (auto, inline, threads). A mismatch is reported with a
// reproducer shrunk to the smallest input that still fails.
//
// Depth `quick`: the block edges of 0 to 3 blocks, one page ± 1, 64 KiB + 16 and 1 MiB (the
// forced policies fewer), about what this file ran before it used the kit. `full` (every block
// boundary ± 1 up to 1 MiB) would multiply the emulated guest's time many times over; it is
// `kcrypto conformance --depth full`'s to run.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { differentialCheck } from '../../src/conformance/checks/differential.js';
import { FAMILIES } from '../../src/conformance/families.js';
import { runCheck } from '../../src/conformance/runner.js';
import { describeDrivers, driverCases } from '../support/drivers.js';

for (const f of FAMILIES) {
  describeDrivers(f, await driverCases(f), (c, options) => {
    const policies = c.kernel ? 'under each execution policy' : 'node:crypto has no execution policy';
    it(`matches node:crypto on random inputs, whole, split and in place (quick, ${policies})`, options, async (t) => {
      const r = await runCheck(differentialCheck, f, c, 'quick');
      if (r.status === 'n/a') return t.skip(r.reason);
      const listing = r.failures
        .map((x) => `${x.message}${x.reproducer ? `\n  reproducer: ${JSON.stringify(x.reproducer)}` : ''}`)
        .join('\n');
      assert.equal(r.status, 'pass', `${r.reason ?? ''}\n${listing}`);
    });
  });
}
