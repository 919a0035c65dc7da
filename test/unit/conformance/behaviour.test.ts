// The conformance kit's behaviour checks (parameters, concurrency, hash-copy, teardown): each
// passes on the drivers this machine has (software, and OpenSSL through the addon where it is
// built), and each fails on a driver built to get its subject wrong (misbehaving-driver.ts),
// with the failing case in bytes where it is one request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CheckResult, Target } from '../../../src/conformance/check.js';
import { concurrencyCheck } from '../../../src/conformance/checks/concurrency.js';
import { hashCopyCheck } from '../../../src/conformance/checks/hash-copy.js';
import { CHECKS } from '../../../src/conformance/checks/index.js';
import { parametersCheck } from '../../../src/conformance/checks/parameters.js';
import { teardownCheck } from '../../../src/conformance/checks/teardown.js';
import { family, FAMILIES } from '../../../src/conformance/families.js';
import { runCheck } from '../../../src/conformance/runner.js';
import { targetsOf } from '../../../src/conformance/targets.js';
import { misbehavingTarget } from '../../support/misbehaving-driver.js';

// A request the misbehaving drivers lose would otherwise be waited for 30 s.
process.env['KCRYPTO_CONFORMANCE_SETTLE_MS'] = '1000';

const BEHAVIOUR = [parametersCheck, concurrencyCheck, hashCopyCheck, teardownCheck];

/** The host's targets of a family: software, and openssl where the addon serves the family. */
async function hostTargets(kernelName: string): Promise<Target[]> {
  return (await targetsOf(family(kernelName))).filter((t) => t.label === 'software' || t.label === 'openssl');
}

function assertPass(r: CheckResult, where: string): void {
  assert.notEqual(r.status, 'fail', `${where}: ${r.reason ?? ''}\n${JSON.stringify(r.failures.slice(0, 3), null, 1)}`);
}

describe('behaviour checks on the host drivers', () => {
  it('are registered in the kit', () => {
    for (const c of BEHAVIOUR) assert.ok(CHECKS.includes(c), c.id);
  });

  for (const c of BEHAVIOUR) {
    it(`${c.id}: passes on software and openssl for every algorithm (quick)`, async () => {
      let passed = 0;
      for (const f of FAMILIES) {
        for (const t of await targetsOf(f)) {
          if (t.label !== 'software' && t.label !== 'openssl') continue;
          const r = await runCheck(c, f, t, 'quick');
          assertPass(r, `${c.id} on ${f.kernelName} / ${t.label}`);
          if (r.status === 'pass') {
            passed++;
            assert.ok(Object.keys(r.counts).length > 0, `${c.id} on ${f.kernelName} / ${t.label} counted nothing`);
          } else assert.ok(r.reason, 'n/a carries its reason');
        }
      }
      assert.ok(passed > 0);
    });
  }

  it('full depth passes on software for one algorithm of each kind', async () => {
    for (const name of ['xts(aes)', 'ccm(aes)', 'sha256', 'cmac(aes)'])
      for (const c of BEHAVIOUR)
        for (const t of await hostTargets(name))
          assertPass(await runCheck(c, family(name), t, 'full'), `${c.id} full on ${name} / ${t.label}`);
  });

  it('hash-copy is n/a, with the reason, for a cipher and on a BSD /dev/crypto driver', async () => {
    const cipher = await runCheck(
      hashCopyCheck,
      family('cbc(aes)'),
      { driver: 'software', label: 'software', kernel: false, required: false },
      'quick',
    );
    assert.equal(cipher.status, 'n/a');
    assert.match(cipher.reason!, /not a hash/);
    const bsd: Target = { driver: 'devcrypto:freebsd:x', label: 'devcrypto:freebsd:x', kernel: true, required: false };
    const na = await runCheck(hashCopyCheck, family('sha256'), bsd, 'quick');
    assert.equal(na.status, 'n/a');
    assert.match(na.reason!, /whole messages only/);
  });
});

