// The software keying operations CRK_MOD_EXP and CRK_MOD_EXP_CRT, checked against node:crypto's
// RSA and against published RSA signatures, in the BSD parameter layout: little-endian integers,
// outputs after the inputs.
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { processKeyOp } from '../../../../src/drivers/software/keying.js';
import { CRK_MOD_EXP, CRK_MOD_EXP_CRT } from '../../../../src/framework/constants.js';
import { vectorsDir } from '../../../support/wycheproof.js';
import { bitLength, bn, E, fromB64url, fromBe, kop, modExp, readLe, room, toBe } from './keying-support.js';

describe('keying operations (software)', () => {
  describe('CRK_MOD_EXP', () => {
    it('small known answers, including an even modulus and a zero exponent', () => {
      assert.equal(modExp(4n, 13n, 497n), 445n);
      assert.equal(modExp(3n, 5n, 10n), 3n);
      assert.equal(modExp(7n, 1n, 5n), 2n);
      assert.equal(modExp(7n, 0n, 5n), 1n);
      assert.equal(modExp(0n, 3n, 5n), 0n);
      // A base above the modulus is reduced first.
      assert.equal(modExp(1000n, 3n, 7n), 1000n ** 3n % 7n);
    });

    it('is raw RSA: matches publicEncrypt and privateDecrypt with RSA_NO_PADDING', () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = privateKey.export({ format: 'jwk' });
      const [n, e, d] = [fromB64url(jwk.n!), fromB64url(jwk.e!), fromB64url(jwk.d!)];
      for (let i = 0; i < 4; i++) {
        const m = fromBe(randomBytes(256)) % n;
        const c = modExp(m, e, n);
        assert.equal(c, fromBe(publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, toBe(m, 256))), 'm^e mod n');
        assert.equal(modExp(c, d, n), m, 'c^d mod n');
        assert.equal(fromBe(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, toBe(c, 256))), m, 'node decrypts ours');
      }
    });

    it('Wycheproof RSASSA-PKCS1-v1_5 2048/SHA-256: s^e mod n is the EMSA encoding exactly for valid signatures', () => {
      interface Test {
        tcId: number;
        msg: string;
        sig: string;
        result: 'valid' | 'invalid' | 'acceptable';
      }
      interface Group {
        publicKey: { modulus: string; publicExponent: string };
        sha: string;
        tests: Test[];
      }
      const file = 'rsa_signature_2048_sha256_test.json';
      const data = JSON.parse(readFileSync(join(vectorsDir(), file), 'utf8')) as {
        schema: string;
        numberOfTests: number;
        testGroups: Group[];
      };
      assert.equal(data.schema, 'rsassa_pkcs1_verify_schema_v1.json');
      assert.equal(
        data.testGroups.reduce((k, g) => k + g.tests.length, 0),
        data.numberOfTests,
        'the file holds every test it declares',
      );
      const digestInfo = Buffer.from('3031300d060960864801650304020105000420', 'hex');
      let valid = 0;
      let invalid = 0;
      for (const g of data.testGroups) {
        assert.equal(g.sha, 'SHA-256');
        const n = fromBe(Buffer.from(g.publicKey.modulus, 'hex'));
        const e = fromBe(Buffer.from(g.publicKey.publicExponent, 'hex'));
        const size = Math.ceil(bitLength(n) / 8);
        for (const t of g.tests) {
          const sig = Buffer.from(t.sig, 'hex');
          const s = fromBe(sig);
          // Signatures of the wrong length or not below n are rejected before any exponentiation.
          if (t.result === 'acceptable' || sig.length !== size || s >= n) continue;
          const h = createHash('sha256').update(Buffer.from(t.msg, 'hex')).digest();
          const em = Buffer.concat([
            Buffer.of(0, 1),
            Buffer.alloc(size - 3 - digestInfo.length - h.length, 0xff),
            Buffer.of(0),
            digestInfo,
            h,
          ]);
          const got = toBe(modExp(s, e, n), size);
          if (t.result === 'valid') {
            valid++;
            assert.equal(got.toString('hex'), em.toString('hex'), `tcId ${t.tcId}`);
          } else {
            invalid++;
            assert.notEqual(got.toString('hex'), em.toString('hex'), `tcId ${t.tcId} must not open to the right encoding`);
          }
        }
      }
      assert.ok(valid >= 5 && invalid >= 100, `${valid} valid and ${invalid} invalid signatures checked`);
    });

    it('writes the result little-endian over the whole output, zero-filled above it, nbits unchanged', () => {
      const out = room(64);
      assert.equal(processKeyOp(kop(CRK_MOD_EXP, [bn(4n), bn(13n), bn(497n)], [out])), 0);
      assert.deepEqual([...out.p], [445 & 0xff, 445 >> 8, 0, 0, 0, 0, 0, 0]);
      assert.equal(out.nbits, 64);
    });
  });

  describe('CRK_MOD_EXP_CRT (p, q, x, dp, dq, qinv)', () => {
    it('equals CRK_MOD_EXP with d and undoes publicEncrypt', () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = privateKey.export({ format: 'jwk' });
      const [n, d, p, q, dp, dq, qi] = [jwk.n, jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi].map((v) => fromB64url(v!)) as [
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
      ];
      for (let i = 0; i < 4; i++) {
        const m = fromBe(randomBytes(256)) % n;
        const c = fromBe(publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, toBe(m, 256)));
        const out = room(bitLength(n));
        assert.equal(processKeyOp(kop(CRK_MOD_EXP_CRT, [bn(p), bn(q), bn(c), bn(dp), bn(dq), bn(qi)], [out])), 0);
        assert.equal(readLe(out), m, 'recovers the plaintext');
        assert.equal(readLe(out), modExp(c, d, n), 'same as c^d mod n');
      }
    });

    it('refuses a qinv that is not q⁻¹ mod p (the order p, q, x, dp, dq, qinv matters)', () => {
      // p = 61, q = 53, e = 17: d = 2753, dp = 53, dq = 49, q⁻¹ mod p = 38.
      const ok = kop(CRK_MOD_EXP_CRT, [bn(61n), bn(53n), bn(65n), bn(53n), bn(49n), bn(38n)], [room(12)]);
      assert.equal(processKeyOp(ok), 0);
      assert.equal(readLe(ok.params[6]!), 65n ** 2753n % 3233n);
      // ubsec's order (p, q, dp, dq, qinv, x) read as the BSD one: qinv would be 65.
      const swapped = kop(CRK_MOD_EXP_CRT, [bn(61n), bn(53n), bn(53n), bn(49n), bn(38n), bn(65n)], [room(12)]);
      assert.equal(processKeyOp(swapped), E('EINVAL'));
    });
  });
});
