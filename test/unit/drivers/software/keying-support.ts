// Helpers of the keying tests (keying-*.test.ts): BSD keying parameters (little-endian integers,
// outputs after the inputs) built from and read back into bigints, and DSA keys from node:crypto.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

import { processKeyOp } from '../../../../src/drivers/software/keying.js';
import { CRK_DSA_SIGN, CRK_DSA_VERIFY, CRK_MOD_EXP } from '../../../../src/framework/constants.js';
import { CryptKop, type CrParam } from '../../../../src/framework/structures.js';
import { errnoOf } from '../../../../src/errno.js';
import { dsaNumbers, type DsaNumbers } from '../../../support/dsa-key.js';

export const E = (name: string): number => errnoOf(name);

export function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

export function fromBe(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

export function toBe(v: bigint, size: number): Buffer {
  const b = Buffer.from(v.toString(16).padStart(size * 2, '0'), 'hex');
  assert.equal(b.length, size, 'value fits');
  return b;
}

export function fromB64url(s: string): bigint {
  return fromBe(Buffer.from(s, 'base64url'));
}

/**
 * An input the way eng_cryptodev's bn2crparam makes it: nbits = significant bits, little-endian;
 * except 0, which takes one bit here because an empty parameter is refused.
 */
export function bn(v: bigint): CrParam {
  const nbits = Math.max(1, bitLength(v));
  return { p: toBe(v, Math.ceil(nbits / 8)).reverse(), nbits };
}

/** An output of `nbits` bits, pre-filled with 0xa5 so that untouched or unzeroed bytes show. */
export function room(nbits: number): CrParam {
  return { p: new Uint8Array(Math.ceil(nbits / 8)).fill(0xa5), nbits };
}

export function readLe(param: CrParam): bigint {
  return fromBe(Uint8Array.from(param.p.subarray(0, Math.ceil(param.nbits / 8))).reverse());
}

export function kop(op: number, inputs: CrParam[], outputs: CrParam[] = []): CryptKop {
  const krp = new CryptKop();
  krp.op = op;
  krp.iparams = inputs.length;
  krp.oparams = outputs.length;
  krp.params = [...inputs, ...outputs];
  return krp;
}

export function modExp(base: bigint, exp: bigint, m: bigint): bigint {
  const out = room(bitLength(m));
  assert.equal(processKeyOp(kop(CRK_MOD_EXP, [bn(base), bn(exp), bn(m)], [out])), 0);
  return readLe(out);
}

/** The DSA digest as eng_cryptodev passes it: the raw hash bytes. */
export function digestParam(digest: Uint8Array): CrParam {
  return { p: Uint8Array.from(digest), nbits: digest.length * 8 };
}

export function dsaSign(k: DsaNumbers, digest: Uint8Array): { r: bigint; s: bigint; rc: number } {
  const qbits = bitLength(k.q);
  const [r, s] = [room(qbits), room(qbits)];
  const rc = processKeyOp(kop(CRK_DSA_SIGN, [digestParam(digest), bn(k.p), bn(k.q), bn(k.g), bn(k.x)], [r, s]));
  return { r: readLe(r), s: readLe(s), rc };
}

export function dsaVerify(k: DsaNumbers, digest: Uint8Array, r: bigint, s: bigint): number {
  return processKeyOp(kop(CRK_DSA_VERIFY, [digestParam(digest), bn(k.p), bn(k.q), bn(k.g), bn(k.y), bn(r), bn(s)]));
}

/** r ‖ s, each big-endian on ceil(bits(q)/8) bytes: node's dsaEncoding 'ieee-p1363'. */
export function p1363(k: DsaNumbers, r: bigint, s: bigint): Buffer {
  const n = Math.ceil(bitLength(k.q) / 8);
  return Buffer.concat([toBe(r, n), toBe(s, n)]);
}

export function splitP1363(sig: Buffer): [bigint, bigint] {
  return [fromBe(sig.subarray(0, sig.length / 2)), fromBe(sig.subarray(sig.length / 2))];
}

export interface DsaPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  n: DsaNumbers;
}

export function dsaPair(modulusLength: number, divisorLength: number): DsaPair {
  const { privateKey, publicKey } = generateKeyPairSync('dsa', { modulusLength, divisorLength });
  return { privateKey, publicKey, n: dsaNumbers(privateKey, publicKey) };
}
