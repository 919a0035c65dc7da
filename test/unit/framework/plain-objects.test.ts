// The crypto(9) API takes plain objects where it takes CryptoIni and CryptoDesc chains: a
// JavaScript consumer's `{ alg, klen, key, next }` literals work as instances do.
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import * as crypto9 from '../../../src/framework/index.js';
import { Framework } from '../../../src/framework/framework.js';
import { CryptoDesc, CryptoIni, CryptoOp, descChain, iniChain } from '../../../src/framework/structures.js';
import { registerCryptosoft } from '../../../src/drivers/software/cryptosoft.js';
import { errnoOf } from '../../../src/errno.js';

const C = crypto9;

function framework(): Framework {
  const fw = new Framework();
  registerCryptosoft(fw);
  return fw;
}

describe('plain-object chains', () => {
  it('newSession takes a plain CryptoIni chain, and leaves it as it was', async () => {
    const fw = framework();
    const key = randomBytes(16);
    const hkey = randomBytes(32);
    const chain = { alg: C.CRYPTO_AES_CBC, klen: 128, key, next: { alg: C.CRYPTO_SHA2_256_HMAC, klen: 256, key: hkey } };
    const sid = await fw.newSession(chain, C.CRYPTOCAP_F_SOFTWARE);
    assert.equal(typeof sid, 'bigint');
    assert.equal(Object.getPrototypeOf(chain), Object.prototype, 'the caller keeps its own object');
    assert.equal(Object.getPrototypeOf(chain.next), Object.prototype);
    await fw.freeSession(sid);
  });

  it('dispatch takes plain descriptors: a cipher then an HMAC over its output', async () => {
    const fw = framework();
    const key = randomBytes(16);
    const hkey = randomBytes(32);
    const iv = randomBytes(16);
    const sid = await fw.newSession(
      { alg: C.CRYPTO_AES_CBC, klen: 128, key, next: { alg: C.CRYPTO_SHA2_256_HMAC, klen: 256, key: hkey } },
      C.CRYPTOCAP_F_SOFTWARE,
    );
    const data = randomBytes(64);
    const buf = Buffer.from(data);
    const mac = Buffer.alloc(32);
    const crp = new CryptoOp();
    crp.sid = sid;
    crp.buf = buf;
    crp.mac = mac;
    crp.flags = C.CRYPTO_F_CBIMM;
    crp.desc = {
      alg: C.CRYPTO_AES_CBC,
      len: 64,
      flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
      iv,
      ivLength: 16,
      next: { alg: C.CRYPTO_SHA2_256_HMAC, len: 64 },
    } as unknown as CryptoDesc;
    const done = await fw.process(crp);
    assert.equal(done.etype, 0);
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    const want = Buffer.concat([c.update(data), c.final()]);
    assert.deepEqual(buf, want);
    assert.deepEqual(mac, createHmac('sha256', hkey).update(want).digest());
    assert.ok(done.desc instanceof CryptoDesc && done.desc.next instanceof CryptoDesc, 'the request now holds CryptoDesc objects');
    await fw.freeSession(sid);
  });

  it('iniChain keeps a chain of instances, copies a mixed one; descChain copies every link', () => {
    const whole = new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, next: new CryptoIni({ alg: C.CRYPTO_SHA1_HMAC }) });
    assert.equal(iniChain(whole), whole);
    const mixed = new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128 });
    mixed.next = { alg: C.CRYPTO_SHA1_HMAC, mlen: 12 } as unknown as CryptoIni;
    const copy = iniChain(mixed);
    assert.notEqual(copy, mixed);
    assert.ok(copy.next instanceof CryptoIni);
    assert.equal(copy.next.mlen, 12);
    assert.equal(copy.next.klen, 0);
    assert.equal(Object.getPrototypeOf(mixed.next), Object.prototype, 'the caller keeps its own object');
    const d = descChain({ alg: C.CRYPTO_SHA1, len: 5, next: { alg: C.CRYPTO_MD5 } });
    assert.ok(d instanceof CryptoDesc && d.next instanceof CryptoDesc);
    assert.equal(d.len, 5);
    assert.equal(d.next.skip, 0);
    assert.equal(d.next.next, null);
  });

  it('ERESTART and EAGAIN are exported beside the other constants', () => {
    assert.equal(C.ERESTART, new Framework().ERESTART);
    assert.equal(C.EAGAIN, errnoOf('EAGAIN'));
  });
});
