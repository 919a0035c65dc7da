// The property tests of the sessions (test/support/properties.ts) on the lab's drivers: the
// CPU's AES-CBC driver and the virtio-crypto card through AF_ALG, the software driver, and
// /dev/crypto (the CUSE fixture, per ABI, in the fixture passes). Few, short sequences: the lab
// is emulated; KCRYPTO_PROPERTY_RUNS raises them.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { KCryptoError, openSession } from '../../src/index.js';
import { describeError } from '../support/errors.js';
import { checkSequences, kindsOn } from '../support/properties.js';
import { labTargets } from '../support/lab-targets.js';

/** A 'big' request is 1 MiB here; sequences of up to 10 calls. */
const SCALE = { big: 1024 * 1024 + 16, maxOps: 10 };
const RUNS = 40;

const targets = await labTargets(true);

describe('property: random sequences of session calls agree with node:crypto (lab drivers)', () => {
  for (const target of targets) {
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

// Found by the sequences through the FreeBSD ABI: the fixture's AF_ALG call read nothing back,
// so the kernel never ran the decryption and a forged tag passed.
describe('GCM: an empty ciphertext with a forged tag is refused (EBADMSG) on every driver', () => {
  for (const target of targets) {
    it(`on ${target.driver}`, target.skip === undefined ? {} : { skip: target.skip }, async (t) => {
      const key = randomBytes(16);
      let s;
      try {
        s = await openSession({ cipher: 'aes-128-gcm', key }, { driver: target.driver });
      } catch (err) {
        t.diagnostic(`${target.driver} does not serve aes-128-gcm: ${describeError(err)}`);
        return;
      }
      const iv = randomBytes(12);
      const e = createCipheriv('aes-128-gcm', key, iv);
      e.update(randomBytes(64));
      e.final();
      const forged = e.getAuthTag();
      await assert.rejects(s.decrypt(Buffer.alloc(0), { iv, tag: forged }), (err) => {
        assert.ok(err instanceof KCryptoError && err.code === 'EBADMSG', describeError(err));
        return true;
      });
      await s.close();
    });
  }
});
