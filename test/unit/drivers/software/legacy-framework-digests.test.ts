// cryptosoft's keyed digests (KPDK, NULL-HMAC), GMAC alone and DEFLATE through the framework.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';

import { registerCryptosoft } from '../../../../src/drivers/software/cryptosoft.js';
import * as C from '../../../../src/framework/constants.js';
import { Framework } from '../../../../src/framework/framework.js';
import { errnoOf } from '../../../../src/errno.js';
import { hex, unhex } from '../../../support/hex.js';
import { EINVAL, request, session } from './legacy-support.js';

describe('cryptosoft: legacy algorithms', () => {
  describe('through the framework', () => {
    it('MD5-KPDK and SHA1-KPDK: digest at inject or in crp.mac, truncated to mlen; a per-request key', async () => {
      const fw = new Framework();
      const id = registerCryptosoft(fw);
      const key = Buffer.alloc(16, 0x0b);
      const md5 = await session(fw, id, C.CRYPTO_MD5_KPDK, key);
      const buf = Buffer.concat([Buffer.from('Hi There'), Buffer.alloc(16)]);
      assert.equal((await fw.process(request(fw, md5, buf, { alg: C.CRYPTO_MD5_KPDK, skip: 0, len: 8, inject: 8 }))).etype, 0);
      assert.equal(hex(buf.subarray(8)), '9ae6acbb1580859e1461f3cc8e7172aa');
      const sha1 = await session(fw, id, C.CRYPTO_SHA1_KPDK, key, 12);
      const crp = request(fw, sha1, Buffer.from('Hi There'), { alg: C.CRYPTO_SHA1_KPDK, skip: 0, len: 8 });
      crp.mac = Buffer.alloc(12);
      assert.equal((await fw.process(crp)).etype, 0);
      assert.equal(hex(crp.mac), 'baa122ca3707f5fed8c98d8d', 'the first mlen bytes');
      const jefe = request(fw, md5, Buffer.concat([Buffer.from('what do ya want for nothing?'), Buffer.alloc(16)]), {
        alg: C.CRYPTO_MD5_KPDK,
        skip: 0,
        len: 28,
        inject: 28,
        flags: C.CRD_F_KEY_EXPLICIT,
        key: Buffer.from('Jefe'),
        klen: 32,
      });
      assert.equal((await fw.process(jefe)).etype, 0);
      assert.equal(hex((jefe.buf as Buffer).subarray(28)), '4cb03a232372264291c7829161568f32');
    });

    it('NULL-HMAC: any key, 12 zero bytes (nothing past them is written)', async () => {
      const fw = new Framework();
      const id = registerCryptosoft(fw);
      const sid = await session(fw, id, C.CRYPTO_NULL_HMAC, randomBytes(20));
      const buf = Buffer.concat([randomBytes(30), Buffer.alloc(16, 0xee)]);
      assert.equal((await fw.process(request(fw, sid, buf, { alg: C.CRYPTO_NULL_HMAC, skip: 0, len: 30, inject: 30 }))).etype, 0);
      assert.equal(hex(buf.subarray(30, 42)), '00'.repeat(12));
      assert.equal(hex(buf.subarray(42)), 'ee'.repeat(4));
    });

    it('GMAC alone: the region as AAD with no plaintext, the IV from the descriptor (NIST CAVP gcmEncryptExtIV128, PTlen 0, AADlen 128)', async () => {
      const fw = new Framework();
      const id = registerCryptosoft(fw);
      const key = unhex('77be63708971c4e240d1cb79e8d77feb');
      const iv = unhex('e0e00f19fed7ba0136a797f3');
      const aad = unhex('7a43ec1d9c0a5a78a0b16533a6213cab');
      const gmac = {
        alg: C.CRYPTO_AES_128_NIST_GMAC,
        skip: 0,
        len: 16,
        inject: 16,
        flags: C.CRD_F_IV_EXPLICIT,
        iv: Buffer.concat([iv, Buffer.alloc(4)]),
      };
      for (const alg of [C.CRYPTO_AES_128_NIST_GMAC, C.CRYPTO_AES_NIST_GMAC]) {
        const sid = await session(fw, id, alg, key);
        const buf = Buffer.concat([aad, Buffer.alloc(16)]);
        assert.equal((await fw.process(request(fw, sid, buf, { ...gmac, alg }))).etype, 0);
        assert.equal(hex(buf.subarray(16)), '209fcc8d3675ed938e9c7166709dd946', `algorithm ${alg}`);
      }
      // GCM Test Case 1 of McGrew and Viega: zero key and IV, nothing to authenticate.
      const zero = await session(fw, id, C.CRYPTO_AES_NIST_GMAC, Buffer.alloc(16));
      const empty = request(fw, zero, Buffer.alloc(0), { ...gmac, alg: C.CRYPTO_AES_NIST_GMAC, len: 0, iv: Buffer.alloc(16) });
      empty.mac = Buffer.alloc(16);
      assert.equal((await fw.process(empty)).etype, 0);
      assert.equal(hex(empty.mac), '58e2fccefa7e3061367f1d57a4e7455a');
      // A 256-bit key, a 12-byte tag (mlen), against node:crypto's AES-GCM.
      const k256 = randomBytes(32);
      const iv2 = randomBytes(12);
      const region = randomBytes(45);
      const s256 = await session(fw, id, C.CRYPTO_AES_256_NIST_GMAC, k256, 12);
      const buf = Buffer.concat([region, Buffer.alloc(12)]);
      assert.equal(
        (
          await fw.process(
            request(fw, s256, buf, {
              ...gmac,
              alg: C.CRYPTO_AES_256_NIST_GMAC,
              len: 45,
              inject: 45,
              iv: Buffer.concat([iv2, Buffer.alloc(4)]),
            }),
          )
        ).etype,
        0,
      );
      const ref = createCipheriv('aes-256-gcm', k256, iv2);
      ref.setAAD(region);
      ref.final();
      assert.equal(hex(buf.subarray(45)), hex(ref.getAuthTag().subarray(0, 12)));
      // No IV in the descriptor, or a key the variant does not take: EINVAL.
      const noIv = request(fw, s256, Buffer.concat([region, Buffer.alloc(12)]), {
        ...gmac,
        alg: C.CRYPTO_AES_256_NIST_GMAC,
        len: 45,
        inject: 45,
        flags: 0,
      });
      assert.equal((await fw.process(noIv)).etype, EINVAL, 'no CRD_F_IV_EXPLICIT');
      const wrong = await session(fw, id, C.CRYPTO_AES_256_NIST_GMAC, randomBytes(16));
      assert.equal(
        (await fw.process(request(fw, wrong, Buffer.alloc(32), { ...gmac, alg: C.CRYPTO_AES_256_NIST_GMAC }))).etype,
        EINVAL,
        'a 128-bit key for AES-256 GMAC',
      );
    });

    it("DEFLATE: CRD_F_COMP compresses the region (olen = the result's end), decompression restores it", async () => {
      const fw = new Framework();
      const id = registerCryptosoft(fw);
      const sid = await session(fw, id, C.CRYPTO_DEFLATE_COMP, null);
      const data = Buffer.from('IPComp over crypto(9): a payload that repeats itself, repeats itself. '.repeat(30));
      // [header 4 | payload]
      const buf = Buffer.concat([Buffer.from('ipcp'), data]);
      const comp = await fw.process(request(fw, sid, buf, { alg: C.CRYPTO_DEFLATE_COMP, skip: 4, len: data.length, flags: C.CRD_F_COMP }));
      assert.equal(comp.etype, 0);
      const zlen = comp.olen - 4;
      assert.ok(zlen > 0 && zlen < data.length / 4, `compressed to ${zlen} of ${data.length} bytes`);
      assert.deepEqual(
        buf.subarray(4, comp.olen),
        deflateRawSync(data, { windowBits: 12, memLevel: 8, level: -1 }),
        "FreeBSD's parameters",
      );
      assert.equal(buf.subarray(0, 4).toString(), 'ipcp');

      // Decompression into a buffer with room for the result.
      const room = Buffer.alloc(4 + data.length + 100);
      buf.copy(room, 0, 0, comp.olen);
      const dec = await fw.process(request(fw, sid, room, { alg: C.CRYPTO_DEFLATE_COMP, skip: 4, len: zlen, flags: 0 }));
      assert.equal(dec.etype, 0);
      assert.equal(dec.olen, 4 + data.length);
      assert.deepEqual(room.subarray(4, dec.olen), data);

      // Data that does not get smaller stays as it is (FreeBSD's swcr_compdec), olen says so.
      const noise = randomBytes(64);
      const nbuf = Buffer.from(noise);
      const useless = await fw.process(request(fw, sid, nbuf, { alg: C.CRYPTO_DEFLATE_COMP, skip: 0, len: 64, flags: C.CRD_F_COMP }));
      assert.equal(useless.etype, 0);
      assert.equal(useless.olen, 64);
      assert.deepEqual(nbuf, noise);

      // A damaged stream is EINVAL; a result with no room in the buffer is not written.
      const damaged = await fw.process(
        request(fw, sid, Buffer.from('definitely not a deflate stream'), { alg: C.CRYPTO_DEFLATE_COMP, skip: 0, len: 31, flags: 0 }),
      );
      assert.equal(damaged.etype, EINVAL);
      const small = Buffer.alloc(zlen + 10);
      buf.copy(small, 0, 4, comp.olen);
      const before = Buffer.from(small);
      const cramped = await fw.process(request(fw, sid, small, { alg: C.CRYPTO_DEFLATE_COMP, skip: 0, len: zlen, flags: 0 }));
      assert.equal(cramped.etype, errnoOf('ENOSPC'));
      assert.deepEqual(small, before, 'nothing written');
    });
  });
});
