// cryptosoft's legacy ciphers (DES, Blowfish, CAST-128, Skipjack, ARC4) through the framework:
// crypto(9)'s list of algorithms served, IVs made up or explicit, per-request keys, EINVAL.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { cryptosoftAlgorithms, registerCryptosoft } from '../../../../src/drivers/software/cryptosoft.js';
import { Arc4 } from '../../../../src/drivers/software/legacy/arc4.js';
import { SOFT_CIPHERS } from '../../../../src/drivers/software/legacy/legacy.js';
import * as C from '../../../../src/framework/constants.js';
import { Framework } from '../../../../src/framework/framework.js';
import { hex, unhex } from '../../../support/hex.js';
import { EINVAL, isEinval, request, session } from './legacy-support.js';

describe('cryptosoft: legacy algorithms', () => {
  describe('through the framework', () => {
    const SEED_000 = [
      C.CRYPTO_AES_128_NIST_GMAC,
      C.CRYPTO_AES_192_NIST_GMAC,
      C.CRYPTO_AES_256_NIST_GMAC,
      C.CRYPTO_AES_CBC,
      C.CRYPTO_AES_ICM,
      C.CRYPTO_AES_NIST_GCM_16,
      C.CRYPTO_AES_NIST_GMAC,
      C.CRYPTO_AES_XTS,
      C.CRYPTO_ARC4,
      C.CRYPTO_BLF_CBC,
      C.CRYPTO_CAMELLIA_CBC,
      C.CRYPTO_CAST_CBC,
      C.CRYPTO_DEFLATE_COMP,
      C.CRYPTO_DES_CBC,
      C.CRYPTO_3DES_CBC,
      C.CRYPTO_MD5,
      C.CRYPTO_MD5_HMAC,
      C.CRYPTO_MD5_KPDK,
      C.CRYPTO_NULL_HMAC,
      C.CRYPTO_NULL_CBC,
      C.CRYPTO_RIPEMD160_HMAC,
      C.CRYPTO_SHA1,
      C.CRYPTO_SHA1_HMAC,
      C.CRYPTO_SHA1_KPDK,
      C.CRYPTO_SHA2_256_HMAC,
      C.CRYPTO_SHA2_384_HMAC,
      C.CRYPTO_SHA2_512_HMAC,
      C.CRYPTO_SKIPJACK_CBC,
    ];

    it("serves every algorithm of crypto(9)'s list (seed 000)", async () => {
      const algs = new Set(cryptosoftAlgorithms());
      const missing = SEED_000.filter((a) => !algs.has(a));
      assert.deepEqual(missing, [], `not served: ${missing.join(', ')}`);
      const fw = new Framework();
      const id = registerCryptosoft(fw);
      for (const alg of [C.CRYPTO_DES_CBC, C.CRYPTO_SKIPJACK_CBC, C.CRYPTO_DEFLATE_COMP, C.CRYPTO_NULL_HMAC]) {
        const key = alg === C.CRYPTO_DES_CBC ? randomBytes(8) : alg === C.CRYPTO_SKIPJACK_CBC ? randomBytes(10) : null;
        const sid = await session(fw, 0, alg, key).catch(() => -1n);
        assert.notEqual(sid, -1n, `the framework finds a driver for ${alg}`);
        assert.equal(Number(sid >> 32n), id);
      }
    });

    const ciphers = [
      { name: 'DES-CBC', alg: C.CRYPTO_DES_CBC, keys: [8], soft: SOFT_CIPHERS.des },
      { name: 'Blowfish-CBC', alg: C.CRYPTO_BLF_CBC, keys: [5, 16, 56], soft: SOFT_CIPHERS.blowfish },
      { name: 'CAST-128-CBC', alg: C.CRYPTO_CAST_CBC, keys: [5, 10, 16], soft: SOFT_CIPHERS.cast128 },
      { name: 'Skipjack-CBC', alg: C.CRYPTO_SKIPJACK_CBC, keys: [10], soft: SOFT_CIPHERS.skipjack },
    ];
    for (const c of ciphers) {
      it(`${c.name}: made-up IV written at inject, then decrypted with the IV read there; a per-request key`, async () => {
        const fw = new Framework();
        const id = registerCryptosoft(fw);
        for (const keyLength of c.keys) {
          const key = randomBytes(keyLength);
          const sid = await session(fw, id, c.alg, key);
          // [header 4 | IV 8 | payload 40]
          const payload = randomBytes(40);
          const buf = Buffer.concat([Buffer.from('hdr!'), Buffer.alloc(8), payload]);
          const enc = await fw.process(request(fw, sid, buf, { alg: c.alg, skip: 12, len: 40, inject: 4, flags: C.CRD_F_ENCRYPT }));
          assert.equal(enc.etype, 0, `${keyLength}-byte key`);
          const iv = buf.subarray(4, 12);
          assert.notEqual(hex(iv), '0000000000000000', 'an IV was made up and written at inject');
          const expected =
            c.alg === C.CRYPTO_DES_CBC
              ? createCipheriv('des-ede3-cbc', Buffer.concat([key, key, key]), iv)
                  .setAutoPadding(false)
                  .update(payload)
              : c.soft.init(key).run(true, iv, payload);
          assert.equal(hex(buf.subarray(12)), hex(expected), `${keyLength}-byte key: the ciphertext`);
          assert.equal(buf.subarray(0, 4).toString(), 'hdr!');
          const dec = await fw.process(request(fw, sid, buf, { alg: c.alg, skip: 12, len: 40, inject: 4, flags: 0 }));
          assert.equal(dec.etype, 0);
          assert.deepEqual(buf.subarray(12), payload, 'decrypted in place');
        }
        // CRD_F_KEY_EXPLICIT with an explicit IV that stays out of the packet.
        const other = randomBytes(c.keys[0]!);
        const sid = await session(fw, id, c.alg, randomBytes(c.keys[0]!));
        const iv = randomBytes(8);
        const data = randomBytes(24);
        const buf = Buffer.from(data);
        const crp = request(fw, sid, buf, {
          alg: c.alg,
          skip: 0,
          len: 24,
          inject: 0,
          flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT | C.CRD_F_KEY_EXPLICIT,
          iv: Buffer.concat([iv, Buffer.alloc(8)]),
          key: other,
          klen: other.length * 8,
        });
        assert.equal((await fw.process(crp)).etype, 0);
        assert.equal(hex(buf), hex(c.soft.init(other).run(true, iv, data)));
      });
    }

    it('ARC4: no IV; each request starts the keystream afresh from the key (RFC 6229 through dispatch)', async () => {
      const fw = new Framework();
      const id = registerCryptosoft(fw);
      const sid = await session(fw, id, C.CRYPTO_ARC4, unhex('0102030405'));
      for (let i = 0; i < 2; i++) {
        const buf = Buffer.alloc(32);
        const crp = await fw.process(request(fw, sid, buf, { alg: C.CRYPTO_ARC4, skip: 0, len: 32, inject: 0, flags: C.CRD_F_ENCRYPT }));
        assert.equal(crp.etype, 0);
        assert.equal(hex(buf), 'b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919', `request ${i + 1}`);
      }
      // Any length (a stream cipher), keys of 1 and 256 bytes, and decryption is the same XOR.
      for (const keyLength of [1, 256]) {
        const key = randomBytes(keyLength);
        const s = await session(fw, id, C.CRYPTO_ARC4, key);
        const text = randomBytes(37);
        const buf = Buffer.from(text);
        assert.equal((await fw.process(request(fw, s, buf, { alg: C.CRYPTO_ARC4, skip: 0, len: 37, flags: C.CRD_F_ENCRYPT }))).etype, 0);
        assert.equal(hex(buf), hex(new Arc4(key).update(text)));
        assert.equal((await fw.process(request(fw, s, buf, { alg: C.CRYPTO_ARC4, skip: 0, len: 37, flags: 0 }))).etype, 0);
        assert.deepEqual(buf, text);
      }
    });

    it('EINVAL: keys of a length FreeBSD refuses (at newsession, or per request), regions that are not whole blocks', async () => {
      const fw = new Framework();
      const id = registerCryptosoft(fw);
      const refused: [number, number][] = [
        [C.CRYPTO_DES_CBC, 7],
        [C.CRYPTO_BLF_CBC, 4],
        [C.CRYPTO_BLF_CBC, 57],
        [C.CRYPTO_CAST_CBC, 4],
        [C.CRYPTO_CAST_CBC, 17],
        [C.CRYPTO_SKIPJACK_CBC, 8],
        [C.CRYPTO_ARC4, 257],
      ];
      for (const [alg, n] of refused)
        await assert.rejects(session(fw, id, alg, randomBytes(n)), (e: unknown) => isEinval(e), `algorithm ${alg}, ${n}-byte key`);
      const sid = await session(fw, id, C.CRYPTO_BLF_CBC, randomBytes(16));
      const explicit = request(fw, sid, Buffer.alloc(16), {
        alg: C.CRYPTO_BLF_CBC,
        len: 16,
        flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT | C.CRD_F_KEY_EXPLICIT,
        key: randomBytes(4),
        klen: 32,
      });
      assert.equal((await fw.process(explicit)).etype, EINVAL, 'a 4-byte Blowfish key per request');
      for (const [alg, key] of [
        [C.CRYPTO_DES_CBC, 8],
        [C.CRYPTO_SKIPJACK_CBC, 10],
        [C.CRYPTO_CAST_CBC, 16],
      ] as const) {
        const s = await session(fw, id, alg, randomBytes(key));
        const crp = request(fw, s, Buffer.alloc(32), { alg, skip: 8, len: 12, inject: 0, flags: C.CRD_F_ENCRYPT });
        assert.equal((await fw.process(crp)).etype, EINVAL, `algorithm ${alg}: 12 bytes`);
      }
    });
  });
});
