/**
 * The Wycheproof vectors of one algorithm on one driver, by schema: AEADs (GCM, CCM,
 * ChaCha20-Poly1305), AES-CBC with PKCS#7 padding, AES-XTS, and MACs (HMAC, CMAC). Valid
 * vectors must give the published bytes exactly and decrypt back; a tampered tag must be
 * refused with KCryptoError EBADMSG; a parameter the interface does not offer (a GCM IV that
 * is not 96 bits, a CCM tag of 13 bytes, AES-192-XTS, …) must be refused as node:crypto
 * refuses it, and counts as `inexpressible`, not as a pass.
 */
import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';

import { AeadSession, CipherSession, HashSession } from '../../api/session.js';
import type { CheckContext } from '../check.js';
import { assertSameBytes, hex, pkcs7Pad, pkcs7Unpad, unhex } from '../bytes.js';
import { kcryptoError, misuseError } from '../expect.js';
import type { AeadFamily, CipherFamily, MacFamily } from '../families.js';
import type { AeadTest, IndCpaTest, MacTest, WycheproofFile } from '../vectors.js';
import {
  acceptable,
  Case,
  INEXPRESSIBLE_EXPECTED,
  LastSession,
  refusedAsForgery,
  refusedAsInexpressible,
  runCase,
  wycheproofLabel,
} from './vector-cases.js';

/** The vectors to run, with their group; the check picks them (all, or a sample) by depth. */
export type Picked<G, T> = readonly { group: G; test: T }[];

type Progress = () => void;

/** GCM, CCM, ChaCha20-Poly1305. */
export async function aeadVectors(
  ctx: CheckContext,
  f: AeadFamily,
  v: WycheproofFile<{ tagSize: number }>,
  picked: Picked<{ tagSize: number }, AeadTest>,
  step: Progress,
): Promise<void> {
  const sessions = new LastSession<AeadSession>();
  try {
    for (const { group, test } of picked) {
      const [key, iv, aad, msg, ct, tag] = [test.key, test.iv, test.aad, test.msg, test.ct, test.tag].map(unhex) as [
        Buffer,
        Buffer,
        Buffer,
        Buffer,
        Buffer,
        Buffer,
      ];
      const tagLength = group.tagSize / 8;
      const c = new Case(f.kernelName, { key: test.key, iv: test.iv, aad: test.aad, tagLength });
      await runCase(ctx, wycheproofLabel(v.file, test), c, async () => {
        const open = (): Promise<AeadSession> => ctx.open(AeadSession, { cipher: f.kernelName, key, tagLength });
        if (!f.keyLengths.includes(key.length) || !f.ivLengths.includes(iv.length) || !f.tagLengths.includes(tagLength)) {
          c.request('encrypt', msg, INEXPRESSIBLE_EXPECTED);
          return refusedAsInexpressible(c, open, [
            (s) => s.encrypt(msg, { iv, aad }).then((o) => o.ciphertext),
            (s) => s.decrypt(ct, { iv, aad, tag }),
          ]);
        }
        const s = await sessions.get(`${test.key}/${tagLength}`, open);
        if (test.result === 'valid') {
          c.request('encrypt', msg, Buffer.concat([ct, tag]));
          const out = await s.encrypt(msg, { iv, aad });
          c.gave(Buffer.concat([out.ciphertext, out.tag]));
          assertSameBytes(out.ciphertext, ct, 'ciphertext');
          assertSameBytes(out.tag, tag, 'tag');
          c.request('decrypt', ct, msg, { tag: test.tag });
          assertSameBytes(c.gave(await s.decrypt(ct, { iv, aad, tag })), msg, 'decrypted');
          return 'valid';
        }
        if (test.result === 'acceptable') {
          c.request('decrypt', ct, msg, { tag: test.tag });
          return acceptable(c, s.decrypt(ct, { iv, aad, tag }), msg, s.driver);
        }
        c.request('decrypt', ct, 'KCryptoError EBADMSG', { tag: test.tag });
        await refusedAsForgery(c, s.decrypt(ct, { iv, aad, tag }), s.driver);
        return 'invalid tag refused (EBADMSG)';
      });
      step();
    }
  } finally {
    await sessions.close();
  }
}

/** AES-CBC with PKCS#7 padding applied and checked here: sessions are raw. */
export async function cbcPkcs5Vectors(
  ctx: CheckContext,
  f: CipherFamily,
  v: WycheproofFile<unknown>,
  picked: Picked<unknown, IndCpaTest>,
  step: Progress,
): Promise<void> {
  const sessions = new LastSession<CipherSession>();
  try {
    for (const { test } of picked) {
      const [key, iv, msg, ct] = [test.key, test.iv, test.msg, test.ct].map(unhex) as [Buffer, Buffer, Buffer, Buffer];
      const c = new Case(f.kernelName, { key: test.key, iv: test.iv });
      await runCase(ctx, wycheproofLabel(v.file, test), c, async () => {
        const s = await sessions.get(test.key, () => ctx.open(CipherSession, { cipher: f.kernelName, key }));
        // Invalid vectors are padding failures: the raw decryption itself must succeed.
        c.request('decrypt', ct, test.result === 'invalid' ? 'a raw decryption whose PKCS#7 padding is malformed' : pkcs7Pad(msg));
        const raw = c.gave(await s.decrypt(ct, { iv }));
        if (test.result === 'invalid') {
          assert.equal(pkcs7Unpad(raw), null, `padding of ${hex(raw.subarray(-16))} accepted`);
          return 'bad padding (raw decrypt ok, unpad refused)';
        }
        const pt = pkcs7Unpad(raw);
        assert.ok(pt, 'padding of a valid vector refused');
        assertSameBytes(pt, msg, 'decrypted');
        const padded = pkcs7Pad(msg);
        c.request('encrypt', padded, ct);
        assertSameBytes(c.gave((await s.encrypt(padded, { iv })).ciphertext), ct, 'ciphertext');
        return 'valid';
      });
      step();
    }
  } finally {
    await sessions.close();
  }
}

