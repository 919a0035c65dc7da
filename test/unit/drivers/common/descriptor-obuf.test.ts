// The separate output buffer (CryptoOp.obuf): one cipher descriptor reads `buf` and writes the
// same region of `obuf`; `buf` stays as it was, with or without a device's commit copy.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { hashes } from '../../../../src/algorithms/catalog.js';
import { execute } from '../../../../src/drivers/common/descriptor-executor.js';
import { softwareCipher, softwareHash } from '../../../../src/drivers/software/node-crypto.js';
import * as C from '../../../../src/framework/constants.js';
import { CryptoDesc, CryptoOp } from '../../../../src/framework/structures.js';

const key = randomBytes(16);
const session = {
  entries: [
    { alg: C.CRYPTO_AES_CBC, mlen: 0, transform: softwareCipher('aes-128-cbc', key, 16) },
    { alg: C.CRYPTO_SHA2_256, mlen: 0, transform: softwareHash(hashes().find((h) => h.name === 'sha256')!) },
  ],
};

function cipherDesc(skip: number, len: number, flags: number, iv: Buffer | null, inject = 0): CryptoDesc {
  return Object.assign(new CryptoDesc(), {
    alg: C.CRYPTO_AES_CBC,
    skip,
    len,
    inject,
    flags: flags | (iv ? C.CRD_F_IV_EXPLICIT : 0),
    ...(iv ? { iv } : {}),
  });
}

