/**
 * The keying operations of crypto(9) (`krp_op` = CRK_*) done in software with BigInt, for a
 * driver's `kprocess`. {@link processKeyOp} computes one request synchronously, writes its
 * output parameters in place and returns 0 or an errno; it never throws and never touches
 * `krp.status` or the callback, which stay the caller's (kprocess sets the status, then kdone).
 *
 * Parameter order and counts are the BSD ones. The counts are those `cryptodev_key()` checks
 * (FreeBSD sys/opencrypto/cryptodev.c before 13.0, NetBSD sys/opencrypto/cryptodev.c); the
 * order is the one declared in nspvar.h of NetBSD's NetOctave NSP2000 driver (nsp) and the one
 * the /dev/crypto consumer, OpenSSL's engines/eng_cryptodev.c, fills in:
 *
 * | op | inputs | outputs |
 * |---|---|---|
 * | CRK_MOD_EXP | base, exponent, modulus | base^exponent mod modulus |
 * | CRK_MOD_EXP_CRT | p, q, x, dp, dq, qinv | x^d mod pq |
 * | CRK_DSA_SIGN | digest, p, q, g, x (private key) | r, s |
 * | CRK_DSA_VERIFY | digest, p, q, g, y (public key), r, s | none: the status says |
 * | CRK_DH_COMPUTE_KEY | x (own private key), y (peer's public key), p | y^x mod p |
 *
 * For CRK_MOD_EXP_CRT, OpenBSD's ubsec(4) reads a different order (p, q, dp, dq, qinv, x);
 * it disagrees with the consumer and with nsp, so it is not followed. `qinv` is q⁻¹ mod p
 * (OpenSSL's iqmp).
 *
 * Encoding: every parameter is a little-endian unsigned integer of `nbits` bits in the first
 * ceil(nbits/8) bytes of `p`, except the DSA digest, which eng_cryptodev passes as the raw hash
 * bytes (nsp leaves it out of its byte-swapped "bignums"): it is read big-endian and its
 * leftmost bits(q) bits are used (FIPS 186-4 §4.6). An output is written over its first
 * ceil(nbits/8) bytes, little-endian, zero-filled above the value; its `nbits` is left as the
 * caller set it, the buffer's capacity, as the BSD drivers do.
 *
 * Errors (returned, as this host numbers them):
 * - EOPNOTSUPP: an op this module does not do (ubsec's answer to an unknown op).
 * - EINVAL: wrong iparams/oparams for the op (nsp's check_key_parms), a missing parameter,
 *   `nbits` 0 on an input, above 65536 (the cryptodev limit) or larger than `p` holds, a value
 *   wider than its `nbits`, and parameters that are mathematically unusable: a zero modulus,
 *   an even or tiny DSA/DH prime, q not dividing p−1, g, x or y out of range, qinv·q ≢ 1 mod p.
 * - E2BIG: a modulus above {@link KEYING_MAX_MODULUS_BITS}, or an exponent (dp, dq, a DH
 *   private key, the CRK_MOD_EXP exponent) with more significant bits than its modulus, as
 *   ubsec(4) does; both bound the work done on the event loop.
 * - ERANGE: an output smaller than the largest result the modulus allows (ubsec's check that
 *   the result bits are at least the modulus bits), so the answer never depends on the data.
 * - EBADMSG: CRK_DSA_VERIFY on a signature that does not verify, including r or s outside
 *   (0, q). The BSD consumers treat any nonzero status as "not verified" (nsp sets 1, not an
 *   errno); EBADMSG is what kcrypto returns for every failed authentication.
 *
 * This is a reference implementation for a software driver: BigInt arithmetic is not constant
 * time, so it leaks timing about exponents and keys to anyone who can measure it.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { CRK_DH_COMPUTE_KEY, CRK_DSA_SIGN, CRK_DSA_VERIFY, CRK_MOD_EXP, CRK_MOD_EXP_CRT } from '../../framework/constants.js';
import type { CrParam, CryptKop } from '../../framework/structures.js';
import { errnoOf } from '../../errno.js';

/** The CRK_* operations {@link processKeyOp} performs (for crypto_kregister). */
export const KEYING_OPS: readonly number[] = Object.freeze([
  CRK_MOD_EXP,
  CRK_MOD_EXP_CRT,
  CRK_DSA_SIGN,
  CRK_DSA_VERIFY,
  CRK_DH_COMPUTE_KEY,
]);

