// Buffers in flight on the lab's device requests (see test/support/inflight.ts): an input
// transferred away and freed while its request waits for or runs on a virtio-crypto card
// through AF_ALG, or on /dev/crypto, is never read again: the request answers for the bytes it
// was given, or rejects with ERR_INVALID_STATE. Also on the CPU's AES-CBC driver through AF_ALG,
// whose requests run on the addon's CPU threads. Run in the sanitized 6.12 pass too.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { openSession } from '../../src/index.js';
import { takeAway, type Gone, type When } from '../support/inflight.js';
import { labTargets } from '../support/lab-targets.js';

const CASES: [Gone, When][] = [
  ['transferred', 'before-submit'],
  ['transferred', 'in-flight'],
  ['to-worker', 'in-flight'],
];
/** A block-aligned size, large enough that a card's request is still in flight. */
const SIZES = [16, 256 * 1024];

describe('an input taken away while its device request is in flight', async () => {
  for (const target of await labTargets(false)) {
    it(`on ${target.driver}`, target.skip === undefined ? {} : { skip: target.skip }, async () => {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      const s = await openSession({ cipher: 'aes-128-cbc', key }, { driver: target.driver, execution: 'threads' });
      for (const [gone, when] of CASES) {
        for (const size of SIZES) {
          const r = await takeAway(size, gone, when, (input) => s.encrypt(input, { iv }));
          const where = `${target.driver} ${gone} ${when} ${size}`;
          if ('value' in r.outcome) {
            const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
            assert.ok(r.outcome.value.ciphertext.equals(Buffer.concat([c.update(r.bytes), c.final()])), `${where}: ciphertext`);
          } else {
            const e = r.outcome.error as { code?: string };
            assert.ok(r.outcome.error instanceof TypeError && e.code === 'ERR_INVALID_STATE', `${where}: ${String(r.outcome.error)}`);
          }
        }
      }
      await s.close();
    });
  }
});
