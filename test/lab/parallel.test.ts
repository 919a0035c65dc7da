// Many requests in flight on one session: 64 AES-128-CBC encryptions of 4 KiB at once must
// each come back as node:crypto computes it (no request gets another's IV, data or output,
// whichever pool socket or thread served it), and 64 AEAD decryptions with 8 tampered tags
// must reject exactly those 8 with EBADMSG.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';

import { AeadSession, CipherSession, type Execution } from '../../src/index.js';
import { describeDrivers, driverCases, executionsOf, openAs, type DriverCase } from '../support/drivers.js';
import { assertKCryptoError } from '../support/errors.js';
import { AEADS, family, randomKeys, refAead, refCipher, specOf, type AeadFamily, type CipherFamily } from '../support/families.js';
import { assertSameBytes } from '../support/hex.js';

const REQUESTS = 64;
const SIZE = 4096;
/** Requests whose tag is tampered with: every eighth, so 8 of 64, spread over the batch. */
const TAMPERED = new Set(Array.from({ length: REQUESTS }, (_, i) => i).filter((i) => i % 8 === 5));

async function parallelCbc(f: CipherFamily, c: DriverCase, execution: Execution): Promise<void> {
  const key = randomBytes(16);
  const s = await openAs(CipherSession, c, specOf(f, { key }), execution);
  try {
    const inputs = Array.from({ length: REQUESTS }, () => ({ data: randomBytes(SIZE), iv: randomBytes(16) }));
    const outs = await Promise.all(inputs.map(({ data, iv }) => s.encrypt(data, { iv })));
    outs.forEach((o, i) =>
      assertSameBytes(o.ciphertext, refCipher(f, key, inputs[i]!.iv, inputs[i]!.data), `request ${i} of ${REQUESTS} on ${s.driver}`),
    );
    const back = await Promise.all(outs.map((o, i) => s.decrypt(o.ciphertext, { iv: inputs[i]!.iv })));
    back.forEach((pt, i) => assertSameBytes(pt, inputs[i]!.data, `decryption ${i} of ${REQUESTS} on ${s.driver}`));
  } finally {
    await s.close();
  }
}

async function parallelAeadDecrypts(f: AeadFamily, c: DriverCase, execution: Execution): Promise<void> {
  const keys = randomKeys(f);
  const tagLength = f.tagLengths[0]!;
  const s = await openAs(AeadSession, c, specOf(f, keys, tagLength), execution);
  try {
    const inputs = Array.from({ length: REQUESTS }, () => ({
      pt: randomBytes(SIZE),
      iv: randomBytes(f.ivLengths.at(-1)!),
      aad: randomBytes(16),
    }));
    const outs = await Promise.all(inputs.map(({ pt, iv, aad }) => s.encrypt(pt, { iv, aad })));
    outs.forEach((o, i) => {
      const { pt, iv, aad } = inputs[i]!;
      const ref = refAead(f, keys, iv, aad, pt, tagLength);
      assertSameBytes(o.ciphertext, ref.ciphertext, `ciphertext ${i} on ${s.driver}`);
      assertSameBytes(o.tag, ref.tag, `tag ${i} on ${s.driver}`);
    });
    const results = await Promise.allSettled(
      outs.map((o, i) => {
        const tag = Buffer.from(o.tag);
        if (TAMPERED.has(i)) tag[i % tag.length]! ^= 0x01;
        return s.decrypt(o.ciphertext, { iv: inputs[i]!.iv, aad: inputs[i]!.aad, tag });
      }),
    );
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    assert.deepEqual(rejected, [...TAMPERED], `requests rejected on ${s.driver}`);
    results.forEach((r, i) => {
      if (r.status === 'rejected') assertKCryptoError(r.reason, 'EBADMSG', s.driver);
      else assertSameBytes(r.value, inputs[i]!.pt, `decryption ${i} on ${s.driver}`);
    });
  } finally {
    await s.close();
  }
}

const cbc = family('cbc(aes)') as CipherFamily;
describeDrivers(cbc, await driverCases(cbc), (c, options) => {
  for (const execution of executionsOf(c)) {
    it(`${REQUESTS} parallel ${SIZE}-byte AES-128-CBC requests on one session (execution ${execution})`, options, () =>
      parallelCbc(cbc, c, execution),
    );
  }
});

for (const f of AEADS) {
  describeDrivers(f, await driverCases(f), (c, options) => {
    for (const execution of executionsOf(c)) {
      it(
        `${REQUESTS} parallel decryptions, ${TAMPERED.size} tampered tags: exactly those reject EBADMSG (execution ${execution})`,
        options,
        () => parallelAeadDecrypts(f, c, execution),
      );
    }
  });
}
