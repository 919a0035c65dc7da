// cryptosoft's algorithms beyond node:crypto's default provider, without the framework: the
// TypeScript ciphers (DES, Blowfish, CAST-128, Skipjack, ARC4) against published vectors, the keyed
// digest KPDK and DEFLATE.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

import { Arc4 } from '../../../../src/drivers/software/legacy/arc4.js';
import { cbcDecrypt, cbcEncrypt, type BlockCipherAlgorithm } from '../../../../src/drivers/software/legacy/block.js';
import { BLOWFISH } from '../../../../src/drivers/software/legacy/blowfish.js';
import { CAST128 } from '../../../../src/drivers/software/legacy/cast128.js';
import { deflateCompress, deflateDecompress } from '../../../../src/drivers/software/deflate.js';
import { DES } from '../../../../src/drivers/software/legacy/des.js';
import { kpdk, KpdkState } from '../../../../src/drivers/software/kpdk.js';
import { SOFT_CIPHERS } from '../../../../src/drivers/software/legacy/legacy.js';
import { SKIPJACK, SKIPJACK_F } from '../../../../src/drivers/software/legacy/skipjack.js';
import { KCryptoError } from '../../../../src/errors.js';
import { hex, unhex } from '../../../support/hex.js';
import { isEinval } from './legacy-support.js';

/** One block through `alg`, checked to decrypt back. */
function block(alg: BlockCipherAlgorithm, key: string, pt: string): string {
  const c = alg.create(unhex(key));
  const out = new Uint8Array(alg.blockSize);
  c.encryptBlock(unhex(pt), 0, out, 0);
  const back = new Uint8Array(alg.blockSize);
  c.decryptBlock(out, 0, back, 0);
  assert.equal(hex(back), pt.toLowerCase(), `${alg.name} decrypts ${key}/${pt} back`);
  return hex(out);
}

