// cryptosoft through the framework: descriptor chains over regions of one buffer, checked
// byte for byte against node:crypto.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { cryptosoftAlgorithms, registerCryptosoft } from '../../../../src/drivers/software/cryptosoft.js';
import * as C from '../../../../src/framework/constants.js';
import { Framework } from '../../../../src/framework/framework.js';
import { CryptoIni, type CryptoOp } from '../../../../src/framework/structures.js';
import { errnoOf } from '../../../../src/errno.js';

const KEY = randomBytes(16);
const AUTH = randomBytes(20);

async function etaSession(fw: Framework, id: number, mlen = 12): Promise<bigint> {
  return fw.newSession(
    new CryptoIni({
      alg: C.CRYPTO_AES_CBC,
      klen: 128,
      key: KEY,
      next: new CryptoIni({ alg: C.CRYPTO_SHA1_HMAC, klen: 160, key: AUTH, mlen }),
    }),
    id,
  );
}

/** An ESP-like packet: 8-byte header, 16-byte IV, 64-byte payload, 12-byte ICV. */
function packet(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from('espheadr'), Buffer.alloc(16), payload, Buffer.alloc(12)]);
}

function etaRequest(
  fw: Framework,
  sid: bigint,
  buf: Uint8Array | Uint8Array[],
  cipherFlags: number,
  order: 'cipher-first' | 'auth-first',
): CryptoOp {
  const crp = fw.getReq(2);
  crp.sid = sid;
  crp.buf = buf;
  crp.flags = Array.isArray(buf) ? C.CRYPTO_F_IOV : 0;
  const [first, second] = [crp.desc!, crp.desc!.next!];
  const cipher = order === 'cipher-first' ? first : second;
  const auth = order === 'cipher-first' ? second : first;
  Object.assign(cipher, { alg: C.CRYPTO_AES_CBC, skip: 24, len: 64, inject: 8, flags: cipherFlags });
  Object.assign(auth, { alg: C.CRYPTO_SHA1_HMAC, skip: 0, len: 88, inject: 88, flags: 0 });
  return crp;
}