/** Largest `crp_nbits` of one parameter that /dev/crypto accepts (FreeBSD and OpenBSD). */
export const KEYING_MAX_PARAM_BITS = 65536;

/**
 * Largest modulus (n, p, q) this driver exponentiates over. Work grows with the cube of the
 * size and kprocess runs on the event loop: a 16384-bit exponentiation takes seconds already.
 */
export const KEYING_MAX_MODULUS_BITS = 16384;

/** Input and output counts per op, as cryptodev_key() requires them. */
const COUNTS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [CRK_MOD_EXP, [3, 1]],
  [CRK_MOD_EXP_CRT, [6, 1]],
  [CRK_DSA_SIGN, [5, 2]],
  [CRK_DSA_VERIFY, [7, 0]],
  [CRK_DH_COMPUTE_KEY, [3, 1]],
]);

/** DSA signing draws a new k when r or s comes out 0; past this many draws the group is broken. */
const DSA_SIGN_ATTEMPTS = 64;

type ErrnoName = 'EINVAL' | 'E2BIG' | 'ERANGE' | 'EBADMSG' | 'EOPNOTSUPP';

/** An errno by name, carried out of the computation instead of a result. */
class KeyOpError {
  constructor(readonly code: ErrnoName) {}
}

function fail(code: ErrnoName): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- a plain value: no stack to capture, caught within this file
  throw new KeyOpError(code);
}

/**
 * Performs the keying operation `krp` describes: reads its `iparams` inputs, writes its
 * `oparams` outputs (which follow the inputs in `krp.params`) in place.
 *
 * @returns 0, or an errno (see the module comment); outputs are untouched on error.
 */
export function processKeyOp(krp: CryptKop): number {
  try {
    run(krp);
    return 0;
  } catch (err) {
    if (err instanceof KeyOpError) return errnoOf(err.code);
    // kprocess runs inside the framework's dispatch loop, where a throw would strand the
    // request and the queue behind it: anything unforeseen is reported as a bad request.
    return errnoOf('EINVAL');
  }
}

function run(krp: CryptKop): void {
  if (krp === null || typeof krp !== 'object') fail('EINVAL');
  const counts = COUNTS.get(krp.op);
  if (!counts) fail('EOPNOTSUPP');
  const [nin, nout] = counts;
  if (krp.iparams !== nin || krp.oparams !== nout) fail('EINVAL');
  if (!Array.isArray(krp.params) || krp.params.length < nin + nout) fail('EINVAL');
  const params = krp.params.slice(0, nin + nout).map(checkParam);
  const inputs = params.slice(0, nin);
  const outputs = params.slice(nin);
  switch (krp.op) {
    case CRK_MOD_EXP:
      return modExp(inputs, outputs);
    case CRK_MOD_EXP_CRT:
      return modExpCrt(inputs, outputs);
    case CRK_DSA_SIGN:
      return dsaSign(inputs, outputs);
    case CRK_DSA_VERIFY:
      return dsaVerify(inputs);
    default:
      return dhComputeKey(inputs, outputs);
  }
}

// ---- operations ----------------------------------------------------------------------------

function modExp(inputs: CrParam[], outputs: CrParam[]): void {
  const [base, exp, m] = ints(inputs) as Ints<3>;
  checkModulus(m);
  checkExponent(exp, m);
  const out = outputs[0]!;
  checkRoom(out, m - 1n);
  writeInt(out, modPow(base, exp, m));
}