function cbc(data: Buffer, iv: Buffer): Buffer {
  const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

describe('descriptor executor: separate output buffer', () => {
  for (const commit of [undefined, () => true]) {
    it(`writes the cipher region of obuf and leaves buf alone${commit ? ' (device copy)' : ''}`, async () => {
      const data = randomBytes(96);
      const buf = Buffer.from(data);
      const obuf = Buffer.alloc(96, 0xee);
      const iv = randomBytes(16);
      const crp = new CryptoOp();
      Object.assign(crp, { buf, obuf, desc: cipherDesc(16, 64, C.CRD_F_ENCRYPT | C.CRD_F_IV_PRESENT, iv) });
      assert.equal(await execute(crp, session, commit), 0);
      assert.ok(buf.equals(data), 'the input is untouched');
      assert.ok(obuf.subarray(16, 80).equals(cbc(data.subarray(16, 80), iv)));
      assert.ok(
        obuf.subarray(0, 16).equals(Buffer.alloc(16, 0xee)) && obuf.subarray(80).equals(Buffer.alloc(16, 0xee)),
        'outside the region obuf is as it was',
      );
    });
  }

  it('a made-up IV goes to obuf at inject', async () => {
    const data = randomBytes(80);
    const obuf = Buffer.alloc(80);
    const crp = new CryptoOp();
    Object.assign(crp, { buf: Buffer.from(data), obuf, desc: cipherDesc(16, 64, C.CRD_F_ENCRYPT, null, 0) });
    assert.equal(await execute(crp, session, () => true), 0);
    const iv = obuf.subarray(0, 16);
    assert.ok(obuf.subarray(16).equals(cbc(data.subarray(16), Buffer.from(iv))));
  });

  it('nothing reaches obuf when commit() no longer holds', async () => {
    const obuf = Buffer.alloc(64, 0xee);
    const crp = new CryptoOp();
    Object.assign(crp, { buf: randomBytes(64), obuf, desc: cipherDesc(0, 64, C.CRD_F_ENCRYPT | C.CRD_F_IV_PRESENT, randomBytes(16)) });
    assert.notEqual(await execute(crp, session, () => false), 0);
    assert.ok(obuf.equals(Buffer.alloc(64, 0xee)));
  });

  it('a transform that guards its output writes obuf itself: no scratch copy, whatever commit() says at the end', async () => {
    const inner = softwareCipher('aes-128-cbc', key, 16);
    const targets: (Buffer | undefined)[] = [];
    const guarded = {
      ...inner,
      guardsOutput: true,
      run: (e: boolean, iv: Uint8Array, d: Uint8Array, k: Uint8Array | null, into?: Buffer) => (
        targets.push(into),
        inner.run(e, iv, d, k, into)
      ),
    };
    const data = randomBytes(64);
    const obuf = Buffer.alloc(64);
    const iv = randomBytes(16);
    const crp = new CryptoOp();
    Object.assign(crp, { buf: Buffer.from(data), obuf, desc: cipherDesc(0, 64, C.CRD_F_ENCRYPT | C.CRD_F_IV_PRESENT, iv) });
    assert.equal(await execute(crp, { entries: [{ alg: C.CRYPTO_AES_CBC, mlen: 0, transform: guarded }] }, () => true), 0);
    assert.equal(targets.length, 1);
    assert.equal(targets[0]!.buffer, obuf.buffer, 'the transform was handed obuf itself');
    assert.ok(obuf.equals(cbc(data, iv)));
  });

  it('a disposable obuf (CRYPTO_F_KC_OBUF_DISPOSABLE) goes to the transform itself, marked so, even unguarded', async () => {
    const inner = softwareCipher('aes-128-cbc', key, 16);
    const seen: { into: Buffer | undefined; disposable: boolean | undefined }[] = [];
    const plain = {
      ...inner,
      run: (e: boolean, iv: Uint8Array, d: Uint8Array, k: Uint8Array | null, into?: Buffer, disposable?: boolean) => (
        seen.push({ into, disposable }),
        inner.run(e, iv, d, k, into)
      ),
    };
    const data = randomBytes(64);
    const iv = randomBytes(16);
    for (const flags of [C.CRYPTO_F_KC_OBUF_DISPOSABLE, 0]) {
      const obuf = Buffer.alloc(64);
      const crp = new CryptoOp();
      Object.assign(crp, { buf: Buffer.from(data), obuf, flags, desc: cipherDesc(0, 64, C.CRD_F_ENCRYPT | C.CRD_F_IV_PRESENT, iv) });
      assert.equal(await execute(crp, { entries: [{ alg: C.CRYPTO_AES_CBC, mlen: 0, transform: plain }] }, () => true), 0);
      assert.ok(obuf.equals(cbc(data, iv)));
      const last = seen.at(-1)!;
      if (flags) {
        assert.equal(last.into!.buffer, obuf.buffer, 'no scratch copy');
        assert.equal(last.disposable, true);
      } else {
        assert.notEqual(last.into!.buffer, obuf.buffer, 'a device request without the flag works on a scratch copy');
        assert.equal(last.disposable, false);
      }
    }
  });

  it('is refused (EINVAL) for a chain, an iovec, a hash or a short obuf', async () => {
    const EINVAL = 22;
    const hash = Object.assign(new CryptoDesc(), { alg: C.CRYPTO_SHA2_256, skip: 0, len: 32, inject: 32 });
    const chain = cipherDesc(0, 32, C.CRD_F_ENCRYPT | C.CRD_F_IV_PRESENT, randomBytes(16));
    chain.next = Object.assign(new CryptoDesc(), { alg: C.CRYPTO_SHA2_256, skip: 0, len: 32, inject: 32 });
    const cases: Partial<CryptoOp>[] = [
      { buf: randomBytes(64), obuf: Buffer.alloc(64), desc: chain },
      {
        buf: [randomBytes(32), randomBytes(32)],
        obuf: Buffer.alloc(64),
        desc: cipherDesc(0, 64, C.CRD_F_ENCRYPT | C.CRD_F_IV_PRESENT, randomBytes(16)),
      },
      { buf: randomBytes(64), obuf: Buffer.alloc(64), desc: hash },
      { buf: randomBytes(64), obuf: Buffer.alloc(48), desc: cipherDesc(0, 48, C.CRD_F_ENCRYPT | C.CRD_F_IV_PRESENT, randomBytes(16)) },
    ];
    for (const c of cases) assert.equal(await execute(Object.assign(new CryptoOp(), c), session), EINVAL);
  });
});
