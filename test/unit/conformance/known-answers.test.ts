// The published known answers against node:crypto, so that a value mistyped into the table
// fails here rather than as a driver's fault.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, type CipherGCM } from 'node:crypto';
import { describe, it } from 'node:test';

import { aesCmac, FAMILIES } from '../../../src/conformance/families.js';
import { KNOWN_ANSWERS, knownAnswersOf, type KnownAnswer } from '../../../src/conformance/known-answers.js';

/** node:crypto's output for the vector: digest, MAC, ciphertext, or ciphertext ‖ tag. */
function reference(kat: KnownAnswer): string {
  const input = Buffer.from(kat.input, 'hex');
  const spec = kat.spec as { hash?: string; hmac?: string; cmac?: string; cipher?: string; key?: Uint8Array };
  if (spec.hash) return createHash(spec.hash).update(input).digest('hex');
  if (spec.hmac) return createHmac(spec.hmac, spec.key!).update(input).digest('hex');
  if (spec.cmac) return aesCmac(spec.key!, input).toString('hex');
  const iv = kat.iv === undefined ? null : Buffer.from(kat.iv, 'hex');
  if (spec.cipher!.endsWith('-gcm')) {
    const c = createCipheriv(spec.cipher as 'aes-128-gcm', spec.key!, iv) as CipherGCM;
    return Buffer.concat([c.update(input), c.final(), c.getAuthTag()]).toString('hex');
  }
  const c = createCipheriv(spec.cipher!, spec.key!, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(input), c.final()]).toString('hex');
}

describe('published known answers', () => {
  for (const kat of KNOWN_ANSWERS) {
    it(`${kat.kernelName}: ${kat.source} is what node:crypto computes`, () => {
      assert.equal(reference(kat), kat.expect);
    });
  }

  it('every vector names an algorithm of the kit and a source', () => {
    for (const kat of KNOWN_ANSWERS) {
      assert.ok(
        FAMILIES.some((f) => f.kernelName === kat.kernelName),
        `${kat.kernelName} is not an algorithm of the kit`,
      );
      assert.match(kat.source, /^(FIPS|NIST|RFC|GCM)/);
    }
  });

  it('the algorithms without a Wycheproof file have published answers: ECB, CTR, every hash', () => {
    for (const name of ['ecb(aes)', 'ctr(aes)', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha3-256'])
      assert.ok(knownAnswersOf(name).length >= 2, name);
  });
});
