/**
 * ARC4 (the RC4 keystream generator), keys of 1 to 256 bytes. As in OpenBSD's cryptosoft,
 * every request starts the keystream afresh from the key: there is no IV and no state kept
 * between requests.
 */
import { checkKey, type SoftCipher } from './block.js';

/** A running ARC4 keystream. */
export class Arc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    checkKey(ARC4, key);
    const s = this.s;
    for (let i = 0; i < 256; i++) s[i] = i;
    let j = 0;
    for (let i = 0; i < 256; i++) {
      j = (j + s[i]! + key[i % key.length]!) & 255;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
    }
  }

  /** XORs the next `data.length` keystream bytes into a copy of `data`. */
  update(data: Uint8Array): Uint8Array {
    const s = this.s;
    const out = new Uint8Array(data.length);
    let { i, j } = this;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 255;
      j = (j + s[i]!) & 255;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
      out[n] = data[n]! ^ s[(s[i]! + t) & 255]!;
    }
    this.i = i;
    this.j = j;
    return out;
  }
}

/** ARC4 as cryptosoft runs it: encryption and decryption are the same XOR; the IV is unused. */
export const ARC4: SoftCipher = {
  name: 'ARC4',
  keyLength: (bytes) => bytes >= 1 && bytes <= 256,
  init(key) {
    checkKey(ARC4, key);
    const k = Uint8Array.from(key);
    return { run: (_encrypt, _iv, data) => new Arc4(k).update(data) };
  },
};
