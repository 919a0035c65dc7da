// A request on a driver whose device can go away works on a copy of its buffer, written back
// only if the driver still lives when the request has succeeded: once the framework has handed
// the request back with EAGAIN, the consumer resubmits the same buffer elsewhere.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { execute } from '../../../../src/drivers/common/descriptor-executor.js';
import { softwareCipher } from '../../../../src/drivers/software/node-crypto.js';
import * as C from '../../../../src/framework/constants.js';
import { CryptoDesc, CryptoOp } from '../../../../src/framework/structures.js';

function request(buf: Buffer, iv: Buffer): CryptoOp {
  const crp = new CryptoOp();
  crp.buf = buf;
  crp.desc = Object.assign(new CryptoDesc(), {
    alg: C.CRYPTO_AES_CBC,
    skip: 0,
    len: buf.length,
    flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
    iv,
  });
  return crp;
}

describe('descriptor executor: commit', () => {
  const key = randomBytes(16);
  const session = { entries: [{ alg: C.CRYPTO_AES_CBC, mlen: 0, transform: softwareCipher('aes-128-cbc', key, 16) }] };

  it('writes the result back when commit() holds', async () => {
    const data = randomBytes(64);
    const iv = randomBytes(16);
    const buf = Buffer.from(data);
    assert.equal(await execute(request(buf, iv), session, () => true), 0);
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    assert.ok(buf.equals(Buffer.concat([c.update(data), c.final()])));
  });

  it('leaves the buffer as it was when commit() no longer holds', async () => {
    const data = randomBytes(64);
    const buf = Buffer.from(data);
    const rc = await execute(request(buf, randomBytes(16)), session, () => false);
    assert.notEqual(rc, 0);
    assert.ok(buf.equals(data), 'the buffer still holds the plaintext');
  });

  it('without commit, works in place', async () => {
    const data = randomBytes(64);
    const buf = Buffer.from(data);
    assert.equal(await execute(request(buf, randomBytes(16)), session), 0);
    assert.ok(!buf.equals(data));
  });
});
