// Random numbers: stdrng on the kernel (its own pick and every DRBG it lists) and on the
// software driver gives the length asked for, not all zero, and different on each call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { openSession } from '../../src/index.js';
import { afAlgUnavailable, kernelListing, listedKernelDrivers } from '../support/drivers.js';
import { hex } from '../support/hex.js';

const LENGTH = 1024;

const list = await kernelListing();
const noAfAlg = afAlgUnavailable(list);

/** Driver choices to test, with why one cannot run here. */
const choices: { driver: string; skip?: string }[] = [
  { driver: 'software' },
  { driver: 'kernel', ...(noAfAlg ? { skip: noAfAlg } : {}) },
  ...listedKernelDrivers(list, 'stdrng').map((d) => ({ driver: d.name, ...(d.available ? {} : { skip: d.reason ?? 'listed as unavailable' }) })),
];

describe('stdrng', () => {
  for (const { driver, skip } of choices) {
    it(`driver ${driver}: ${LENGTH} bytes, not all zero, two calls differ`, skip === undefined ? {} : { skip }, async (t) => {
      const s = await openSession({ rng: 'stdrng' }, { driver });
      try {
        const [a, b] = [await s.generate(LENGTH), await s.generate(LENGTH)];
        t.diagnostic(`served by ${s.driver}`);
        assert.equal(a.length, LENGTH, `${s.driver}: length`);
        assert.equal(b.length, LENGTH, `${s.driver}: length`);
        assert.ok(a.some((x) => x !== 0), `${s.driver}: all zero`);
        assert.notEqual(hex(a), hex(b), `${s.driver}: two calls gave the same bytes`);
      } finally {
        await s.close();
      }
    });
  }
});
