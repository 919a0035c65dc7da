// Wycheproof known-answer vectors on every driver of each algorithm. Valid vectors must
// encrypt (or MAC) to the published bytes and decrypt back; tampered ones must be refused
// (EBADMSG for an AEAD, a non-matching tag for a MAC, a bad padding for CBC-PKCS5); vectors
// whose parameters the interface does not offer (a GCM IV that is not 96 bits, a CCM tag of
// 13 bytes, AES-192-XTS, …) must be refused as node:crypto refuses them (ERR_CRYPTO_INVALID_IV,
// _KEYLEN, _AUTH_TAG), never silently skipped. Each test
// prints how many vectors fell in each class.
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';

import { AeadSession, CipherSession, HashSession, type Session } from '../../src/index.js';
import { describeDrivers, driverCases, openAs, type DriverCase } from '../support/drivers.js';
import { describeError, kcryptoError, misuseError } from '../support/errors.js';
import { family, type AeadFamily, type CipherFamily, type Family, type MacFamily } from '../support/families.js';
import { assertSameBytes, hex, pkcs7Pad, pkcs7Unpad, unhex } from '../support/hex.js';
import { eachTest, loadWycheproof } from '../support/wycheproof.js';

/** How many vectors ended in each outcome, and every failure (not just the first). */
class Tally {
  private readonly counts = new Map<string, number>();
  private readonly failures: string[] = [];

  /** Runs one vector's check; it returns the outcome to count, or throws. */
  async check(test: { tcId: number; comment: string; flags: string[] }, fn: () => Promise<string>): Promise<void> {
    try {
      const outcome = await fn();
      this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
    } catch (err) {
      this.failures.push(`tcId ${test.tcId} [${test.flags.join(',')}] ${test.comment}: ${describeError(err)}`);
    }
  }

  /** Prints the counts and fails with every failing vector listed. */
  report(t: TestContext, total: number, where: string): void {
    const parts = [...this.counts].map(([k, n]) => `${n} ${k}`);
    t.diagnostic(`${total} vectors: ${parts.join(', ')}${this.failures.length ? `, ${this.failures.length} FAILED` : ''}`);
    assert.equal(
      this.failures.length,
      0,
      `${where}: ${this.failures.length} of ${total} vectors failed:\n${this.failures.slice(0, 25).join('\n')}`,
    );
  }
}

/**
 * Keeps the session of the last key: vectors sharing a key (a valid one and its tampered
 * variants) are adjacent, and holding one session at a time bounds the open descriptors.
 */
class LastSession<S extends Session> {
  private id = '';
  private session: S | undefined;

  async get(id: string, open: () => Promise<S>): Promise<S> {
    if (this.session && id === this.id) return this.session;
    await this.close();
    this.session = await open();
    this.id = id;
    return this.session;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }
}

/** The misuse errors of a parameter the interface does not offer, by code. */
const INEXPRESSIBLE = {
  ERR_CRYPTO_INVALID_KEYLEN: 'RangeError',
  ERR_CRYPTO_INVALID_AUTH_TAG: 'TypeError',
  ERR_CRYPTO_INVALID_IV: 'TypeError',
} as const;

/** Asserts `err` is node:crypto's refusal of a key, tag or IV length; returns its code. */
function inexpressible(err: unknown): string {
  const code = String((err as { code?: unknown } | null)?.code);
  const cls = INEXPRESSIBLE[code as keyof typeof INEXPRESSIBLE];
  assert.ok(cls, `expected a key, tag or IV length refused as node:crypto refuses it, got ${describeError(err)}`);
  misuseError(cls, code)(err);
  return code;
}

/**
 * Asserts a parameter set the interface does not offer is refused as node:crypto refuses it: at
 * open, or else by every request that carries it.
 */
async function refusedAsInexpressible<S extends Session>(
  open: () => Promise<S>,
  uses: readonly ((s: S) => Promise<unknown>)[],
): Promise<string> {
  let s: S;
  try {
    s = await open();
  } catch (err) {
    return `inexpressible (${inexpressible(err)} at open)`;
  }
  const codes = new Set<string>();
  try {
    for (const use of uses)
      await assert.rejects(use(s), (err: unknown) => {
        codes.add(inexpressible(err));
        return true;
      });
  } finally {
    await s.close();
  }
  return `inexpressible (${[...codes].join(', ')} per request)`;
}

/** An `acceptable` vector may be refused (EBADMSG) or accepted, but never decrypt to other bytes. */
async function acceptable(decryption: Promise<Buffer>, msg: Buffer, driver: string): Promise<string> {
  let pt: Buffer;
  try {
    pt = await decryption;
  } catch (err) {
    kcryptoError('EBADMSG', driver)(err);
    return 'acceptable (refused)';
  }
  assertSameBytes(pt, msg, 'decrypted');
  return 'acceptable (accepted)';
}

