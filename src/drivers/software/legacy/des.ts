/**
 * DES (FIPS 46-3), from the standard's tables: the bit permutations become byte-indexed
 * lookup tables and the S-boxes are merged with the P permutation, all built once at load.
 * Parity bits are ignored and weak keys accepted: FreeBSD's des1_setkey() checks neither.
 */
import { be32, checkKey, putBe32, type BlockCipher, type BlockCipherAlgorithm } from './block.js';

/* FIPS 46-3 tables; bit 1 is the most significant bit. */
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41,
  33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
const FP = [
  40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29, 36, 4, 44, 12,
  52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, 34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
];
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7,
  62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
  44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
/** S1..S8, each 4 rows of 16. */
const S = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8, 4, 1, 14, 8, 13, 6, 2, 11,
    15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5, 0, 14, 7, 11, 10, 4, 13, 1,
    5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1, 13, 6, 4, 9, 8, 15, 3, 0,
    11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9, 10, 6, 9, 0, 12, 11, 7, 13,
    15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6, 4, 2, 1, 11, 10, 13, 7, 8,
    15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8, 9, 14, 15, 5, 2, 8, 12, 3,
    7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6, 1, 4, 11, 13, 12, 3, 7, 14,
    10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2, 7, 11, 4, 1, 9, 12, 14, 2,
    0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
  ],
];

/**
 * A 64-bit permutation as 8 tables (one per input byte) of 256 (hi, lo) pairs: the output is
 * the OR of the eight entries the input's bytes select.
 */
function byteTables(table: readonly number[]): Uint32Array {
  const t = new Uint32Array(8 * 256 * 2);
  for (let b = 0; b < 8; b++) {
    for (let v = 0; v < 256; v++) {
      let hi = 0;
      let lo = 0;
      table.forEach((from, o) => {
        const bit = from - 1;
        if (bit >> 3 !== b || !((v >> (7 - (bit & 7))) & 1)) return;
        if (o < 32) hi |= 1 << (31 - o);
        else lo |= 1 << (63 - o);
      });
      t[(b * 256 + v) * 2] = hi >>> 0;
      t[(b * 256 + v) * 2 + 1] = lo >>> 0;
    }
  }
  return t;
}

const IP_T = byteTables(IP);
const FP_T = byteTables(FP);

/** S-box j with P applied to its output, indexed by the 6-bit input (first bit most significant). */
const SP: Uint32Array[] = S.map((box, j) => {
  const t = new Uint32Array(64);
  for (let v = 0; v < 64; v++) {
    const row = ((v >> 4) & 2) | (v & 1);
    const col = (v >> 1) & 15;
    const s = box[row * 16 + col]! << (28 - 4 * j);
    let out = 0;
    P.forEach((from, o) => {
      if ((s >>> (32 - from)) & 1) out |= 1 << (31 - o);
    });
    t[v] = out >>> 0;
  }
  return t;
});

/** Applies a byteTables() permutation to (hi, lo); returns it in `out`. */
function permute(t: Uint32Array, hi: number, lo: number, out: Uint32Array): void {
  let h = 0;
  let l = 0;
  for (let b = 0; b < 8; b++) {
    const byte = (b < 4 ? hi >>> (24 - 8 * b) : lo >>> (24 - 8 * (b - 4))) & 255;
    const i = (b * 256 + byte) * 2;
    h |= t[i]!;
    l |= t[i + 1]!;
  }
  out[0] = h >>> 0;
  out[1] = l >>> 0;
}

function rotl(x: number, n: number): number {
  n &= 31;
  return n === 0 ? x : ((x << n) | (x >>> (32 - n))) >>> 0;
}

/** The 16 round keys, each as eight 6-bit groups (the order E and the S-boxes use them). */
function keySchedule(key: Uint8Array): Uint8Array {
  const bit = (i: number): number => (key[(i - 1) >> 3]! >> (7 - ((i - 1) & 7))) & 1;
  const cd = PC1.map(bit);
  const ks = new Uint8Array(16 * 8);
  for (let round = 0; round < 16; round++) {
    for (let s = 0; s < SHIFTS[round]!; s++) {
      cd.splice(0, 28, ...cd.slice(1, 28), cd[0]!);
      cd.splice(28, 28, ...cd.slice(29, 56), cd[28]!);
    }
    for (let g = 0; g < 8; g++) {
      let v = 0;
      for (let k = 0; k < 6; k++) v = (v << 1) | cd[PC2[g * 6 + k]! - 1]!;
      ks[round * 8 + g] = v;
    }
  }
  return ks;
}

/** The round function f(R, K): E by rotations (group j is bits 4j..4j+5 of R, bit 0 = 32). */
function f(r: number, ks: Uint8Array, at: number): number {
  let out = 0;
  for (let j = 0; j < 8; j++) out |= SP[j]![(rotl(r, 4 * j + 5) & 63) ^ ks[at + j]!]!;
  return out;
}

class Des implements BlockCipher {
  readonly blockSize = 8;
  private readonly ks: Uint8Array;
  private readonly lr = new Uint32Array(2);

  constructor(key: Uint8Array) {
    this.ks = keySchedule(key);
  }

  private crypt(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number, decrypt: boolean): void {
    permute(IP_T, be32(src, srcOffset), be32(src, srcOffset + 4), this.lr);
    let l = this.lr[0]!;
    let r = this.lr[1]!;
    for (let i = 0; i < 16; i++) {
      const t = (l ^ f(r, this.ks, (decrypt ? 15 - i : i) * 8)) >>> 0;
      l = r;
      r = t;
    }
    permute(FP_T, r, l, this.lr);
    putBe32(dst, dstOffset, this.lr[0]!);
    putBe32(dst, dstOffset + 4, this.lr[1]!);
  }

  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    this.crypt(src, srcOffset, dst, dstOffset, false);
  }

  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    this.crypt(src, srcOffset, dst, dstOffset, true);
  }
}

/** DES: 8-byte blocks, 8-byte keys (56 bits and 8 parity bits). */
export const DES: BlockCipherAlgorithm = {
  name: 'DES',
  blockSize: 8,
  keyLength: (bytes) => bytes === 8,
  create(key) {
    checkKey(DES, key);
    return new Des(key);
  },
};