function modExpCrt(inputs: CrParam[], outputs: CrParam[]): void {
  const [p, q, x, dp, dq, qinv] = ints(inputs) as Ints<6>;
  checkModulus(p);
  checkModulus(q);
  if (p < 2n || q < 2n || p === q) fail('EINVAL');
  checkExponent(dp, p);
  checkExponent(dq, q);
  // Garner's recombination needs q⁻¹ mod p; a wrong one would give a wrong answer silently.
  if ((qinv * q) % p !== 1n) fail('EINVAL');
  const n = p * q;
  const out = outputs[0]!;
  checkRoom(out, n - 1n);
  const m1 = modPow(x, dp, p);
  const m2 = modPow(x, dq, q);
  const h = (qinv * mod(m1 - m2, p)) % p;
  writeInt(out, m2 + h * q);
}

function dsaSign(inputs: CrParam[], outputs: CrParam[]): void {
  const [p, q, g, x] = ints(inputs.slice(1)) as Ints<4>;
  checkDsaGroup(p, q, g);
  if (x <= 0n || x >= q) fail('EINVAL');
  const z = dsaDigest(inputs[0]!, q);
  const [rOut, sOut] = outputs as [CrParam, CrParam];
  checkRoom(rOut, q - 1n);
  checkRoom(sOut, q - 1n);
  const qbits = bitLength(q);
  for (let attempt = 0; attempt < DSA_SIGN_ATTEMPTS; attempt++) {
    // 64 extra random bits make the reduction's bias negligible (FIPS 186-4 B.2.1).
    const k = (fromBigEndian(randomBytes(Math.ceil((qbits + 64) / 8))) % (q - 1n)) + 1n;
    const r = modPow(g, k, p) % q;
    if (r === 0n) continue;
    const kinv = modInverse(k, q);
    if (kinv === undefined) continue;
    const s = (kinv * ((z + x * r) % q)) % q;
    if (s === 0n) continue;
    writeInt(rOut, r);
    writeInt(sOut, s);
    return;
  }
  fail('EINVAL');
}

function dsaVerify(inputs: CrParam[]): void {
  const [p, q, g, y, r, s] = ints(inputs.slice(1)) as Ints<6>;
  checkDsaGroup(p, q, g);
  if (y <= 1n || y >= p) fail('EINVAL');
  const z = dsaDigest(inputs[0]!, q);
  if (r <= 0n || r >= q || s <= 0n || s >= q) fail('EBADMSG');
  const w = modInverse(s, q);
  if (w === undefined) fail('EBADMSG');
  const u1 = (z * w) % q;
  const u2 = (r * w) % q;
  const v = ((modPow(g, u1, p) * modPow(y, u2, p)) % p) % q;
  if (v !== r) fail('EBADMSG');
}

function dhComputeKey(inputs: CrParam[], outputs: CrParam[]): void {
  const [x, y, p] = ints(inputs) as Ints<3>;
  checkModulus(p);
  checkOddPrimeShape(p);
  checkExponent(x, p);
  if (x === 0n) fail('EINVAL');
  // 0, 1 and p−1 confine the shared value to {0, 1, ±1}: refused like OpenSSL's DH_check_pub_key.
  if (y <= 1n || y >= p - 1n) fail('EINVAL');
  const out = outputs[0]!;
  checkRoom(out, p - 1n);
  writeInt(out, modPow(y, x, p));
}

// ---- validation ----------------------------------------------------------------------------

/** A parameter that is structurally usable: its bytes exist and agree with `nbits`. */
function checkParam(param: CrParam | undefined): CrParam {
  if (param === null || typeof param !== 'object' || !(param.p instanceof Uint8Array)) fail('EINVAL');
  const { nbits } = param;
  if (!Number.isSafeInteger(nbits) || nbits < 0 || nbits > KEYING_MAX_PARAM_BITS) fail('EINVAL');
  if (param.p.length < Math.ceil(nbits / 8)) fail('EINVAL');
  return param;
}