async function aeadVectors(t: TestContext, f: AeadFamily, c: DriverCase, file: string): Promise<void> {
  const v = loadWycheproof(file, 'aead_test_schema_v1.json');
  const tally = new Tally();
  const sessions = new LastSession<AeadSession>();
  try {
    for (const { group, test } of eachTest(v)) {
      await tally.check(test, async () => {
        const [key, iv, aad, msg, ct, tag] = [test.key, test.iv, test.aad, test.msg, test.ct, test.tag].map(unhex) as [
          Buffer,
          Buffer,
          Buffer,
          Buffer,
          Buffer,
          Buffer,
        ];
        const tagLength = group.tagSize / 8;
        const open = (): Promise<AeadSession> => openAs(AeadSession, c, { cipher: f.kernelName, key, tagLength });
        if (!f.keyLengths.includes(key.length) || !f.ivLengths.includes(iv.length) || !f.tagLengths.includes(tagLength)) {
          return refusedAsInexpressible(open, [(s) => s.encrypt(msg, { iv, aad }), (s) => s.decrypt(ct, { iv, aad, tag })]);
        }
        const s = await sessions.get(`${hex(key)}/${tagLength}`, open);
        if (test.result === 'valid') {
          const out = await s.encrypt(msg, { iv, aad });
          assertSameBytes(out.ciphertext, ct, 'ciphertext');
          assertSameBytes(out.tag, tag, 'tag');
          assertSameBytes(await s.decrypt(ct, { iv, aad, tag }), msg, 'decrypted');
          return 'valid';
        }
        if (test.result === 'acceptable') return acceptable(s.decrypt(ct, { iv, aad, tag }), msg, s.driver);
        await assert.rejects(s.decrypt(ct, { iv, aad, tag }), kcryptoError('EBADMSG', s.driver));
        return 'tampered (EBADMSG)';
      });
    }
  } finally {
    await sessions.close();
  }
  tally.report(t, v.numberOfTests, `${file} on ${c.label}`);
}

/** AES-CBC with PKCS#7 padding applied and checked here: sessions are raw. */
async function cbcPkcs5Vectors(t: TestContext, f: CipherFamily, c: DriverCase, file: string): Promise<void> {
  const v = loadWycheproof(file, 'ind_cpa_test_schema_v1.json');
  const tally = new Tally();
  for (const { test } of eachTest(v)) {
    await tally.check(test, async () => {
      const [key, iv, msg, ct] = [test.key, test.iv, test.msg, test.ct].map(unhex) as [Buffer, Buffer, Buffer, Buffer];
      const s = await openAs(CipherSession, c, { cipher: f.kernelName, key });
      try {
        // Invalid vectors are padding failures: the raw decryption itself must succeed.
        const raw = await s.decrypt(ct, { iv });
        if (test.result === 'invalid') {
          assert.equal(pkcs7Unpad(raw), null, `padding of ${hex(raw.subarray(-16))} accepted`);
          return 'bad padding (raw decrypt ok, unpad refused)';
        }
        assertSameBytes((await s.encrypt(pkcs7Pad(msg), { iv })).ciphertext, ct, 'ciphertext');
        const pt = pkcs7Unpad(raw);
        assert.ok(pt, 'padding of a valid vector refused');
        assertSameBytes(pt, msg, 'decrypted');
        return 'valid';
      } finally {
        await s.close();
      }
    });
  }
  tally.report(t, v.numberOfTests, `${file} on ${c.label}`);
}

/**
 * AES-XTS. The interface takes the 16-byte tweak; Wycheproof's shorter IVs are the data-unit
 * number's low bytes, so the raw IV must be refused (ERR_CRYPTO_INVALID_IV) and its zero extension
 * must give the published ciphertext. 48-byte keys (AES-192-XTS) are not offered:
 * ERR_CRYPTO_INVALID_KEYLEN. A partial block on a driver that takes whole blocks only is that
 * driver's refusal: KCryptoError EINVAL.
 */
