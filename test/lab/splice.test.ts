// Large AF_ALG cipher requests hand their input pages to the kernel through a pipe (vmsplice +
// splice) instead of copying them. On every AF_ALG driver of AES-CBC and AES-GCM: inputs at
// addresses that are not page- or even word-aligned, around the size where splicing starts and
// across a pipe's worth, come back as node:crypto computes them; the op sockets' pipes exist
// once such a request ran, and closing the session gives them back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';

import { AeadSession, CipherSession } from '../../src/index.js';
import { describeDrivers, driverCases, openAs } from '../support/drivers.js';
import { family, randomKeys, refAead, refCipher, specOf, type AeadFamily, type CipherFamily } from '../support/families.js';
import { openFds } from '../support/fds.js';
import { assertSameBytes } from '../support/hex.js';

/** Sizes around the splice threshold (16 KiB), one pipe (128 KiB) and several. */
const SIZES = [16 * 1024 - 16, 16 * 1024, 64 * 1024 + 16, 128 * 1024, 300 * 1024];

/** `n` random bytes at an odd address inside a larger buffer. */
function unaligned(n: number): Buffer {
  return randomBytes(n + 7).subarray(5, 5 + n);
}

const pipes = (): number => [...openFds().values()].filter((t) => t.startsWith('pipe:')).length;

const cbc = family('cbc(aes)') as CipherFamily;
/** Only AF_ALG drivers splice. */
const afalg = <T extends { label: string }>(cases: readonly T[]): T[] => cases.filter((c) => c.label.startsWith('afalg:'));

describeDrivers(cbc, afalg(await driverCases(cbc)), (c, options) => {
  it(
    'unaligned inputs from 16 KiB - 16 to 300 KiB encrypt and decrypt as node:crypto does; pipes come and go with the session',
    options,
    async () => {
      const before = pipes();
      const key = randomBytes(16);
      const s = await openAs(CipherSession, c, specOf(cbc, { key }));
      try {
        for (const n of SIZES) {
          const data = unaligned(n);
          const iv = randomBytes(16);
          const { ciphertext } = await s.encrypt(data, { iv });
          assertSameBytes(ciphertext, refCipher(cbc, key, iv, data), `${n} bytes encrypted on ${s.driver}`);
          const input = unaligned(n);
          ciphertext.copy(input);
          assertSameBytes(await s.decrypt(input, { iv }), data, `${n} bytes decrypted on ${s.driver}`);
        }
        assert.ok(pipes() > before, `${s.driver}: no pipe was opened for requests of 16 KiB and more`);
      } finally {
        await s.close();
      }
      assert.equal(pipes(), before, `${s.driver}: pipes left open after close`);
    },
  );
});

const gcm = family('gcm(aes)') as AeadFamily;
describeDrivers(gcm, afalg(await driverCases(gcm)), (c, options) => {
  it('unaligned inputs and AAD from 16 KiB - 16 to 64 KiB + 16 seal and open as node:crypto does', options, async () => {
    const keys = randomKeys(gcm);
    const s = await openAs(AeadSession, c, specOf(gcm, keys, 16));
    try {
      for (const n of SIZES.filter((x) => x <= 64 * 1024 + 16)) {
        const pt = unaligned(n);
        const aad = unaligned(13);
        const iv = randomBytes(12);
        const out = await s.encrypt(pt, { iv, aad });
        const ref = refAead(gcm, keys, iv, aad, pt, 16);
        assertSameBytes(out.ciphertext, ref.ciphertext, `${n} bytes sealed on ${s.driver}`);
        assertSameBytes(out.tag, ref.tag, `tag of ${n} bytes on ${s.driver}`);
        assertSameBytes(await s.decrypt(out.ciphertext, { iv, aad, tag: out.tag }), pt, `${n} bytes opened on ${s.driver}`);
      }
    } finally {
      await s.close();
    }
  });
});