describe('behaviour checks on misbehaving drivers', () => {
  it('parameters fails on a driver that accepts forged tags, with the tampered input as hex', async () => {
    const r = await runCheck(parametersCheck, family('gcm(aes)'), misbehavingTarget('forges-tags'), 'quick');
    assert.equal(r.status, 'fail');
    const f = r.failures.find((x) => x.message.includes('tampered tag'));
    assert.ok(f, JSON.stringify(r.failures));
    assert.match(f.message, /expected a KCryptoError EBADMSG/);
    assert.equal(f.reproducer?.operation, 'decrypt');
    assert.match(f.reproducer.key ?? '', /^[0-9a-f]{32}$/);
    assert.ok(f.reproducer.tag && f.reproducer.iv && f.reproducer.data);
    assert.ok(r.counts['refused as documented']! > 0, 'the misuse cases still pass');
  });

  it('concurrency fails on a driver that forges tags (the tampered decryptions succeed)', async () => {
    const r = await runCheck(concurrencyCheck, family('ccm(aes)'), misbehavingTarget('forges-tags'), 'quick');
    assert.equal(r.status, 'fail');
    assert.ok(
      r.failures.every((x) => x.reproducer?.operation === 'decrypt' && x.reproducer.tag),
      JSON.stringify(r.failures[0]),
    );
  });

  it('concurrency fails on a driver that loses a request under load, and does not hang', async () => {
    const t0 = performance.now();
    const r = await runCheck(concurrencyCheck, family('cbc(aes)'), misbehavingTarget('loses-requests'), 'quick');
    assert.equal(r.status, 'fail');
    assert.ok(
      r.failures.some((x) => x.message.includes('not settled after 1000 ms') && x.reproducer?.key),
      JSON.stringify(r.failures),
    );
    assert.ok(r.counts['exact']! >= 16, 'the requests it served are exact');
    assert.ok(performance.now() - t0 < 20_000);
  });

  it('teardown fails on a driver whose close() never finishes, and does not hang', async () => {
    const r = await runCheck(teardownCheck, family('sha256'), misbehavingTarget('hangs-on-close'), 'quick');
    assert.equal(r.status, 'fail');
    assert.ok(
      r.failures.some((x) => x.message.includes('close() with 16 requests in flight: not settled')),
      JSON.stringify(r.failures),
    );
    assert.ok(r.counts['completed before close']! > 0, 'the requests themselves completed');
  });

  it('hash-copy fails on a driver whose copy() starts afresh, with the message as hex', async () => {
    const r = await runCheck(hashCopyCheck, family('hmac(sha256)'), misbehavingTarget('copies-nothing'), 'quick');
    assert.equal(r.status, 'fail');
    const f = r.failures.find((x) => x.message.includes('the copy:'));
    assert.ok(f, JSON.stringify(r.failures));
    assert.equal(f.reproducer?.operation, 'copy');
    assert.ok(f.reproducer.key && f.reproducer.expected && f.reproducer.got && f.reproducer.expected !== f.reproducer.got);
  });

  it("parameters checks maxRequestBytes and a driver's own alignment where a session states them", async () => {
    const honest = await runCheck(parametersCheck, family('xts(aes)'), misbehavingTarget('honest-limits'), 'quick');
    assertPass(honest, 'parameters, xts, honest-limits');
    assert.equal(honest.counts['oversize: E2BIG past maxRequestBytes'], 1);
    assert.equal(honest.counts['EINVAL for a length the driver cannot take'], 1);
    const r = await runCheck(parametersCheck, family('sha256'), misbehavingTarget('overstates-limit'), 'quick');
    assert.equal(r.status, 'fail');
    assert.ok(
      r.failures.some((x) => x.message.includes('over maxRequestBytes')),
      JSON.stringify(r.failures),
    );
  });

  it('each misbehaving driver passes the checks its fault is not about', async () => {
    assertPass(
      await runCheck(parametersCheck, family('cbc(aes)'), misbehavingTarget('forges-tags'), 'quick'),
      'parameters, cbc, forges-tags',
    );
    assertPass(await runCheck(hashCopyCheck, family('sha256'), misbehavingTarget('loses-requests'), 'quick'), 'hash-copy, loses-requests');
    assertPass(
      await runCheck(concurrencyCheck, family('sha256'), misbehavingTarget('copies-nothing'), 'quick'),
      'concurrency, copies-nothing',
    );
  });
});
