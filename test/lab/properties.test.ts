// The property tests of the sessions (test/support/properties.ts) on the lab's drivers: the
// CPU's AES-CBC driver and the virtio-crypto card through AF_ALG, the software driver, and
// /dev/crypto (the CUSE fixture, per ABI, in the fixture passes). Few, short sequences: the lab
// is emulated; KCRYPTO_PROPERTY_RUNS raises them.
import { describe, it } from 'node:test';

import { checkSequences, kindsOn } from '../support/properties.js';
import { labTargets } from '../support/lab-targets.js';

/** A 'big' request is 1 MiB here; sequences of up to 10 calls. */
const SCALE = { big: 1024 * 1024 + 16, maxOps: 10 };
const RUNS = 40;

describe('property: random sequences of session calls agree with node:crypto (lab drivers)', async () => {
  for (const target of await labTargets(true)) {
    it(`on ${target.driver}`, target.skip === undefined ? {} : { skip: target.skip }, async (t) => {
      const kinds = await kindsOn(target.driver);
      if (kinds.length === 0) throw new Error(`${target.driver} opens none of the property kinds`);
      const started = Date.now();
      const n = await checkSequences({ driver: target.driver, kinds, scale: SCALE }, RUNS);
      t.diagnostic(
        `property sequences: ${target.driver}: ${n} (kinds ${kinds.join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    });
  }
});