/** `N` integers: run() checked the counts, so the destructured inputs all exist. */
type Ints<N extends number, T extends bigint[] = []> = T['length'] extends N ? T : Ints<N, [...T, bigint]>;

/** The inputs as integers; an empty input is refused rather than read as 0. */
function ints(inputs: CrParam[]): bigint[] {
  return inputs.map((param) => {
    if (param.nbits === 0) fail('EINVAL');
    const v = fromLittleEndian(param.p.subarray(0, Math.ceil(param.nbits / 8)));
    if (bitLength(v) > param.nbits) fail('EINVAL');
    return v;
  });
}

function checkModulus(m: bigint): void {
  if (m === 0n) fail('EINVAL');
  if (bitLength(m) > KEYING_MAX_MODULUS_BITS) fail('E2BIG');
}

/** Bounds the work: an exponent is never wider than its modulus in RSA, DSA or DH. */
function checkExponent(e: bigint, m: bigint): void {
  if (bitLength(e) > bitLength(m)) fail('E2BIG');
}

/** DSA and DH primes: odd and above 3, so that the groups they define are not degenerate. */
function checkOddPrimeShape(p: bigint): void {
  if (p <= 3n || (p & 1n) === 0n) fail('EINVAL');
}

function checkDsaGroup(p: bigint, q: bigint, g: bigint): void {
  checkModulus(p);
  checkOddPrimeShape(p);
  if (q < 2n || (p - 1n) % q !== 0n) fail('EINVAL');
  if (g <= 1n || g >= p) fail('EINVAL');
}

/** ERANGE unless `out` can hold every value up to `max`. */
function checkRoom(out: CrParam, max: bigint): void {
  if (out.nbits < bitLength(max)) fail('ERANGE');
}

/** The DSA digest: raw hash bytes (so whole bytes), big-endian, cut to the leftmost bits(q) bits. */
function dsaDigest(param: CrParam, q: bigint): bigint {
  if (param.nbits === 0 || param.nbits % 8 !== 0) fail('EINVAL');
  const bytes = param.p.subarray(0, param.nbits / 8);
  const z = fromBigEndian(bytes);
  const extra = bytes.length * 8 - bitLength(q);
  return extra > 0 ? z >> BigInt(extra) : z;
}

// ---- arithmetic ----------------------------------------------------------------------------

/** base^exp mod m by left-to-right exponentiation over 4-bit windows. */
function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  const b = mod(base, m);
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * b) % m);
  let r = 1n;
  for (const digit of exp.toString(16)) {
    r = (r * r) % m;
    r = (r * r) % m;
    r = (r * r) % m;
    r = (r * r) % m;
    const d = parseInt(digit, 16);
    if (d !== 0) r = (r * table[d]!) % m;
  }
  return r;
}

/** a⁻¹ mod m, or undefined when gcd(a, m) ≠ 1. */
function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  return oldR === 1n ? mod(oldS, m) : undefined;
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function bitLength(v: bigint): number {
  if (v === 0n) return 0;
  const h = v.toString(16);
  return (h.length - 1) * 4 + parseInt(h[0]!, 16).toString(2).length;
}

function fromBigEndian(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
}

function fromLittleEndian(bytes: Uint8Array): bigint {
  return fromBigEndian(Uint8Array.from(bytes).reverse());
}

/** Writes `v` (which checkRoom showed fits) little-endian over the output's ceil(nbits/8) bytes. */
function writeInt(out: CrParam, v: bigint): void {
  const size = Math.ceil(out.nbits / 8);
  let h = v.toString(16);
  if (h.length % 2 !== 0) h = `0${h}`;
  const le = Buffer.from(h, 'hex').reverse();
  out.p.fill(0, 0, size);
  out.p.set(le.subarray(0, size), 0);
}
