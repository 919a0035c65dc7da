// The differential check on the drivers the host has: node:crypto itself (software) and
// OpenSSL through the addon (an engine driver: every execution policy) must pass at `quick`;
// a driver that flips one byte of every request of 1 KiB or more must fail, with a reproducer
// shrunk to exactly 1024 bytes whose expected and actual outputs differ in one byte.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CheckResult, Target } from '../../../src/conformance/check.js';
import { differentialCheck, differentialSizes } from '../../../src/conformance/checks/differential.js';
import { FAMILIES, family } from '../../../src/conformance/families.js';
import { runCheck } from '../../../src/conformance/runner.js';
import { unhex } from '../../../src/conformance/bytes.js';
import { targetsOf } from '../../../src/conformance/targets.js';
import { BROKEN_DRIVER, BROKEN_FROM, registerBrokenDriver } from '../../support/broken-driver.js';

function failures(r: CheckResult): string {
  return r.failures.map((f) => `${f.message}\n  ${JSON.stringify(f.reproducer ?? {})}`).join('\n');
}

describe('differential sizes', () => {
  it('full covers every block edge, the page multiples ± 1 and 1 MiB; quick is a sample of it', () => {
    const full = new Set(differentialSizes('full'));
    for (let n = 0; n <= 65; n++) assert.ok(full.has(n), `${n}`);
    for (let k = 1; k <= 64; k++) for (const d of [-1, 0, 1]) assert.ok(full.has(k * 16 + d), `${k}·16${d}`);
    for (const m of [1, 2, 4, 8, 16]) for (const d of [-1, 0, 1]) assert.ok(full.has(m * 4096 + d), `${m}·4096${d}`);
    for (const n of [65535, 65537, 262143, 262145, (1 << 20) - 1, 1 << 20]) assert.ok(full.has(n), `${n}`);
    assert.equal(Math.max(...full), 1 << 20);
    for (const n of differentialSizes('quick')) assert.ok(full.has(n) || n === 65536 + 16, `${n} in full`);
  });
});

for (const label of ['software', 'openssl']) {
  describe(`differential on ${label}`, () => {
    for (const f of FAMILIES) {
      it(`${f.kernelName} passes (quick)`, async (t) => {
        const target = (await targetsOf(f)).find((x: Target) => x.label === label);
        if (target === undefined) return t.skip(`${label} does not serve ${f.kernelName} here`);
        const r = await runCheck(differentialCheck, f, target, 'quick');
        assert.equal(r.status, 'pass', failures(r));
        assert.ok(Object.keys(r.counts).length > 0, 'cases were counted');
      });
    }
  });
}

describe('differential on a broken driver', () => {
  it('fails with a minimal reproducer: 1024 bytes, expected and got one byte apart', async () => {
    registerBrokenDriver();
    const target: Target = { driver: BROKEN_DRIVER, label: BROKEN_DRIVER, kernel: false, required: false };
    const r = await runCheck(differentialCheck, family('cbc(aes)'), target, 'quick');
    assert.equal(r.status, 'fail');
    const first = r.failures[0]!;
    const rep = first.reproducer;
    assert.ok(rep, `a reproducer: ${first.message}`);
    assert.equal(rep.algorithm, 'cbc(aes)');
    assert.equal(rep.operation, 'encrypt');
    assert.equal(unhex(rep.data).length, BROKEN_FROM, first.message);
    const expected = unhex(rep.expected!);
    const got = unhex(rep.got!);
    assert.equal(got.length, expected.length);
    assert.equal(expected.filter((b, i) => b !== got[i]).length, 1, 'one byte differs');
    assert.ok(
      unhex(rep.data).every((b) => b === 0),
      'data simplified to zeros',
    );
    assert.ok([16, 24, 32].includes(unhex(rep.key!).length));
    assert.equal(unhex(rep.iv!).length, 16);
    // Every failure is of a request at or past the broken length: nothing below it is reported.
    for (const f of r.failures) if (f.reproducer) assert.ok(unhex(f.reproducer.data).length >= BROKEN_FROM, f.message);
  });
});
