// Random numbers: stdrng on the kernel (its own pick and every DRBG it lists) and on the
// software driver gives the length asked for, not all zero, and different on each call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { algorithmSupport, kernelReport, KCryptoError, openSession } from '../../src/index.js';
import { afAlgUnavailable, kernelListing, listedKernelDrivers } from '../support/drivers.js';
import { hex } from '../support/hex.js';

const LENGTH = 1024;

const list = await kernelListing();
const noAfAlg = afAlgUnavailable(list);
// Where AF_ALG works but reaches no stdrng (7.2 lists DRBGs it will not give; 7.3's
// af_alg_restrict=1 refuses every RNG), the kernel's pick is refused, and said so.
// af_alg_restrict=2 disables AF_ALG altogether: refused too (EAFNOSUPPORT), not skipped.
const disabled = (await kernelReport())?.afalg.restriction?.value === 2;
const noKernelRng =
  noAfAlg === undefined || disabled ? (await algorithmSupport()).find((a) => a.algorithm === 'stdrng' && a.afalg === null) : undefined;

/** Driver choices to test, with why one cannot run here. */
const choices: { driver: string; skip?: string }[] = [
  { driver: 'software' },
  ...(noKernelRng ? [] : [{ driver: 'kernel', ...(noAfAlg ? { skip: noAfAlg } : {}) }]),
  // Drivers the kernel's AF_ALG policy refuses are asserted refused by afalg-policy.test.ts.
  ...listedKernelDrivers(list, 'stdrng')
    .filter((d) => d.refusal === undefined)
    .map((d) => ({ driver: d.name, ...(d.available ? {} : { skip: d.reason ?? 'listed as unavailable' }) })),
];

describe('stdrng', () => {
  if (noKernelRng) {
    it(`driver kernel: refused (${noKernelRng.afalgReason ?? ''})`, async () => {
      await assert.rejects(
        openSession({ rng: 'stdrng' }, { driver: 'kernel' }),
        (e: unknown) => e instanceof KCryptoError && e.code === (disabled ? 'EAFNOSUPPORT' : 'ENOENT'),
      );
      const s = await openSession({ rng: 'stdrng' });
      assert.equal((await s.generate(LENGTH)).length, LENGTH);
      await s.close();
    });
  }
  for (const { driver, skip } of choices) {
    it(`driver ${driver}: ${LENGTH} bytes, not all zero, two calls differ`, skip === undefined ? {} : { skip }, async (t) => {
      const s = await openSession({ rng: 'stdrng' }, { driver });
      try {
        const [a, b] = [await s.generate(LENGTH), await s.generate(LENGTH)];
        t.diagnostic(`served by ${s.driver}`);
        assert.equal(a.length, LENGTH, `${s.driver}: length`);
        assert.equal(b.length, LENGTH, `${s.driver}: length`);
        assert.ok(
          a.some((x) => x !== 0),
          `${s.driver}: all zero`,
        );
        assert.notEqual(hex(a), hex(b), `${s.driver}: two calls gave the same bytes`);
      } finally {
        await s.close();
      }
    });
  }
});
