// Known answers on every driver of each algorithm, through the conformance kit's `vectors`
// check at full depth (src/conformance/checks/vectors.ts), the code `kcrypto conformance`
// runs. Wycheproof: valid vectors must encrypt (or MAC) to the published bytes and decrypt
// back; tampered ones must be refused (KCryptoError EBADMSG for an AEAD, a non-matching tag
// for a MAC, a bad padding for CBC-PKCS5); vectors whose parameters the interface does not
// offer (a GCM IV that is not 96 bits, a CCM tag of 13 bytes, AES-192-XTS, …) must be refused
// as node:crypto refuses them (ERR_CRYPTO_INVALID_IV, _KEYLEN, _AUTH_TAG) and are counted as
// inexpressible, never silently skipped. Then the published known answers of the algorithm
// (FIPS 180-2, FIPS 197, FIPS 202, SP 800-38A, RFCs), the only vectors ECB, CTR and the hashes
// have. Each test prints how many vectors fell in each class.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { vectorsCheck } from '../../src/conformance/checks/vectors.js';
import { runCheck } from '../../src/conformance/runner.js';
import { SOFTWARE_TARGET } from '../../src/conformance/targets.js';
import { describeDrivers, driverCases } from '../support/drivers.js';
import { FAMILIES } from '../support/families.js';

for (const f of FAMILIES) {
  if (vectorsCheck.notApplicable(f, SOFTWARE_TARGET, 'full') !== undefined) continue;
  describeDrivers(f, await driverCases(f), (c, options) => {
    it('known answers (Wycheproof and published vectors)', options, async (t) => {
      const r = await runCheck(vectorsCheck, f, c, 'full');
      const counts = Object.entries(r.counts).map(([outcome, n]) => `${n} ${outcome}`);
      t.diagnostic(`${counts.join(', ')}${r.status === 'fail' ? `; ${r.reason ?? 'FAILED'}` : ''}`);
      assert.notEqual(
        r.status,
        'fail',
        `${f.kernelName} on ${c.label}: ${r.reason}\n${r.failures.map((x) => `${x.message}\n  ${JSON.stringify(x.reproducer)}`).join('\n')}`,
      );
    });
  });
}
