// Incremental hashing. On every hash and MAC driver, the conformance kit's 'hash-copy' check
// (as `kcrypto conformance` runs it): a copy() of a state taken mid-message continues on its
// own, a copy of a fresh state is the empty message, final() resets. This file adds what the
// kit does not cover: where a driver keeps no state (the BSDs' /dev/crypto) update(), final()
// and copy() refuse with ENOTSUP while digest() works, and a 100 MiB message fed in 1 MiB
// updates hashes as node:crypto's streaming sha256 does, with a copy taken at 50 MiB.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';

import { hashCopyCheck } from '../../src/conformance/checks/hash-copy.js';
import { HashSession, openSession } from '../../src/index.js';
import { itCheck } from '../support/check-case.js';
import { afAlgUnavailable, describeDrivers, driverCases, kernelListing, noHashState, openAs, type DriverCase } from '../support/drivers.js';
import { assertKCryptoError } from '../support/errors.js';
import { HASHES, MACS, randomKeys, refDigest, specOf, type HashFamily, type MacFamily } from '../support/families.js';
import { assertSameBytes } from '../support/hex.js';

const CHUNK = 1 << 20;
const CHUNKS = 100;

/**
 * A deterministic 1 MiB block (an AES-CTR keystream under a fixed key); chunk i is that block
 * with i written over its first bytes, so the 100 MiB never exist at once and no two chunks
 * are equal.
 */
function chunkSource(): (i: number) => Buffer {
  const block = createCipheriv('aes-128-ctr', Buffer.alloc(16, 0x6b), Buffer.alloc(16)).update(Buffer.alloc(CHUNK));
  return (i) => {
    block.writeUInt32LE(i, 0);
    return block;
  };
}

/**
 * Where a driver keeps no hash state (the BSDs' /dev/crypto), every call that needs one is a
 * typed refusal, never a wrong digest, and one-shot digests still work.
 */
async function refusesIncremental(f: HashFamily | MacFamily, c: DriverCase): Promise<void> {
  const { key } = randomKeys(f, 1);
  const s = await openAs(HashSession, c, specOf(f, { key }));
  try {
    const enotsup = (err: unknown): true => {
      assertKCryptoError(err, 'ENOTSUP', c.label);
      return true;
    };
    await assert.rejects(s.update(randomBytes(100)), enotsup);
    await assert.rejects(s.final(), enotsup);
    await assert.rejects(s.copy(), enotsup);
    const msg = randomBytes(1000);
    assertSameBytes(await s.digest(msg), refDigest(f, key, [msg]), `one-shot digest on ${c.label}`);
  } finally {
    await s.close();
  }
}

for (const f of [...HASHES, ...MACS]) {
  describeDrivers(f, await driverCases(f), (c, options) => {
    const stateless = noHashState(c);
    // n/a (skipped with the reason) where the state cannot exist; the refusal is tested instead.
    itCheck(hashCopyCheck, f, c, options);
    if (stateless !== undefined)
      it('update(), final() and copy() refuse with ENOTSUP; digest() works', options, () => refusesIncremental(f, c));
  });
}

const list = await kernelListing();
const noAfAlg = afAlgUnavailable(list);

// The kernel's own pick of sha256 (its best driver); the software driver where there is no
// AF_ALG, so that the host runs the same test.
const driver = noAfAlg ? 'software' : 'kernel';

// Not a per-driver test: it runs in the main pass, not in the passes restricted to some drivers.
const restricted = process.env['KCRYPTO_TEST_DRIVERS']
  ? 'the suite is restricted to some drivers (KCRYPTO_TEST_DRIVERS); this runs in the main pass'
  : undefined;

describe(`100 MiB streamed sha256 on driver choice '${driver}'`, () => {
  it(
    `${CHUNKS} × 1 MiB update() then final() matches node:crypto, and a copy() at 50 MiB continues on its own`,
    { skip: restricted ?? false },
    async (t) => {
      const s = await openSession({ hash: 'sha256' }, { driver });
      const ref = createHash('sha256');
      const chunk = chunkSource();
      let fork: HashSession | undefined;
      let forkRef: ReturnType<typeof createHash> | undefined;
      const t0 = performance.now();
      try {
        for (let i = 0; i < CHUNKS; i++) {
          if (i === CHUNKS / 2) {
            fork = await s.copy();
            forkRef = ref.copy();
          }
          const data = chunk(i);
          // The block is rewritten for the next chunk only after the kernel has consumed it.
          await s.update(data);
          ref.update(data);
        }
        assertSameBytes(await s.final(), ref.digest(), `100 MiB sha256 on ${s.driver}`);
        const seconds = (performance.now() - t0) / 1000;
        t.diagnostic(`${s.driver}: ${CHUNKS} MiB in ${seconds.toFixed(1)} s with the reference alongside`);
        // The copy taken at 50 MiB has not seen the rest; give it one different chunk.
        const tail = randomBytes(12345);
        await fork!.update(tail);
        forkRef!.update(tail);
        assertSameBytes(await fork!.final(), forkRef!.digest(), `copy at 50 MiB on ${s.driver}`);
      } finally {
        await Promise.all([s.close(), fork?.close()]);
      }
    },
  );
});
