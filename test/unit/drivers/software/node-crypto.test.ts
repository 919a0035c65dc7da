// The software driver through the public API: published vectors, state copies, and the
// request formats (AAD, tags, authenc) that must match the kernel drivers' byte for byte.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { openSession } from '../../../../src/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const sw = { driver: 'software' } as const;

describe('software driver', () => {
  it('AES-CMAC: RFC 4493 examples 1-4', async () => {
    const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
    const msg = hex(`6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
      30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710`);
    const cases: [number, string][] = [
      [0, 'bb1d6929e95937287fa37d129b756746'],
      [16, '070a16b46b4d4144f79bdd9dd04a287c'],
      [40, 'dfa66747de9ae63030ca32611497c827'],
      [64, '51f0bebf7e3b9d92fc49741779363cfe'],
    ];
    const s = await openSession({ cmac: 'aes', key }, sw);
    for (const [len, tag] of cases) {
      assert.equal((await s.digest(msg.subarray(0, len))).toString('hex'), tag, `one-shot, ${len} bytes`);
      // The same message fed in uneven pieces through update()/final().
      for (let i = 0; i < len; i += 7) await s.update(msg.subarray(i, Math.min(len, i + 7)));
      assert.equal((await s.final()).toString('hex'), tag, `incremental, ${len} bytes`);
    }
    await s.close();
  });

  it('HMAC: RFC 4231 cases 1 and 2, and a copied state', async () => {
    const s1 = await openSession({ hmac: 'sha256', key: Buffer.alloc(20, 0x0b) }, sw);
    assert.equal(
      (await s1.digest(Buffer.from('Hi There'))).toString('hex'),
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    const s2 = await openSession({ hmac: 'sha256', key: Buffer.from('Jefe') }, sw);
    await s2.update(Buffer.from('what do ya want '));
    const fork = await s2.copy();
    await s2.update(Buffer.from('for nothing?'));
    await fork.update(Buffer.from('for something?'));
    assert.equal((await s2.final()).toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    assert.deepEqual(await fork.final(), createHmac('sha256', 'Jefe').update('what do ya want for something?').digest());
    await Promise.all([s1.close(), s2.close(), fork.close()]);
  });

  it('hash: digest of several buffers equals the digest of their concatenation', async () => {
    const s = await openSession({ hash: 'sha3-256' }, sw);
    const parts = [randomBytes(10), randomBytes(0), randomBytes(300)];
    assert.deepEqual(await s.digest(parts), createHash('sha3-256').update(Buffer.concat(parts)).digest());
    await s.close();
  });

  it('GCM: test case 4 (McGrew–Viega), with AAD and a tampered tag', async () => {
    const key = hex('feffe9928665731c6d6a8f9467308308');
    const iv = hex('cafebabefacedbaddecaf888');
    const pt = hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
      1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`);
    const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
    const s = await openSession({ cipher: 'aes-128-gcm', key }, sw);
    const { ciphertext, tag } = await s.encrypt(pt, { iv, aad });
    assert.equal(tag.toString('hex'), '5bc94fbc3221a5db94fae95ae7121a47');
    assert.equal(ciphertext.toString('hex').slice(0, 32), '42831ec2217774244b7221b784d0d49c');
    assert.deepEqual(await s.decrypt(ciphertext, { iv, aad, tag }), pt);
    const bad = Buffer.from(tag);
    bad[0]! ^= 1;
    await assert.rejects(s.decrypt(ciphertext, { iv, aad, tag: bad }), { name: 'KCryptoError', code: 'EBADMSG', driver: 'software' });
    await s.close();
  });

  it('CCM: short tags and nonces, zero-length message', async () => {
    const key = randomBytes(16);
    for (const [nonceLen, tagLength] of [
      [7, 4],
      [13, 16],
      [11, 10],
    ] as const) {
      const s = await openSession({ cipher: 'aes-128-ccm', key, tagLength }, sw);
      for (const len of [0, 1, 33]) {
        const iv = randomBytes(nonceLen);
        const pt = randomBytes(len);
        const aad = randomBytes(5);
        const { ciphertext, tag } = await s.encrypt(pt, { iv, aad });
        assert.equal(tag.length, tagLength);
        const ref = createCipheriv('aes-128-ccm', key, iv, { authTagLength: tagLength });
        ref.setAAD(aad, { plaintextLength: len });
        // Buffer.alloc, not randomBytes(0): see the null-pointer note in src/drivers/software/node-crypto.ts.
        assert.deepEqual(ciphertext, Buffer.concat([ref.update(len === 0 ? Buffer.alloc(0) : pt), ref.final()]));
        assert.deepEqual(tag, ref.getAuthTag());
        assert.deepEqual(await s.decrypt(ciphertext, { iv, aad, tag }), pt);
      }
      await s.close();
    }
  });

  it('authenc(hmac(sha256),cbc(aes)): AES-CBC then HMAC over AAD and ciphertext', async () => {
    const key = randomBytes(16);
    const authKey = randomBytes(32);
    const s = await openSession({ cipher: 'authenc(hmac(sha256),cbc(aes))', key, authKey }, sw);
    const iv = randomBytes(16);
    const aad = randomBytes(8);
    const pt = randomBytes(64);
    const { ciphertext, tag } = await s.encrypt(pt, { iv, aad });
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    const ct = Buffer.concat([c.update(pt), c.final()]);
    assert.deepEqual(ciphertext, ct);
    assert.deepEqual(tag, createHmac('sha256', authKey).update(aad).update(ct).digest());
    assert.deepEqual(await s.decrypt(ciphertext, { iv, aad, tag }), pt);
    await assert.rejects(s.decrypt(ciphertext, { iv, aad: Buffer.alloc(8), tag }), { code: 'EBADMSG' });
    await s.close();
    // The same transform spelled as cipher + hmac.
    const t = await openSession({ cipher: 'aes-128-cbc', hmac: 'sha256', key, authKey, tagLength: 12 }, sw);
    assert.equal(t.algorithm.kernelName, 'authenc(hmac(sha256),cbc(aes))');
    assert.deepEqual((await t.encrypt(pt, { iv, aad })).tag, tag.subarray(0, 12));
    await t.close();
  });

  it('plain ciphers are raw: no padding, output length equals input length', async () => {
    const key = randomBytes(32);
    const s = await openSession({ cipher: 'aes-256-cbc', key }, sw);
    const iv = randomBytes(16);
    const pt = randomBytes(48);
    const { ciphertext } = await s.encrypt(pt, { iv });
    assert.equal(ciphertext.length, 48);
    assert.deepEqual(await s.decrypt(ciphertext, { iv }), pt);
    await s.close();
  });

  it('rng: generates the requested length', async () => {
    const s = await openSession({ rng: 'stdrng' }, sw);
    const a = await s.generate(1000);
    assert.equal(a.length, 1000);
    assert.notDeepEqual(a, await s.generate(1000));
    await s.close();
  });
});
