// The known-answer check on the drivers a host without AF_ALG has: it passes on software and
// OpenSSL for every algorithm, reports the vectors the interface cannot express as such, and
// fails, with a reproducer, on a TypeScript driver that gets answers wrong or accepts forgeries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CheckResult, Target } from '../../../src/conformance/check.js';
import { vectorsCheck, WYCHEPROOF_FILES } from '../../../src/conformance/checks/vectors.js';
import { FAMILIES, family } from '../../../src/conformance/families.js';
import { knownAnswersOf } from '../../../src/conformance/known-answers.js';
import { runCheck } from '../../../src/conformance/runner.js';
import { SOFTWARE_TARGET, targetsOf } from '../../../src/conformance/targets.js';
import { loadWycheproof } from '../../../src/conformance/vectors.js';
import { registerVectorBreaker, type Breakage } from '../../support/vector-breaker.js';

const SCHEMAS = { aead: 'aead_test_schema_v1.json', mac: 'mac_test_schema_v1.json', cipher: 'ind_cpa_test_schema_v1.json' } as const;

/** How many vectors the check has for a family: its Wycheproof file and its published answers. */
function vectorCount(name: string): number {
  const f = family(name);
  const file = WYCHEPROOF_FILES[name];
  const wycheproof = file === undefined || f.kind === 'hash' ? 0 : loadWycheproof(file, SCHEMAS[f.kind]).numberOfTests;
  return wycheproof + knownAnswersOf(name).length;
}

const total = (r: CheckResult): number => Object.values(r.counts).reduce((a, b) => a + b, 0);

function broken(how: Breakage): Target {
  const name = registerVectorBreaker(how);
  return { driver: name, label: name, kernel: false, required: false };
}

describe('vectors check', () => {
  for (const f of FAMILIES) {
    it(`${f.kernelName}: passes on software and OpenSSL, every vector counted`, async () => {
      const targets = (await targetsOf(f)).filter((t) => t.label === 'software' || t.label === 'openssl');
      assert.ok(targets.some((t) => t.label === 'software'));
      for (const t of targets) {
        const r = await runCheck(vectorsCheck, f, t, 'quick');
        if (f.kind === 'aead' && f.mode === 'authenc') {
          assert.equal(r.status, 'n/a');
          assert.match(r.reason ?? '', /no published known answer/);
          continue;
        }
        assert.equal(r.status, 'pass', `${t.label}: ${r.reason}`);
        assert.equal(total(r), vectorCount(f.kernelName), `${t.label}: ${JSON.stringify(r.counts)}`);
        assert.equal(r.counts['known answer'] ?? 0, knownAnswersOf(f.kernelName).length);
      }
    });
  }

  it('counts the vectors the interface cannot express as inexpressible, not as passes', async () => {
    const gcm = await runCheck(vectorsCheck, family('gcm(aes)'), SOFTWARE_TARGET, 'full');
    // Wycheproof's GCM IVs of other than 96 bits: the kernel's gcm(aes) takes 96 only.
    assert.ok((gcm.counts['inexpressible (ERR_CRYPTO_INVALID_IV per request)'] ?? 0) > 0, JSON.stringify(gcm.counts));
    const xts = await runCheck(vectorsCheck, family('xts(aes)'), SOFTWARE_TARGET, 'full');
    // AES-192-XTS (48-byte keys) is not offered.
    assert.ok((xts.counts['inexpressible (ERR_CRYPTO_INVALID_KEYLEN at open)'] ?? 0) > 0, JSON.stringify(xts.counts));
    for (const r of [gcm, xts]) assert.equal(r.status, 'pass');
  });

  it('fails with a reproducer on a driver whose answers are wrong', async () => {
    const target = broken('corrupt');
    for (const name of ['cbc(aes)', 'gcm(aes)', 'hmac(sha256)', 'sha256', 'ecb(aes)']) {
      const r = await runCheck(vectorsCheck, family(name), target, 'quick');
      assert.equal(r.status, 'fail', `${name}: ${JSON.stringify(r.counts)}`);
      assert.ok(r.failures.length > 0);
      for (const x of r.failures) {
        const rep = x.reproducer;
        assert.ok(rep, x.message);
        assert.equal(rep.algorithm, name);
        assert.equal(typeof rep.data, 'string');
        assert.ok(rep.expected !== undefined && rep.got !== undefined, JSON.stringify(rep));
        assert.notEqual(rep.got, rep.expected, JSON.stringify(rep));
        assert.match(x.message, /tcId \d+ \[[^\]]*\]|known answer \(/);
      }
      // A Wycheproof failure names the vector; a hash has published answers only.
      if (name !== 'sha256' && name !== 'ecb(aes)') assert.match(r.failures[0]!.message, /_test\.json tcId \d+/);
    }
  });

  it('fails on a driver that accepts a forged tag, saying which vector and how it was tampered with', async () => {
    const r = await runCheck(vectorsCheck, family('gcm(aes)'), broken('forge'), 'quick');
    assert.equal(r.status, 'fail');
    const forged = r.failures.find((x) => x.reproducer?.expected === 'KCryptoError EBADMSG');
    assert.ok(forged, r.failures.map((x) => x.message).join('\n'));
    const rep = forged.reproducer!;
    assert.equal(rep.operation, 'decrypt');
    assert.ok(rep.tag !== undefined && rep.key !== undefined && rep.iv !== undefined && rep.aad !== undefined);
    assert.match(forged.message, /aes_gcm_test\.json tcId \d+ \[[^\]]+\]/);
    // The valid vectors still pass on it: only the refusals failed.
    assert.ok((r.counts['valid'] ?? 0) > 0);
  });
});
