/**
 * cryptosoft's algorithms beyond what node:crypto's default provider does directly, as
 * transforms (../../common/transforms.ts): DES, Blowfish, CAST-128, Skipjack and ARC4 (node:crypto when
 * this process's OpenSSL has the cipher, else the TypeScript ones here), MD5-KPDK and
 * SHA1-KPDK, NULL-HMAC, DEFLATE, and GMAC on its own.
 */
import { createCipheriv } from 'node:crypto';
import { Buffer, constants as bufferConstants } from 'node:buffer';

import * as C from '../../../framework/constants.js';
import { invalid } from '../../../kernel/bridge/status.js';
import { SharedKey, softwareAuth, softwareCipher } from '../node-crypto.js';
import type { AuthTransform, CipherTransform, CompTransform, Transform } from '../../common/transforms.js';
import { ARC4 } from './arc4.js';
import { cbc, checkKey, type SoftCipher } from './block.js';
import { BLOWFISH } from './blowfish.js';
import { CAST128 } from './cast128.js';
import { deflateCompress, deflateDecompress } from '../deflate.js';
import { DES } from './des.js';
import { KPDK_LENGTH, KpdkState, type KpdkHash } from '../kpdk.js';
import { SKIPJACK } from './skipjack.js';

/** Opens the transform of one algorithm with the session's key (null: nothing of its own to do). */
export type LegacyOpener = (key: Uint8Array) => Transform | null;

/** The FreeBSD key limits (enc_xform key sizes) cryptosoft applies, in bytes. */
const range = (min: number, max: number) => (bytes: number) => bytes >= min && bytes <= max;

/** The TypeScript ciphers, in the mode cryptosoft runs them. */
export const SOFT_CIPHERS = {
  des: cbc(DES),
  blowfish: cbc(BLOWFISH, range(5, 56)),
  cast128: cbc(CAST128, range(5, 16)),
  skipjack: cbc(SKIPJACK),
  arc4: ARC4,
} as const satisfies Record<string, SoftCipher>;

const nodeHas = new Map<string, boolean>();

/** Whether this process's OpenSSL has cipher `name` (probed once, with a key it takes). */
function opensslHas(name: string, key: Uint8Array, ivLength: number): boolean {
  let has = nodeHas.get(name);
  if (has === undefined) {
    try {
      createCipheriv(name, key, ivLength === 0 ? null : Buffer.alloc(ivLength));
      has = true;
    } catch {
      has = false;
    }
    nodeHas.set(name, has);
  }
  return has;
}

/** A TypeScript cipher as a transform; a per-request key gets its own key schedule. */
export function softCipherTransform(soft: SoftCipher, key: Uint8Array): CipherTransform {
  checkKey(soft, key);
  const ctx = soft.init(key);
  return {
    kind: 'cipher',
    run: (encrypt, iv, data, key2) => {
      if (key2) checkKey(soft, key2);
      return (key2 ? soft.init(key2) : ctx).run(encrypt, iv, data);
    },
    close: () => {},
  };
}

/**
 * A cipher OpenSSL 3 keeps in its legacy provider: node:crypto's `nodeName` when this process
 * has it, else `soft`. Keys are held to FreeBSD's limits either way.
 */
function legacyCipher(nodeName: string | null, soft: SoftCipher, ivLength: number): LegacyOpener {
  return (key) => {
    checkKey(soft, key);
    if (!nodeName || !opensslHas(nodeName, key, ivLength)) return softCipherTransform(soft, key);
    const t = softwareCipher(nodeName, key, ivLength);
    return {
      ...t,
      run: (encrypt, iv, data, key2) => {
        if (key2) checkKey(soft, key2);
        return t.run(encrypt, iv, data, key2);
      },
    };
  };
}

/** MD5-KPDK or SHA1-KPDK with `key` (a per-request key replaces it). */
export function kpdkTransform(hash: KpdkHash, key: Uint8Array): AuthTransform {
  const k = new SharedKey(Buffer.from(key));
  return softwareAuth(KPDK_LENGTH[hash], (key2) => new KpdkState(hash, key2 ?? k.bytes), undefined, k);
}

/** FreeBSD's null_final() writes 12 zero bytes: the MAC is those, whatever the key. */
const NULL_HMAC_LENGTH = 12;

