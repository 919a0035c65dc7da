/**
 * Skipjack (NIST, "SKIPJACK and KEA Algorithm Specifications", version 2.0, 29 May 1998):
 * 64-bit blocks as four 16-bit words, an 80-bit key, 32 rounds of rules A and B.
 */
import { Buffer } from 'node:buffer';
import { checkKey, type BlockCipher, type BlockCipherAlgorithm } from './block.js';

/** The F-table of the specification (a permutation of the bytes). */
export const SKIPJACK_F: Readonly<Uint8Array> = Uint8Array.from(
  Buffer.from(
    'a3d70983f848f6f4b321157899b1aff9e72d4d8ace4cca2e5295d91e4e3844280adf02a017f1606812b77ac3e9fa3d5396846bbaf2639a197caee5f5f7166aa2' +
      '39b67b0fc193811beeb41aead0912fb855b9da853f41bfe05a58805f660bd89035d5c0a733066569450094566d989b7697fcb2c2b0fedb20e1ebd6e4dd474a1d' +
      '42ed9e6e493ccd4327d207d4dec7671889cb301f8dc68faac874dcc95d5c31a47088612c9f0d2b8750825464267d0340344b1c73d1c4fd3bccfb7fabe63e5ba5' +
      'ad04239c145122f02979717eff8c0ee20cefbc72756f37a1ecd38e628b8610e8087711be924f24c532369dcff3a6bbac5e6ca9135725b5e3bda83a0105592a46',
    'hex',
  ),
);

const F = SKIPJACK_F;

class Skipjack implements BlockCipher {
  readonly blockSize = 8;
  private readonly cv: Uint8Array;

  constructor(key: Uint8Array) {
    this.cv = Uint8Array.from(key);
  }

  /** The permutation G of step k (0-based), on a 16-bit word. */
  private g(k: number, w: number): number {
    const cv = this.cv;
    const g1 = w >>> 8;
    const g2 = w & 255;
    const g3 = F[g2 ^ cv[(4 * k) % 10]!]! ^ g1;
    const g4 = F[g3 ^ cv[(4 * k + 1) % 10]!]! ^ g2;
    const g5 = F[g4 ^ cv[(4 * k + 2) % 10]!]! ^ g3;
    const g6 = F[g5 ^ cv[(4 * k + 3) % 10]!]! ^ g4;
    return (g5 << 8) | g6;
  }

  /** G inverted: the same F lookups in reverse order. */
  private gInverse(k: number, w: number): number {
    const cv = this.cv;
    const g5 = w >>> 8;
    const g6 = w & 255;
    const g4 = F[g5 ^ cv[(4 * k + 3) % 10]!]! ^ g6;
    const g3 = F[g4 ^ cv[(4 * k + 2) % 10]!]! ^ g5;
    const g2 = F[g3 ^ cv[(4 * k + 1) % 10]!]! ^ g4;
    const g1 = F[g2 ^ cv[(4 * k) % 10]!]! ^ g3;
    return (g1 << 8) | g2;
  }

  encryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    let [w1, w2, w3, w4] = words(src, srcOffset);
    for (let k = 0; k < 32; k++) {
      const counter = k + 1;
      // Rounds 1-8 and 17-24 are rule A, 9-16 and 25-32 rule B.
      if ((k >> 3) % 2 === 0) {
        const g = this.g(k, w1);
        [w1, w2, w3, w4] = [g ^ w4 ^ counter, g, w2, w3];
      } else {
        [w1, w2, w3, w4] = [w4, this.g(k, w1), w1 ^ w2 ^ counter, w3];
      }
    }
    store(dst, dstOffset, w1, w2, w3, w4);
  }

  decryptBlock(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    let [w1, w2, w3, w4] = words(src, srcOffset);
    for (let k = 31; k >= 0; k--) {
      const counter = k + 1;
      const g = this.gInverse(k, w2);
      if ((k >> 3) % 2 === 0) [w1, w2, w3, w4] = [g, w3, w4, w1 ^ w2 ^ counter];
      else [w1, w2, w3, w4] = [g, g ^ w3 ^ counter, w4, w1];
    }
    store(dst, dstOffset, w1, w2, w3, w4);
  }
}

function words(b: Uint8Array, off: number): [number, number, number, number] {
  return [
    (b[off]! << 8) | b[off + 1]!,
    (b[off + 2]! << 8) | b[off + 3]!,
    (b[off + 4]! << 8) | b[off + 5]!,
    (b[off + 6]! << 8) | b[off + 7]!,
  ];
}

function store(b: Uint8Array, off: number, ...w: number[]): void {
  w.forEach((v, i) => {
    b[off + 2 * i] = v >>> 8;
    b[off + 2 * i + 1] = v;
  });
}

/** Skipjack: 8-byte blocks, 10-byte keys. */
export const SKIPJACK: BlockCipherAlgorithm = {
  name: 'Skipjack',
  blockSize: 8,
  keyLength: (bytes) => bytes === 10,
  create(key) {
    checkKey(SKIPJACK, key);
    return new Skipjack(key);
  },
};