async function xtsVectors(t: TestContext, f: CipherFamily, c: DriverCase, file: string): Promise<void> {
  const v = loadWycheproof(file, 'ind_cpa_test_schema_v1.json');
  const tally = new Tally();
  for (const { test } of eachTest(v)) {
    await tally.check(test, async () => {
      const [key, iv, msg, ct] = [test.key, test.iv, test.msg, test.ct].map(unhex) as [Buffer, Buffer, Buffer, Buffer];
      const open = (): Promise<CipherSession> => openAs(CipherSession, c, { cipher: f.kernelName, key });
      if (!f.keyLengths.includes(key.length)) return refusedAsInexpressible(open, [(s) => s.encrypt(msg, { iv })]);
      const s = await open();
      try {
        let outcome = 'valid';
        if (iv.length !== f.ivLength) {
          await assert.rejects(s.encrypt(msg, { iv }), misuseError('TypeError', 'ERR_CRYPTO_INVALID_IV'));
          outcome = 'valid with the IV zero-extended (raw short IV: ERR_CRYPTO_INVALID_IV)';
        }
        const tweak = Buffer.alloc(f.ivLength);
        iv.copy(tweak);
        if (msg.length % s.alignment !== 0) {
          // A driver that takes whole blocks only (XTS through /dev/crypto): no ciphertext stealing.
          await assert.rejects(s.encrypt(msg, { iv: tweak }), kcryptoError('EINVAL', s.driver));
          return `${outcome}; partial block refused by the driver (EINVAL)`;
        }
        assertSameBytes((await s.encrypt(msg, { iv: tweak })).ciphertext, ct, 'ciphertext');
        assertSameBytes(await s.decrypt(ct, { iv: tweak }), msg, 'decrypted');
        return outcome;
      } finally {
        await s.close();
      }
    });
  }
  tally.report(t, v.numberOfTests, `${file} on ${c.label}`);
}

/** HMAC and CMAC: the tag is the first tagSize/8 bytes of the MAC. */
async function macVectors(t: TestContext, f: MacFamily, c: DriverCase, file: string): Promise<void> {
  const v = loadWycheproof(file, 'mac_test_schema_v1.json');
  const tally = new Tally();
  const sessions = new LastSession<HashSession>();
  try {
    for (const { group, test } of eachTest(v)) {
      await tally.check(test, async () => {
        const [key, msg, tag] = [test.key, test.msg, test.tag].map(unhex) as [Buffer, Buffer, Buffer];
        const spec = f.hash ? { hmac: f.hash, key } : { cmac: 'aes', key };
        const open = (): Promise<HashSession> => openAs(HashSession, c, spec);
        if (f.keyLengths && !f.keyLengths.includes(key.length)) return refusedAsInexpressible(open, [(s) => s.digest(msg)]);
        const s = await sessions.get(hex(key), open);
        const mac = (await s.digest(msg)).subarray(0, group.tagSize / 8);
        if (test.result === 'invalid') {
          assert.notEqual(hex(mac), hex(tag), 'a tampered tag matches');
          return 'tampered (no match)';
        }
        assertSameBytes(mac, tag, 'tag');
        return test.result;
      });
    }
  } finally {
    await sessions.close();
  }
  tally.report(t, v.numberOfTests, `${file} on ${c.label}`);
}

type Runner<F extends Family> = (t: TestContext, f: F, c: DriverCase, file: string) => Promise<void>;

/** One vector file run on every driver of its algorithm. */
async function declare<F extends Family>(file: string, f: F, run: Runner<F>): Promise<void> {
  const cases = await driverCases(f);
  describeDrivers(f, cases, (c, options) => {
    it(`Wycheproof ${file}`, options, (t) => run(t, f, c, file));
  });
}

const aead = (kernelName: string): AeadFamily => family(kernelName) as AeadFamily;
const cipher = (kernelName: string): CipherFamily => family(kernelName) as CipherFamily;
const mac = (kernelName: string): MacFamily => family(kernelName) as MacFamily;

await declare('aes_gcm_test.json', aead('gcm(aes)'), aeadVectors);
await declare('aes_ccm_test.json', aead('ccm(aes)'), aeadVectors);
await declare('chacha20_poly1305_test.json', aead('rfc7539(chacha20,poly1305)'), aeadVectors);
await declare('aes_cbc_pkcs5_test.json', cipher('cbc(aes)'), cbcPkcs5Vectors);
await declare('aes_xts_test.json', cipher('xts(aes)'), xtsVectors);
for (const [file, name] of [
  ['hmac_sha1_test.json', 'hmac(sha1)'],
  ['hmac_sha224_test.json', 'hmac(sha224)'],
  ['hmac_sha256_test.json', 'hmac(sha256)'],
  ['hmac_sha384_test.json', 'hmac(sha384)'],
  ['hmac_sha512_test.json', 'hmac(sha512)'],
  ['hmac_sha3_256_test.json', 'hmac(sha3-256)'],
  ['aes_cmac_test.json', 'cmac(aes)'],
] as const) {
  await declare(file, mac(name), macVectors);
}