/** NULL-HMAC: any key, a MAC of zeros. */
export function nullHmacTransform(): AuthTransform {
  const state = { update: () => {}, digest: () => Buffer.alloc(NULL_HMAC_LENGTH), copy: () => state };
  return softwareAuth(NULL_HMAC_LENGTH, () => state);
}

const gmacEinval = (what: string) => invalid('EINVAL', `GMAC: ${what}`, 'cryptosoft');

/**
 * GMAC on its own (FreeBSD's swcr_gmac): the GCM tag of the region taken as associated data
 * with no plaintext, under the descriptor's IV (CRD_F_IV_EXPLICIT; 12 bytes unless the
 * descriptor says otherwise). `keyBytes` is the AES key length of the 128/192/256 variants,
 * null for CRYPTO_AES_NIST_GMAC (any AES key). Without a key of such a length the entry is the
 * auth half of an AES-GCM pair only: null.
 */
function gmacOpener(keyBytes: number | null): LegacyOpener {
  const fits = (n: number): boolean => (keyBytes === null ? [16, 24, 32].includes(n) : n === keyBytes);
  return (key) => {
    if (!fits(key.length)) return null;
    const k = Buffer.from(key);
    const transform: AuthTransform = {
      kind: 'auth',
      digestLength: 16,
      digest: (data, key2, iv) => {
        const kk = key2 ?? k;
        if (!fits(kk.length)) throw gmacEinval(`no ${kk.length}-byte keys`);
        if (!iv || iv.length === 0) throw gmacEinval('the IV comes with the descriptor (CRD_F_IV_EXPLICIT)');
        const g = createCipheriv(`aes-${kk.length * 8}-gcm` as 'aes-128-gcm', kk, iv);
        g.setAAD(Array.isArray(data) ? Buffer.concat(data) : data);
        g.final();
        return g.getAuthTag();
      },
      update: () => {
        throw gmacEinval('no running state: the IV comes with each request');
      },
      final: () => {
        throw gmacEinval('no running state: the IV comes with each request');
      },
      copy: () => transform,
      close: () => {
        k.fill(0);
      },
    };
    return transform;
  };
}

/**
 * DEFLATE. FreeBSD's swcr_compdec() keeps the data as it is when compressing does not make it
 * smaller, so the result's length tells the consumer (IPComp) whether it was compressed.
 */
export function deflateTransform(): CompTransform {
  return {
    kind: 'comp',
    run: (compress, data) => {
      if (!compress) return deflateDecompress(data, bufferConstants.MAX_LENGTH);
      const out = deflateCompress(data);
      return out.length < data.length ? out : data;
    },
    close: () => {},
  };
}

/** cryptosoft's entries for these algorithms, by CRYPTO_* id. */
export const LEGACY_ALGORITHMS: readonly (readonly [number, LegacyOpener])[] = [
  [C.CRYPTO_DES_CBC, legacyCipher('des-cbc', SOFT_CIPHERS.des, 8)],
  [C.CRYPTO_BLF_CBC, legacyCipher('bf-cbc', SOFT_CIPHERS.blowfish, 8)],
  [C.CRYPTO_CAST_CBC, legacyCipher('cast5-cbc', SOFT_CIPHERS.cast128, 8)],
  [C.CRYPTO_SKIPJACK_CBC, legacyCipher(null, SOFT_CIPHERS.skipjack, 8)],
  [C.CRYPTO_ARC4, legacyCipher('rc4', SOFT_CIPHERS.arc4, 0)],
  [C.CRYPTO_MD5_KPDK, (k) => kpdkTransform('md5', k)],
  [C.CRYPTO_SHA1_KPDK, (k) => kpdkTransform('sha1', k)],
  [C.CRYPTO_NULL_HMAC, () => nullHmacTransform()],
  [C.CRYPTO_DEFLATE_COMP, () => deflateTransform()],
  [C.CRYPTO_AES_NIST_GMAC, gmacOpener(null)],
  [C.CRYPTO_AES_128_NIST_GMAC, gmacOpener(16)],
  [C.CRYPTO_AES_192_NIST_GMAC, gmacOpener(24)],
  [C.CRYPTO_AES_256_NIST_GMAC, gmacOpener(32)],
];