describe('cryptosoft', () => {
  it('registers what this OpenSSL provides, as a synchronous software driver', () => {
    const algs = cryptosoftAlgorithms();
    for (const a of [C.CRYPTO_AES_CBC, C.CRYPTO_AES_ICM, C.CRYPTO_AES_XTS, C.CRYPTO_SHA1_HMAC, C.CRYPTO_SHA2_256, C.CRYPTO_NULL_CBC])
      assert.ok(algs.includes(a), `algorithm ${a}`);
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    const st = fw.stats().find((s) => s.id === id)!;
    assert.equal(st.flags, C.CRYPTOCAP_F_SOFTWARE | C.CRYPTOCAP_F_SYNC);
    assert.equal(fw.findDriver('cryptosoft0'), id);
  });

  it('encrypt-then-MAC over regions of one buffer: random IV written at inject, ICV truncated to mlen; then verify and decrypt', async () => {
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    const sid = await etaSession(fw, id);
    const payload = randomBytes(64);
    const buf = packet(payload);
    const enc = await fw.process(etaRequest(fw, sid, buf, C.CRD_F_ENCRYPT, 'cipher-first'));
    assert.equal(enc.etype, 0);
    const iv = buf.subarray(8, 24);
    assert.ok(!iv.equals(Buffer.alloc(16)), 'an IV was made up and written at inject');
    const c = createCipheriv('aes-128-cbc', KEY, iv).setAutoPadding(false);
    assert.deepEqual(buf.subarray(24, 88), Buffer.concat([c.update(payload), c.final()]));
    assert.deepEqual(buf.subarray(88), createHmac('sha1', AUTH).update(buf.subarray(0, 88)).digest().subarray(0, 12));
    assert.equal(buf.subarray(0, 8).toString(), 'espheadr', 'outside the regions nothing changed');

    // Receive side: MAC over the packet into crp.mac, then decrypt with the IV read at inject.
    const received = Buffer.from(buf);
    const dec = etaRequest(fw, sid, received, 0, 'auth-first');
    dec.mac = Buffer.alloc(12);
    await fw.process(dec);
    assert.equal(dec.etype, 0);
    assert.deepEqual(dec.mac, buf.subarray(88), 'the consumer compares the ICV');
    assert.deepEqual(received.subarray(24, 88), payload);
  });

  it('CRD_F_IV_EXPLICIT (with and without IV_PRESENT) and CRD_F_KEY_EXPLICIT', async () => {
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    const sid = await etaSession(fw, id);
    const iv = randomBytes(16);
    const other = randomBytes(16);
    for (const present of [false, true]) {
      const payload = randomBytes(64);
      const buf = packet(payload);
      const crp = etaRequest(
        fw,
        sid,
        buf,
        C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_KEY_EXPLICIT | (present ? C.CRD_F_IV_PRESENT : 0),
        'cipher-first',
      );
      crp.desc!.iv = iv;
      crp.desc!.key = other;
      crp.desc!.klen = 128;
      await fw.process(crp);
      assert.equal(crp.etype, 0);
      assert.deepEqual(
        buf.subarray(8, 24),
        present ? Buffer.alloc(16) : iv,
        present ? 'IV_PRESENT: not written' : 'explicit IV written at inject',
      );
      const c = createCipheriv('aes-128-cbc', other, iv).setAutoPadding(false);
      assert.deepEqual(buf.subarray(24, 88), Buffer.concat([c.update(payload), c.final()]), 'per-request key used');
      assert.deepEqual(buf.subarray(88), createHmac('sha1', AUTH).update(buf.subarray(0, 88)).digest().subarray(0, 12));
    }
  });

  it('CRYPTO_F_IOV: a buffer in several pieces behaves as one', async () => {
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    const sid = await etaSession(fw, id);
    const payload = randomBytes(64);
    const whole = packet(payload);
    const pieces = [Buffer.from(whole.subarray(0, 13)), Buffer.from(whole.subarray(13, 50)), Buffer.from(whole.subarray(50))];
    const crp = etaRequest(fw, sid, pieces, C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT, 'cipher-first');
    const iv = randomBytes(16);
    crp.desc!.iv = iv;
    await fw.process(crp);
    assert.equal(crp.etype, 0);
    const out = Buffer.concat(pieces);
    const c = createCipheriv('aes-128-cbc', KEY, iv).setAutoPadding(false);
    assert.deepEqual(out.subarray(24, 88), Buffer.concat([c.update(payload), c.final()]));
    assert.deepEqual(out.subarray(88), createHmac('sha1', AUTH).update(out.subarray(0, 88)).digest().subarray(0, 12));
  });

  it("AES-XTS takes FreeBSD's 8-byte block-number IV; AES-ICM the whole counter; hashes inject their digest", async () => {
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    const xkey = randomBytes(32);
    const sid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_XTS, klen: 256, key: xkey }), id);
    const data = randomBytes(48);
    const buf = Buffer.from(data);
    const crp = fw.getReq(1);
    crp.sid = sid;
    crp.buf = buf;
    Object.assign(crp.desc!, {
      alg: C.CRYPTO_AES_XTS,
      skip: 0,
      len: 48,
      inject: 0,
      flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
      iv: Buffer.from('0102030405060708', 'hex'),
    });
    await fw.process(crp);
    const x = createCipheriv('aes-128-xts', xkey, Buffer.from('01020304050607080000000000000000', 'hex'));
    assert.deepEqual(buf, Buffer.concat([x.update(data), x.final()]));

    const hsid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_SHA2_256 }), id);
    const hb = Buffer.concat([Buffer.from('abc'), Buffer.alloc(32)]);
    const h = fw.getReq(1);
    h.sid = hsid;
    h.buf = hb;
    Object.assign(h.desc!, { alg: C.CRYPTO_SHA2_256, skip: 0, len: 3, inject: 3 });
    await fw.process(h);
    assert.deepEqual(hb.subarray(3), createHash('sha256').update('abc').digest());

    // Decrypt direction of ICM reads the counter from inject.
    const isid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_ICM, klen: 128, key: KEY }), id);
    const ctr = randomBytes(16);
    const pt = randomBytes(33);
    const e = createCipheriv('aes-128-ctr', KEY, ctr);
    const ib = Buffer.concat([ctr, e.update(pt), e.final()]);
    const d = fw.getReq(1);
    d.sid = isid;
    d.buf = ib;
    Object.assign(d.desc!, { alg: C.CRYPTO_AES_ICM, skip: 16, len: 33, inject: 0, flags: 0 });
    await fw.process(d);
    assert.deepEqual(ib.subarray(16), pt);
  });

  it('a MAC that does not fit where it is injected (mlen 0: the whole digest) fails with EINVAL', async () => {
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    const sid = await etaSession(fw, id, 0);
    const crp = etaRequest(fw, sid, packet(randomBytes(64)), C.CRD_F_ENCRYPT, 'cipher-first');
    await fw.process(crp);
    assert.equal(crp.etype, errnoOf('EINVAL'));
  });

  it('bad regions, unaligned lengths and algorithms not in the session fail through etype EINVAL', async () => {
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    const sid = await etaSession(fw, id);
    const EINVAL = errnoOf('EINVAL');
    const cases: [string, (crp: CryptoOp) => void][] = [
      ['region past the end', (crp) => (crp.desc!.len = 1000)],
      ['unaligned CBC length', (crp) => (crp.desc!.len = 63)],
      ['algorithm not in the session', (crp) => (crp.desc!.alg = C.CRYPTO_AES_ICM)],
    ];
    for (const [what, spoil] of cases) {
      const crp = etaRequest(fw, sid, packet(randomBytes(64)), C.CRD_F_ENCRYPT, 'cipher-first');
      spoil(crp);
      await fw.process(crp);
      assert.equal(crp.etype, EINVAL, what);
    }
  });

  it('a session migrates from an unregistered card to cryptosoft; the resubmitted request is computed correctly', async () => {
    const fw = new Framework();
    // A "card" that accepts requests and never completes them on its own (a queue the test holds).
    const held: CryptoOp[] = [];
    const card = fw.getDriverId(C.CRYPTOCAP_F_HARDWARE, 'card0');
    fw.register(card, C.CRYPTO_AES_CBC, 0, 0, {
      newSession: () => 0,
      freeSession: () => undefined,
      process: (_a, crp) => (held.length < 1 ? (held.push(crp), 0) : fw.ERESTART),
    });
    registerCryptosoft(fw);
    const sid = await fw.newSession(
      new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: KEY }),
      C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE,
    );
    assert.equal(Number(sid >> 32n), card);
    const iv = randomBytes(16);
    const pt = randomBytes(32);
    const mk = (): CryptoOp => {
      const crp = fw.getReq(1);
      crp.sid = sid;
      crp.buf = Buffer.from(pt);
      Object.assign(crp.desc!, {
        alg: C.CRYPTO_AES_CBC,
        skip: 0,
        len: 32,
        inject: 0,
        flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
        iv,
      });
      return crp;
    };
    const inFlight = fw.process(mk());
    const queued = fw.process(mk());
    await new Promise((r) => setImmediate(r));
    await fw.unregisterAll(card);
    const moved = await queued;
    assert.equal(moved.etype, errnoOf('EAGAIN'));
    assert.notEqual(moved.sid, sid);
    moved.buf = Buffer.from(pt);
    const again = await fw.process(moved);
    assert.equal(again.etype, 0);
    const c = createCipheriv('aes-128-cbc', KEY, iv).setAutoPadding(false);
    assert.deepEqual(again.buf, Buffer.concat([c.update(pt), c.final()]));
    // The card still finishes what it had: exactly one completion for it too.
    held[0]!.etype = 0;
    fw.done(held[0]!);
    assert.equal((await inFlight).etype, 0);
  });

  describe('AEAD descriptor pairs', () => {
    const pairs = [
      {
        title: 'AES-GCM with GMAC',
        cipher: C.CRYPTO_AES_NIST_GCM_16,
        auth: C.CRYPTO_AES_128_NIST_GMAC,
        node: 'aes-128-gcm',
        keyLength: 16,
        tag: 16,
      },
      {
        title: 'AES-CCM with CBC-MAC, 8-byte tag',
        cipher: C.CRYPTO_AES_CCM_16,
        auth: C.CRYPTO_AES_CCM_CBC_MAC,
        node: 'aes-128-ccm',
        keyLength: 16,
        tag: 8,
      },
      {
        title: 'ChaCha20-Poly1305',
        cipher: C.CRYPTO_CHACHA20_POLY1305,
        auth: C.CRYPTO_POLY1305,
        node: 'chacha20-poly1305',
        keyLength: 32,
        tag: 16,
      },
    ] as const;
    for (const p of pairs) {
      it(`${p.title}: AAD region, payload region, tag at inject; a tampered tag gives EBADMSG`, async () => {
        const fw = new Framework();
        const id = registerCryptosoft(fw);
        const key = randomBytes(p.keyLength);
        const sid = await fw.newSession(
          new CryptoIni({
            alg: p.cipher,
            klen: p.keyLength * 8,
            key,
            next: new CryptoIni({ alg: p.auth, klen: p.keyLength * 8, key, mlen: p.tag === 16 ? 0 : p.tag }),
          }),
          id,
        );
        // [AAD 8 | IV 12 | payload 40 | tag]
        const aad = randomBytes(8);
        const payload = randomBytes(40);
        const buf = Buffer.concat([aad, Buffer.alloc(12), payload, Buffer.alloc(p.tag)]);
        const mk = (flags: number): CryptoOp => {
          const crp = fw.getReq(2);
          crp.sid = sid;
          crp.buf = buf;
          Object.assign(crp.desc!, { alg: p.cipher, skip: 20, len: 40, inject: 8, flags });
          Object.assign(crp.desc!.next!, { alg: p.auth, skip: 0, len: 8, inject: 60 });
          return crp;
        };
        const enc = await fw.process(mk(C.CRD_F_ENCRYPT));
        assert.equal(enc.etype, 0);
        const iv = buf.subarray(8, 20);
        const ref = createCipheriv(p.node as 'aes-128-gcm', key, iv, { authTagLength: p.tag });
        ref.setAAD(aad, { plaintextLength: 40 });
        assert.deepEqual(buf.subarray(20, 60), Buffer.concat([ref.update(payload), ref.final()]));
        assert.deepEqual(buf.subarray(60), ref.getAuthTag());
        const sealed = Buffer.from(buf);
        assert.equal((await fw.process(mk(0))).etype, 0);
        assert.deepEqual(buf.subarray(20, 60), payload, 'decrypted in place');
        sealed.copy(buf);
        buf[60]! ^= 1;
        assert.equal((await fw.process(mk(0))).etype, errnoOf('EBADMSG'));
        assert.deepEqual(buf.subarray(20, 60), sealed.subarray(20, 60), 'nothing released on a failed tag');
      });
    }

    it('without an auth descriptor: no AAD, and the tag goes to crp.mac', async () => {
      const fw = new Framework();
      const id = registerCryptosoft(fw);
      const key = randomBytes(16);
      const sid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_NIST_GCM_16, klen: 128, key }), id);
      const iv = randomBytes(12);
      const pt = randomBytes(24);
      const crp = fw.getReq(1);
      crp.sid = sid;
      crp.buf = Buffer.from(pt);
      crp.mac = Buffer.alloc(16);
      Object.assign(crp.desc!, {
        alg: C.CRYPTO_AES_NIST_GCM_16,
        skip: 0,
        len: 24,
        inject: 0,
        flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
        iv,
      });
      await fw.process(crp);
      assert.equal(crp.etype, 0);
      const ref = createCipheriv('aes-128-gcm', key, iv);
      assert.deepEqual(crp.buf, Buffer.concat([ref.update(pt), ref.final()]));
      assert.deepEqual(crp.mac, ref.getAuthTag());
    });
  });
});
