// The software keying driver's checks of a request (ops, parameter counts and sizes, outputs),
// in the BSD parameter layout: little-endian integers, outputs after the inputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

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
import { bn, E, kop, room } from './keying-support.js';

describe('keying operations (software)', () => {
  it('offers exactly the five crypto(9) keying operations', () => {
    assert.deepEqual([...KEYING_OPS].sort(), [CRK_MOD_EXP, CRK_MOD_EXP_CRT, CRK_DSA_SIGN, CRK_DSA_VERIFY, CRK_DH_COMPUTE_KEY].sort());
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