/**
 * AES-XTS. The interface takes the 16-byte tweak; Wycheproof's shorter IVs are the data-unit
 * number's low bytes, so the raw IV must be refused (ERR_CRYPTO_INVALID_IV) and its zero extension
 * must give the published ciphertext. 48-byte keys (AES-192-XTS) are not offered:
 * ERR_CRYPTO_INVALID_KEYLEN. A partial block on a driver that takes whole blocks only is that
 * driver's refusal: KCryptoError EINVAL.
 */
export async function xtsVectors(
  ctx: CheckContext,
  f: CipherFamily,
  v: WycheproofFile<unknown>,
  picked: Picked<unknown, IndCpaTest>,
  step: Progress,
): Promise<void> {
  for (const { test } of picked) {
    const [key, iv, msg, ct] = [test.key, test.iv, test.msg, test.ct].map(unhex) as [Buffer, Buffer, Buffer, Buffer];
    const c = new Case(f.kernelName, { key: test.key, iv: test.iv });
    await runCase(ctx, wycheproofLabel(v.file, test), c, async () => {
      const open = (): Promise<CipherSession> => ctx.open(CipherSession, { cipher: f.kernelName, key });
      if (!f.keyLengths.includes(key.length)) {
        c.request('encrypt', msg, INEXPRESSIBLE_EXPECTED);
        return refusedAsInexpressible(c, open, [(s) => s.encrypt(msg, { iv }).then((o) => o.ciphertext)]);
      }
      const s = await open();
      try {
        let outcome = 'valid';
        if (iv.length !== f.ivLength) {
          c.request('encrypt', msg, 'TypeError ERR_CRYPTO_INVALID_IV');
          await assert.rejects(
            s.encrypt(msg, { iv }).then((o) => c.gave(o.ciphertext)),
            misuseError('TypeError', 'ERR_CRYPTO_INVALID_IV'),
          );
          outcome = 'valid with the IV zero-extended (raw short IV: ERR_CRYPTO_INVALID_IV)';
        }
        const tweak = Buffer.alloc(f.ivLength);
        iv.copy(tweak);
        const extended = { iv: hex(tweak) };
        if (msg.length % s.alignment !== 0) {
          // A driver that takes whole blocks only (XTS through /dev/crypto): no ciphertext stealing.
          c.request('encrypt', msg, `KCryptoError EINVAL (the driver takes whole ${s.alignment}-byte blocks)`, extended);
          await assert.rejects(
            s.encrypt(msg, { iv: tweak }).then((o) => c.gave(o.ciphertext)),
            kcryptoError('EINVAL', s.driver),
          );
          return `${outcome}; partial block refused by the driver (EINVAL)`;
        }
        c.request('encrypt', msg, ct, extended);
        assertSameBytes(c.gave((await s.encrypt(msg, { iv: tweak })).ciphertext), ct, 'ciphertext');
        c.request('decrypt', ct, msg, extended);
        assertSameBytes(c.gave(await s.decrypt(ct, { iv: tweak })), msg, 'decrypted');
        return outcome;
      } finally {
        await s.close();
      }
    });
    step();
  }
}

/** HMAC and CMAC: the tag is the first tagSize/8 bytes of the MAC. */
export async function macVectors(
  ctx: CheckContext,
  f: MacFamily,
  v: WycheproofFile<{ tagSize: number }>,
  picked: Picked<{ tagSize: number }, MacTest>,
  step: Progress,
): Promise<void> {
  const sessions = new LastSession<HashSession>();
  try {
    for (const { group, test } of picked) {
      const [key, msg, tag] = [test.key, test.msg, test.tag].map(unhex) as [Buffer, Buffer, Buffer];
      const tagLength = group.tagSize / 8;
      const c = new Case(f.kernelName, { key: test.key, tagLength });
      await runCase(ctx, wycheproofLabel(v.file, test), c, async () => {
        const spec = f.hash ? { hmac: f.hash, key } : { cmac: 'aes', key };
        const open = (): Promise<HashSession> => ctx.open(HashSession, spec);
        if (f.keyLengths && !f.keyLengths.includes(key.length)) {
          c.request('digest', msg, INEXPRESSIBLE_EXPECTED);
          return refusedAsInexpressible(c, open, [(s) => s.digest(msg)]);
        }
        const s = await sessions.get(test.key, open);
        c.request('digest', msg, test.result === 'invalid' ? `anything but ${test.tag} (a tampered tag)` : tag);
        const mac = c.gave((await s.digest(msg)).subarray(0, tagLength));
        if (test.result === 'invalid') {
          assert.notEqual(hex(mac), test.tag, 'a tampered tag matches');
          return 'invalid tag (no match)';
        }
        assertSameBytes(mac, tag, 'tag');
        return test.result;
      });
      step();
    }
  } finally {
    await sessions.close();
  }
}
