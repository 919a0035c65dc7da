// The software keying operations (CRK_*), checked against node:crypto's RSA, DSA and DH and
// against published RSA signatures, in the BSD parameter layout: little-endian integers,
// outputs after the inputs.
import assert from 'node:assert/strict';
import {
  constants,
  createDiffieHellman,
  createHash,
  generateKeyPairSync,
  getDiffieHellman,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { KEYING_MAX_MODULUS_BITS, KEYING_OPS, processKeyOp } from '../../../../src/drivers/software/keying.js';
import {
  CRK_DH_COMPUTE_KEY,
  CRK_DSA_SIGN,
  CRK_DSA_VERIFY,
  CRK_MAXPARAM,
  CRK_MOD_EXP,
  CRK_MOD_EXP_CRT,
} from '../../../../src/framework/constants.js';
import { CryptKop, type CrParam } from '../../../../src/framework/structures.js';
import { errnoOf } from '../../../../src/errno.js';
import { dsaNumbers, type DsaNumbers } from '../../../support/dsa-key.js';
import { vectorsDir } from '../../../support/wycheproof.js';

const E = (name: string): number => errnoOf(name);

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

function fromBe(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

function toBe(v: bigint, size: number): Buffer {
  const b = Buffer.from(v.toString(16).padStart(size * 2, '0'), 'hex');
  assert.equal(b.length, size, 'value fits');
  return b;
}

function fromB64url(s: string): bigint {
  return fromBe(Buffer.from(s, 'base64url'));
}

/**
 * An input the way eng_cryptodev's bn2crparam makes it: nbits = significant bits, little-endian;
 * except 0, which takes one bit here because an empty parameter is refused.
 */
function bn(v: bigint): CrParam {
  const nbits = Math.max(1, bitLength(v));
  return { p: toBe(v, Math.ceil(nbits / 8)).reverse(), nbits };
}

/** An output of `nbits` bits, pre-filled with 0xa5 so that untouched or unzeroed bytes show. */
function room(nbits: number): CrParam {
  return { p: new Uint8Array(Math.ceil(nbits / 8)).fill(0xa5), nbits };
}

function readLe(param: CrParam): bigint {
  return fromBe(Uint8Array.from(param.p.subarray(0, Math.ceil(param.nbits / 8))).reverse());
}

function kop(op: number, inputs: CrParam[], outputs: CrParam[] = []): CryptKop {
  const krp = new CryptKop();
  krp.op = op;
  krp.iparams = inputs.length;
  krp.oparams = outputs.length;
  krp.params = [...inputs, ...outputs];
  return krp;
}

function modExp(base: bigint, exp: bigint, m: bigint): bigint {
  const out = room(bitLength(m));
  assert.equal(processKeyOp(kop(CRK_MOD_EXP, [bn(base), bn(exp), bn(m)], [out])), 0);
  return readLe(out);
}

/** The DSA digest as eng_cryptodev passes it: the raw hash bytes. */
function digestParam(digest: Uint8Array): CrParam {
  return { p: Uint8Array.from(digest), nbits: digest.length * 8 };
}

function dsaSign(k: DsaNumbers, digest: Uint8Array): { r: bigint; s: bigint; rc: number } {
  const qbits = bitLength(k.q);
  const [r, s] = [room(qbits), room(qbits)];
  const rc = processKeyOp(kop(CRK_DSA_SIGN, [digestParam(digest), bn(k.p), bn(k.q), bn(k.g), bn(k.x)], [r, s]));
  return { r: readLe(r), s: readLe(s), rc };
}

function dsaVerify(k: DsaNumbers, digest: Uint8Array, r: bigint, s: bigint): number {
  return processKeyOp(kop(CRK_DSA_VERIFY, [digestParam(digest), bn(k.p), bn(k.q), bn(k.g), bn(k.y), bn(r), bn(s)]));
}

/** r ‖ s, each big-endian on ceil(bits(q)/8) bytes: node's dsaEncoding 'ieee-p1363'. */
function p1363(k: DsaNumbers, r: bigint, s: bigint): Buffer {
  const n = Math.ceil(bitLength(k.q) / 8);
  return Buffer.concat([toBe(r, n), toBe(s, n)]);
}

function splitP1363(sig: Buffer): [bigint, bigint] {
  return [fromBe(sig.subarray(0, sig.length / 2)), fromBe(sig.subarray(sig.length / 2))];
}

interface DsaPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  n: DsaNumbers;
}

function dsaPair(modulusLength: number, divisorLength: number): DsaPair {
  const { privateKey, publicKey } = generateKeyPairSync('dsa', { modulusLength, divisorLength });
  return { privateKey, publicKey, n: dsaNumbers(privateKey, publicKey) };
}

describe('keying operations (software)', () => {
  it('offers exactly the five crypto(9) keying operations', () => {
    assert.deepEqual([...KEYING_OPS].sort(), [CRK_MOD_EXP, CRK_MOD_EXP_CRT, CRK_DSA_SIGN, CRK_DSA_VERIFY, CRK_DH_COMPUTE_KEY].sort());
  });

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

  describe('CRK_DSA_SIGN / CRK_DSA_VERIFY', () => {
    let k256: DsaPair;
    let k224: DsaPair;
    before(() => {
      k256 = dsaPair(2048, 256);
      k224 = dsaPair(2048, 224);
    });

    it('the key numbers are consistent: y = g^x mod p, q | p − 1', () => {
      for (const { n } of [k256, k224]) {
        assert.equal(modExp(n.g, n.x, n.p), n.y);
        assert.equal((n.p - 1n) % n.q, 0n);
      }
    });

    it('our signatures verify with node:crypto (SHA-256, q of 256 and of 224 bits)', () => {
      for (const pair of [k256, k224]) {
        for (let i = 0; i < 3; i++) {
          const msg = randomBytes(40 + i);
          const { r, s, rc } = dsaSign(pair.n, createHash('sha256').update(msg).digest());
          assert.equal(rc, 0);
          assert.ok(r > 0n && r < pair.n.q && s > 0n && s < pair.n.q);
          const sig = p1363(pair.n, r, s);
          assert.ok(
            verify('sha256', msg, { key: pair.publicKey, dsaEncoding: 'ieee-p1363' }, sig),
            `q of ${bitLength(pair.n.q)} bits, message ${i}`,
          );
        }
      }
    });

    it('signs with a fresh k each time', () => {
      const digest = createHash('sha256').update('same message').digest();
      const a = dsaSign(k256.n, digest);
      const b = dsaSign(k256.n, digest);
      assert.notEqual(a.r, b.r);
      assert.equal(dsaVerify(k256.n, digest, a.r, a.s), 0);
      assert.equal(dsaVerify(k256.n, digest, b.r, b.s), 0);
    });

    it("node:crypto's signatures verify here; tampered ones fail with EBADMSG", () => {
      for (const pair of [k256, k224]) {
        const msg = randomBytes(64);
        const digest = createHash('sha256').update(msg).digest();
        const [r, s] = splitP1363(sign('sha256', msg, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }));
        assert.equal(dsaVerify(pair.n, digest, r, s), 0, 'genuine');
        assert.equal(dsaVerify(pair.n, digest, r ^ 1n, s), E('EBADMSG'), 'r changed');
        assert.equal(dsaVerify(pair.n, digest, r, s ^ 4n), E('EBADMSG'), 's changed');
        const other = Buffer.from(digest);
        other[5]! ^= 0x10;
        assert.equal(dsaVerify(pair.n, other, r, s), E('EBADMSG'), 'digest changed');
        assert.equal(dsaVerify(pair.n, digest, r + pair.n.q, s), E('EBADMSG'), 'r not below q');
        assert.equal(dsaVerify({ ...pair.n, y: modExp(pair.n.g, 12345n, pair.n.p) }, digest, r, s), E('EBADMSG'), 'another public key');
      }
    });

    it('uses the leftmost bits(q) bits of a longer digest, as node:crypto does', () => {
      const msg = randomBytes(32);
      const digest = createHash('sha512').update(msg).digest();
      const [r, s] = splitP1363(sign('sha512', msg, { key: k224.privateKey, dsaEncoding: 'ieee-p1363' }));
      assert.equal(dsaVerify(k224.n, digest, r, s), 0);
      // Bits past the first 224 do not take part.
      const tail = Buffer.from(digest);
      tail[63]! ^= 0xff;
      assert.equal(dsaVerify(k224.n, tail, r, s), 0);
      const mine = dsaSign(k224.n, digest);
      assert.ok(verify('sha512', msg, { key: k224.publicKey, dsaEncoding: 'ieee-p1363' }, p1363(k224.n, mine.r, mine.s)));
    });

    it('refuses broken keys and groups with EINVAL, short outputs with ERANGE', () => {
      const n = k256.n;
      const digest = createHash('sha256').update('x').digest();
      assert.equal(dsaSign({ ...n, x: n.q }, digest).rc, E('EINVAL'), 'x not below q');
      assert.equal(dsaSign({ ...n, q: n.q + 2n }, digest).rc, E('EINVAL'), 'q does not divide p − 1');
      assert.equal(dsaSign({ ...n, g: 1n }, digest).rc, E('EINVAL'), 'g = 1');
      assert.equal(dsaSign({ ...n, p: n.p + 1n }, digest).rc, E('EINVAL'), 'even p');
      assert.equal(dsaVerify({ ...n, y: 1n }, digest, 1n, 1n), E('EINVAL'), 'y = 1');
      const [r, s] = [room(255), room(256)];
      assert.equal(processKeyOp(kop(CRK_DSA_SIGN, [digestParam(digest), bn(n.p), bn(n.q), bn(n.g), bn(n.x)], [r, s])), E('ERANGE'));
      assert.ok(r.p.every((b) => b === 0xa5) && s.p.every((b) => b === 0xa5), 'outputs untouched on error');
      const odd = { p: new Uint8Array(4), nbits: 30 };
      assert.equal(
        processKeyOp(kop(CRK_DSA_VERIFY, [odd, bn(n.p), bn(n.q), bn(n.g), bn(n.y), bn(1n), bn(1n)])),
        E('EINVAL'),
        'digest of 30 bits',
      );
    });
  });

  describe('CRK_DH_COMPUTE_KEY (own x, peer y, p)', () => {
    it('agrees with node:crypto on the 2048-bit MODP group', () => {
      const group = getDiffieHellman('modp14');
      const prime = group.getPrime();
      const p = fromBe(prime);
      const alice = createDiffieHellman(prime, 2);
      const bob = createDiffieHellman(prime, 2);
      alice.generateKeys();
      bob.generateKeys();
      const out = room(bitLength(p));
      const krp = kop(CRK_DH_COMPUTE_KEY, [bn(fromBe(alice.getPrivateKey())), bn(fromBe(bob.getPublicKey())), bn(p)], [out]);
      assert.equal(processKeyOp(krp), 0);
      assert.equal(readLe(out), fromBe(bob.computeSecret(alice.getPublicKey())), "bob's view");
      assert.equal(readLe(out), fromBe(alice.computeSecret(bob.getPublicKey())), "alice's view");
    });

    it('refuses degenerate public keys and primes', () => {
      const p = 23n;
      const run = (x: bigint, y: bigint, m: bigint): number => processKeyOp(kop(CRK_DH_COMPUTE_KEY, [bn(x), bn(y), bn(m)], [room(8)]));
      assert.equal(run(6n, 5n, p), 0);
      for (const y of [1n, p - 1n, p, p + 5n]) assert.equal(run(6n, y, p), E('EINVAL'), `y = ${y}`);
      assert.equal(run(6n, 5n, 24n), E('EINVAL'), 'even p');
      assert.equal(run(6n, 2n, 3n), E('EINVAL'), 'p = 3');
      assert.equal(run(1n << 10n, 5n, p), E('E2BIG'), 'private key wider than p');
    });
  });

  describe('request checks', () => {
    const good = (): CryptKop => kop(CRK_MOD_EXP, [bn(4n), bn(13n), bn(497n)], [room(16)]);

    it('EOPNOTSUPP for an op it does not do', () => {
      for (const op of [5, 10, -1, 0.5]) {
        const krp = good();
        krp.op = op;
        assert.equal(processKeyOp(krp), E('EOPNOTSUPP'), `op ${op}`);
      }
    });

    it('EINVAL unless iparams and oparams are the BSD counts', () => {
      const counts: [number, number, number][] = [
        [CRK_MOD_EXP, 3, 1],
        [CRK_MOD_EXP_CRT, 6, 1],
        [CRK_DSA_SIGN, 5, 2],
        [CRK_DSA_VERIFY, 7, 0],
        [CRK_DH_COMPUTE_KEY, 3, 1],
      ];
      for (const [op, nin, nout] of counts) {
        for (const [i, o] of [
          [nin - 1, nout],
          [nin + 1, nout],
          [nin, nout + 1],
          [nin - 1, nout + 1],
        ] as [number, number][]) {
          const krp = new CryptKop();
          krp.op = op;
          krp.iparams = i;
          krp.oparams = o;
          krp.params = Array.from({ length: CRK_MAXPARAM }, () => bn(5n));
          assert.equal(processKeyOp(krp), E('EINVAL'), `op ${op} with ${i} in, ${o} out`);
        }
      }
    });

    it('EINVAL for missing, empty, oversized or inconsistent parameters', () => {
      const cases: [string, (krp: CryptKop) => void][] = [
        ['no output entry', (krp) => krp.params.pop()],
        ['an input that is not a parameter', (krp) => (krp.params[1] = undefined as unknown as CrParam)],
        ['bytes that are not a Uint8Array', (krp) => (krp.params[0] = { p: [4] as unknown as Uint8Array, nbits: 3 })],
        ['an empty input', (krp) => (krp.params[1] = { p: new Uint8Array(0), nbits: 0 })],
        ['fewer bytes than nbits', (krp) => (krp.params[2] = { p: Uint8Array.of(0xf1), nbits: 9 })],
        ['a value wider than nbits', (krp) => (krp.params[2] = { p: Uint8Array.of(0xf1), nbits: 4 })],
        ['nbits past 65536', (krp) => (krp.params[0] = { p: new Uint8Array(8193), nbits: 65537 })],
        ['a negative nbits', (krp) => (krp.params[3] = { p: new Uint8Array(2), nbits: -1 })],
        ['a fractional nbits', (krp) => (krp.params[3] = { p: new Uint8Array(2), nbits: 15.5 })],
        ['a zero modulus', (krp) => (krp.params[2] = { p: Uint8Array.of(0), nbits: 8 })],
        ['params that are not an array', (krp) => (krp.params = null as unknown as CrParam[])],
      ];
      for (const [what, spoil] of cases) {
        const krp = good();
        spoil(krp);
        assert.equal(processKeyOp(krp), E('EINVAL'), what);
      }
      assert.equal(processKeyOp(null as unknown as CryptKop), E('EINVAL'), 'no request');
    });

    it('ERANGE when the output cannot hold every result the modulus allows, and leaves it untouched', () => {
      // 4^13 mod 497 = 445 would fit in 9 bits, but 496 needs 9 bits too; 8 cannot hold either.
      const out = room(8);
      assert.equal(processKeyOp(kop(CRK_MOD_EXP, [bn(4n), bn(13n), bn(497n)], [out])), E('ERANGE'));
      assert.deepEqual([...out.p], [0xa5]);
      assert.equal(processKeyOp(kop(CRK_MOD_EXP, [bn(4n), bn(13n), bn(497n)], [room(9)])), 0);
      assert.equal(processKeyOp(kop(CRK_MOD_EXP, [bn(2n), bn(1n), bn(1n)], [room(0)])), 0, 'mod 1: the only result is 0');
    });

    it('E2BIG for a modulus past the driver limit or an exponent wider than its modulus', () => {
      const huge = (1n << BigInt(KEYING_MAX_MODULUS_BITS)) + 1n;
      assert.equal(processKeyOp(kop(CRK_MOD_EXP, [bn(2n), bn(3n), bn(huge)], [room(KEYING_MAX_MODULUS_BITS + 1)])), E('E2BIG'));
      assert.equal(processKeyOp(kop(CRK_MOD_EXP, [bn(2n), bn(1n << 9n), bn(497n)], [room(9)])), E('E2BIG'));
    });

    it('leaves status and callback alone', () => {
      const krp = good();
      krp.status = 1234;
      const cb = (): void => {};
      krp.callback = cb;
      assert.equal(processKeyOp(krp), 0);
      assert.equal(krp.status, 1234);
      assert.equal(krp.callback, cb);
    });
  });
});