describe('cryptosoft: legacy algorithms', () => {
  describe('TypeScript primitives against published vectors', () => {
    it('DES: FIPS 81 appendix B (ECB and CBC of "Now is the time for all "), NBS SP 500-20 known answers', () => {
      const key = '0123456789abcdef';
      // FIPS PUB 81, Table B1 (ECB) and Table C1 (CBC, IV 1234567890abcdef).
      const pt = Buffer.from('Now is the time for all ');
      const ecb = ['3fa40e8a984d4815', '6a271787ab8883f9', '893d51ec4b563b53'];
      ecb.forEach((ct, i) => assert.equal(block(DES, key, hex(pt.subarray(i * 8, i * 8 + 8))), ct, `ECB block ${i}`));
      const c = DES.create(unhex(key));
      const cbc = cbcEncrypt(c, unhex('1234567890abcdef'), pt);
      assert.equal(hex(cbc), 'e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6');
      assert.deepEqual(Buffer.from(cbcDecrypt(c, unhex('1234567890abcdef'), cbc)), pt);
      // NBS Special Publication 500-20: variable-plaintext and variable-key known answers.
      const kat: [string, string, string][] = [
        ['0101010101010101', '8000000000000000', '95f8a5e5dd31d900'],
        ['0101010101010101', '4000000000000000', 'dd7f121ca5015619'],
        ['0101010101010101', '2000000000000000', '2e8653104f3834ea'],
        ['8001010101010101', '0000000000000000', '95a8d72813daa94d'],
        ['4001010101010101', '0000000000000000', '0eec1487dd8c26d5'],
      ];
      for (const [k, p, ct] of kat) assert.equal(block(DES, k, p), ct, `key ${k} plaintext ${p}`);
    });

    it("DES agrees with OpenSSL's 3DES keyed K1 = K2 = K3 (which is single DES) on random keys and blocks", () => {
      for (let i = 0; i < 200; i++) {
        const k = randomBytes(8);
        const iv = randomBytes(8);
        const data = randomBytes(8 * (1 + (i % 5)));
        const ref = createCipheriv('des-ede3-cbc', Buffer.concat([k, k, k]), iv)
          .setAutoPadding(false)
          .update(data);
        assert.equal(hex(cbcEncrypt(DES.create(k), iv, data)), hex(ref), `key ${hex(k)}`);
      }
    });

    it("Blowfish: Eric Young's vectors from Schneier's vectors.txt (fixed keys, variable-key set, CBC)", () => {
      const ecb: [string, string, string][] = [
        ['0000000000000000', '0000000000000000', '4ef997456198dd78'],
        ['ffffffffffffffff', 'ffffffffffffffff', '51866fd5b85ecb8a'],
        ['3000000000000000', '1000000000000001', '7d856f9a613063f2'],
        ['1111111111111111', '1111111111111111', '2466dd878b963c9d'],
        ['0123456789abcdef', '1111111111111111', '61f9c3802281b096'],
        ['fedcba9876543210', '0123456789abcdef', '0aceab0fc6a0a28d'],
      ];
      for (const [k, p, ct] of ecb) assert.equal(block(BLOWFISH, k, p), ct, `key ${k}`);
      // The set_key test: the first 1..24 bytes of one key, plaintext fedcba9876543210.
      const long = 'f0e1d2c3b4a5968778695a4b3c2d1e0f0011223344556677';
      const variable = [
        'f9ad597c49db005e',
        'e91d21c1d961a6d6',
        'e9c2b70a1bc65cf3',
        'be1e639408640f05',
        'b39e44481bdb1e6e',
        '9457aa83b1928c0d',
        '8bb77032f960629d',
        'e87a244e2cc85e82',
        '15750e7a4f4ec577',
        '122ba70b3ab64ae0',
        '3a833c9affc537f6',
        '9409da87a90f6bf2',
        '884f80625060b8b4',
        '1f85031c19e11968',
        '79d9373a714ca34f',
        '93142887ee3be15c',
        '03429e838ce2d14b',
        'a4299e27469ff67b',
        'afd5aed1c1bc96a8',
        '10851c0e3858da9f',
        'e6f51ed79b9db21f',
        '64a6e14afd36b46f',
        '80c7d7d45a5479ad',
        '05044b62fa52d080',
      ];
      variable.forEach((ct, i) => assert.equal(block(BLOWFISH, long.slice(0, 2 * (i + 1)), 'fedcba9876543210'), ct, `${i + 1}-byte key`));
      // CBC: "7654321 Now is the time for " and its terminating zero, zero-padded to 32 bytes.
      const c = BLOWFISH.create(unhex('0123456789abcdeff0e1d2c3b4a59687'));
      const pt = unhex('37363534333231204e6f77206973207468652074696d6520666f722000000000');
      const ct = cbcEncrypt(c, unhex('fedcba9876543210'), pt);
      assert.equal(hex(ct), '6b77b4d63006dee605b156e27403979358deb9e7154616d959f1652bd5ff92cc');
      assert.deepEqual(Buffer.from(cbcDecrypt(c, unhex('fedcba9876543210'), ct)), pt);
    });

    it('CAST-128: RFC 2144 appendix B.1 with 128-, 80- and 40-bit keys (12 rounds up to 80 bits)', () => {
      const pt = '0123456789abcdef';
      assert.equal(block(CAST128, '0123456712345678234567893456789a', pt), '238b4fe5847e44b2');
      assert.equal(block(CAST128, '01234567123456782345', pt), 'eb6a711a2c02271b');
      assert.equal(block(CAST128, '0123456712', pt), '7ac816d16e9b302e');
    });

    it(
      'CAST-128: RFC 2144 appendix B.2, the 1,000,000-iteration maintenance test',
      { skip: process.env['KCRYPTO_SLOW_VECTORS'] ? false : 'takes seconds in TypeScript; set KCRYPTO_SLOW_VECTORS=1' },
      () => {
        const a = unhex('0123456712345678234567893456789a');
        const b = unhex('0123456712345678234567893456789a');
        for (let i = 0; i < 1_000_000; i++) {
          const kb = CAST128.create(b);
          kb.encryptBlock(a, 0, a, 0);
          kb.encryptBlock(a, 8, a, 8);
          const ka = CAST128.create(a);
          ka.encryptBlock(b, 0, b, 0);
          ka.encryptBlock(b, 8, b, 8);
        }
        assert.equal(hex(a), 'eea9d0a249fd3ba6b3436fb89d6dca92');
        assert.equal(hex(b), 'b2c95eb00c31ad7180ac05b8e83d696e');
      },
    );

    it('Skipjack: the example of NIST\'s "SKIPJACK and KEA Algorithm Specifications" (version 2.0)', () => {
      assert.equal(block(SKIPJACK, '00998877665544332211', '33221100ddccbbaa'), '2587cae27a12d300');
      // The one vector reads few F-table entries; the table is a permutation, so any wrong
      // entry shows up as a repeated byte.
      assert.equal(new Set(SKIPJACK_F).size, 256);
      assert.equal(hex(SKIPJACK_F.subarray(0, 8)), 'a3d70983f848f6f4');
    });

    it('ARC4: RFC 6229 keystreams at several offsets; a request restarts from the key', () => {
      const stream = (key: string, n: number): string => hex(new Arc4(unhex(key)).update(new Uint8Array(n)));
      const ks40 = stream('0102030405', 272);
      const at = (off: number): string => ks40.slice(off * 2, off * 2 + 32);
      assert.equal(at(0), 'b2396305f03dc027ccc3524a0a1118a8');
      assert.equal(at(16), '6982944f18fc82d589c403a47a0d0919');
      assert.equal(at(240), '28cb1132c96ce286421dcaadb8b69eae');
      assert.equal(at(256), '1cfcf62b03eddb641d77dfcf7f8d8c93');
      assert.equal(stream('01020304050607', 16), '293f02d47f37c9b633f2af5285feb46b');
      assert.equal(stream('0102030405060708', 16), '97ab8a1bf0afb96132f2f67258da15a8');
      assert.equal(stream('0102030405060708090a', 16), 'ede3b04643e586cc907dc21851709902');
      assert.equal(stream('0102030405060708090a0b0c0d0e0f10', 16), '9ac7cc9a609d1ef7b2932899cde41b97');
      // As cryptosoft runs it: two requests on one key give the same keystream.
      const ctx = SOFT_CIPHERS.arc4.init(unhex('0102030405'));
      const zeros = new Uint8Array(16);
      assert.equal(hex(ctx.run(true, new Uint8Array(0), zeros)), at(0));
      assert.equal(hex(ctx.run(true, new Uint8Array(0), zeros)), at(0));
      // A stream cut in pieces continues where it stopped.
      const s = new Arc4(unhex('0102030405'));
      assert.equal(hex(s.update(new Uint8Array(5))) + hex(s.update(new Uint8Array(27))), ks40.slice(0, 64));
    });

    it('KPDK: H(key ‖ keyfill ‖ data ‖ key) (RFC 1828, RFC 1852), against node:crypto over the bytes built here', () => {
      /** The hash's own padding of the key alone, built independently of kpdk.ts. */
      const fill = (hash: 'md5' | 'sha1', n: number): Buffer => {
        const padded = Math.ceil((n + 9) / 64) * 64;
        const f = Buffer.alloc(padded - n);
        f[0] = 0x80;
        const bits = Buffer.alloc(8);
        if (hash === 'md5') bits.writeBigUInt64LE(BigInt(n * 8));
        else bits.writeBigUInt64BE(BigInt(n * 8));
        bits.copy(f, f.length - 8);
        return f;
      };
      for (const hash of ['md5', 'sha1'] as const) {
        for (const keyLength of [0, 1, 16, 55, 56, 63, 64, 65, 200]) {
          const key = randomBytes(keyLength);
          const data = randomBytes(keyLength * 3 + 7);
          const expected = createHash(hash)
            .update(Buffer.concat([key, fill(hash, keyLength), data, key]))
            .digest();
          assert.equal(hex(kpdk(hash, key, data)), hex(expected), `${hash}, ${keyLength}-byte key`);
          assert.equal((keyLength + fill(hash, keyLength).length) % 64, 0, 'the data starts on a block boundary');
        }
      }
      // Fixed known answers (computed with Python's hashlib over the same construction).
      const k = Buffer.alloc(16, 0x0b);
      assert.equal(hex(kpdk('md5', k, Buffer.from('Hi There'))), '9ae6acbb1580859e1461f3cc8e7172aa');
      assert.equal(hex(kpdk('sha1', k, Buffer.from('Hi There'))), 'baa122ca3707f5fed8c98d8d6ab8d72eee04589b');
      assert.equal(hex(kpdk('md5', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'))), '4cb03a232372264291c7829161568f32');
      assert.equal(
        hex(kpdk('sha1', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'))),
        'dd47ac88281d2304d0b980b0fad62cb06a154fda',
      );
      // In pieces and from a copied state, the same digest.
      const s = new KpdkState('md5', k);
      s.update(Buffer.from('Hi '));
      const copy = s.copy();
      s.update(Buffer.from('There'));
      copy.update(Buffer.from('There'));
      assert.equal(hex(s.digest()), '9ae6acbb1580859e1461f3cc8e7172aa');
      assert.equal(hex(copy.digest()), '9ae6acbb1580859e1461f3cc8e7172aa');
    });

    it('DEFLATE: a raw stream with a 4 KiB window (FreeBSD window_deflate = -12) that zlib inflates back', () => {
      const data = Buffer.from('crypto(9) deflate: IPComp payloads compress well when they repeat. '.repeat(50));
      const z = deflateCompress(data);
      assert.ok(z.length < data.length / 4, `${z.length} bytes`);
      assert.deepEqual(z, deflateRawSync(data, { windowBits: 12, memLevel: 8, level: -1 }));
      assert.deepEqual(inflateRawSync(z), data);
      assert.deepEqual(deflateDecompress(z, data.length), data);
      assert.throws(
        () => deflateDecompress(z, data.length - 1),
        (e: unknown) => e instanceof KCryptoError && e.code === 'ENOSPC',
      );
      assert.throws(() => deflateDecompress(z.subarray(0, z.length - 2), 1 << 20), isEinval, 'truncated');
      assert.throws(() => deflateDecompress(Buffer.concat([z, Buffer.from('tail')]), 1 << 20), isEinval, 'bytes after the end');
      assert.throws(() => deflateDecompress(Buffer.from('not deflate at all'), 1 << 20), isEinval, 'garbage');
    });

    it("key lengths outside each cipher's range and partial blocks are EINVAL", () => {
      const bad: [BlockCipherAlgorithm, number][] = [
        [DES, 7],
        [DES, 16],
        [BLOWFISH, 0],
        [BLOWFISH, 57],
        [CAST128, 4],
        [CAST128, 17],
        [SKIPJACK, 8],
        [SKIPJACK, 16],
      ];
      for (const [alg, n] of bad) assert.throws(() => alg.create(new Uint8Array(n)), isEinval, `${alg.name}, ${n} bytes`);
      assert.throws(() => new Arc4(new Uint8Array(0)), isEinval);
      assert.throws(() => new Arc4(new Uint8Array(257)), isEinval);
      // FreeBSD's limits, narrower than the algorithm's: Blowfish from 5 bytes.
      assert.equal(SOFT_CIPHERS.blowfish.keyLength(4), false);
      assert.equal(BLOWFISH.keyLength(4), true);
      const c = DES.create(new Uint8Array(8));
      assert.throws(() => cbcEncrypt(c, new Uint8Array(8), new Uint8Array(12)), isEinval, 'partial block');
      assert.throws(() => cbcDecrypt(c, new Uint8Array(4), new Uint8Array(16)), isEinval, 'short IV');
    });
  });
});
