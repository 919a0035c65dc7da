// The software keying operations CRK_DSA_SIGN, CRK_DSA_VERIFY and CRK_DH_COMPUTE_KEY, checked
// against node:crypto's DSA and DH, in the BSD parameter layout: little-endian integers, outputs
// after the inputs.
import assert from 'node:assert/strict';
import { createDiffieHellman, createHash, getDiffieHellman, randomBytes, sign, verify } from 'node:crypto';
import { before, describe, it } from 'node:test';

import { processKeyOp } from '../../../../src/drivers/software/keying.js';
import { CRK_DH_COMPUTE_KEY, CRK_DSA_SIGN, CRK_DSA_VERIFY } from '../../../../src/framework/constants.js';
import {
  bitLength,
  bn,
  digestParam,
  dsaPair,
  dsaSign,
  dsaVerify,
  E,
  fromBe,
  kop,
  modExp,
  p1363,
  readLe,
  room,
  splitP1363,
  type DsaPair,
} from './keying-support.js';

describe('keying operations (software)', () => {
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
});
