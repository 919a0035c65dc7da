/**
 * The `parameters` check: bad parameters are refused with the exact error. Misuse (a key, IV
 * or tag of the wrong size, a length the mode cannot take) throws as node:crypto does, the
 * same class and code on every driver; what the driver itself refuses (a request over its
 * `maxRequestBytes`, a length its hardware cannot take, a tag that does not verify) is a
 * KCryptoError with the code, an errno, the syscall and the driver's name.
 */
import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { AeadSession, CipherSession, HashSession, type Session } from '../../api/session.js';
import type { SessionSpec } from '../../api/open-session.js';
import { hex } from '../bytes.js';
import type { Check, CheckContext, Reproducer, SessionClass } from '../check.js';
import { describeError, misuseError } from '../expect.js';
import { randomKeys, refAead, refCipher, refDigest, specOf, type AeadFamily, type CipherFamily, type Family } from '../families.js';
import { bounded, errorMismatch, sessionClassOf } from './requests.js';

/** One bad input: its name says what is wrong and what it must give. */
interface Case {
  name: string;
  /** Resolves when right, with the outcome to count it under where that is not 'refused as documented'. */
  run: () => Promise<unknown>;
  /** The input in bytes, where it is one request. */
  reproducer?: Reproducer;
}

/** Rejects with the misuse error `cls`/`code` (thrown synchronously counts: node:crypto throws). */
async function misuse(p: () => Promise<unknown>, cls: 'TypeError' | 'RangeError' | 'Error', code: string): Promise<void> {
  await assert.rejects(async () => bounded(p(), `expected ${code}`), misuseError(cls, code));
}

/** Rejects with a complete KCryptoError `code` from `driver`. */
async function refused(p: () => Promise<unknown>, code: string, driver: string): Promise<void> {
  let value: unknown;
  try {
    value = await bounded(p(), `expected ${code}`);
  } catch (err) {
    const wrong = errorMismatch(err, code, driver);
    if (wrong !== undefined) assert.fail(wrong);
    return;
  }
  assert.fail(`resolved (${value instanceof Uint8Array ? `${value.length} bytes` : typeof value}), expected a KCryptoError ${code}`);
}

/** Opens a session, runs `fn` on it, closes it (bounded). */
async function using<S extends Session, R>(
  ctx: CheckContext,
  kind: SessionClass<S>,
  spec: SessionSpec,
  fn: (s: S) => Promise<R>,
): Promise<R> {
  const s = await bounded(ctx.open(kind, spec), `open ${ctx.family.kernelName}`);
  try {
    return await fn(s);
  } finally {
    await bounded(s.close(), 'close()');
  }
}

/** Key lengths that are wrong for the family: one short of each accepted length (all at `full`), and 0. */
function badKeyLengths(lengths: readonly number[], full: boolean): number[] {
  const bad = new Set(full ? [0, ...lengths.map((n) => n - 1), ...lengths.map((n) => n + 1)] : [lengths[0]! - 1]);
  return [...bad].filter((n) => n >= 0 && !lengths.includes(n));
}

function keyCases(ctx: CheckContext, f: Family): Case[] {
  const lengths = f.kind === 'hash' ? undefined : f.kind === 'mac' ? f.keyLengths : f.keyLengths;
  if (!lengths) return [];
  return badKeyLengths(lengths, ctx.depth === 'full').map((n) => {
    const keys = { ...randomKeys(f), key: randomBytes(n) };
    return {
      name: `key of ${n} bytes: RangeError ERR_CRYPTO_INVALID_KEYLEN`,
      run: () =>
        misuse(
          () => ctx.open(sessionClassOf(f), specOf(f, keys, f.kind === 'aead' ? f.tagLengths[0] : undefined)),
          'RangeError',
          'ERR_CRYPTO_INVALID_KEYLEN',
        ),
    };
  });
}

/** A request over the session's maxRequestBytes is E2BIG; one of exactly that many bytes works. */
/** Returns the outcome to count. */
async function oversize(ctx: CheckContext, s: Session, keys: { key: Buffer; authKey?: Buffer }): Promise<string> {
  const max = (s as CipherSession | AeadSession | HashSession).maxRequestBytes;
  if (max === undefined) return 'oversize: n/a, no maxRequestBytes (any length works)';
  const f = ctx.family;
  if (s instanceof HashSession) {
    await refused(() => s.digest(Buffer.alloc(max + 1)), 'E2BIG', s.driver);
    const data = randomBytes(max);
    assert.ok(
      (await bounded(s.digest(data), 'digest')).equals(refDigest(f as never, keys.key, [data])),
      `digest of ${max} bytes (maxRequestBytes)`,
    );
  } else if (s instanceof CipherSession) {
    const a = s.alignment;
    const cf = f as CipherFamily;
    const iv = cf.ivLength > 0 ? { iv: randomBytes(cf.ivLength) } : {};
    await refused(() => s.encrypt(Buffer.alloc((Math.floor(max / a) + 1) * a), iv), 'E2BIG', s.driver);
    const data = randomBytes(Math.floor(max / a) * a);
    const out = await bounded(s.encrypt(data, iv), 'encrypt');
    assert.ok(
      out.ciphertext.equals(refCipher(cf, keys.key, iv.iv ?? null, data)),
      `encryption of ${data.length} bytes (maxRequestBytes ${max})`,
    );
  } else if (s instanceof AeadSession) {
    const af = f as AeadFamily;
    const iv = randomBytes(af.ivLengths[0]!);
    const room = max - s.tagLength;
    await refused(() => s.encrypt(Buffer.alloc(Math.floor(room / af.alignment + 1) * af.alignment), { iv }), 'E2BIG', s.driver);
    const data = randomBytes(Math.floor(room / af.alignment) * af.alignment);
    const out = await bounded(s.encrypt(data, { iv }), 'encrypt');
    const ref = refAead(af, keys, iv, new Uint8Array(0), data, s.tagLength);
    assert.ok(
      out.ciphertext.equals(ref.ciphertext) && out.tag.equals(ref.tag),
      `encryption of ${data.length} bytes (maxRequestBytes ${max})`,
    );
  }
  return 'oversize: E2BIG past maxRequestBytes';
}

function cipherCases(ctx: CheckContext, f: CipherFamily): Case[] {
  const keys = randomKeys(f);
  const spec = specOf(f, keys);
  const data = randomBytes(32);
  const iv = f.ivLength > 0 ? { iv: randomBytes(f.ivLength) } : {};
  const both = (d: Buffer, options: { iv?: Buffer } | undefined, cls: 'TypeError' | 'RangeError', code: string) =>
    using(ctx, CipherSession, spec, async (s) => {
      await misuse(() => s.encrypt(d, options), cls, code);
      await misuse(() => s.decrypt(d, options), cls, code);
    });
  const out: Case[] = [];
  if (f.ivLength > 0) {
    for (const n of ctx.depth === 'full' ? [0, 8, 12, 15, 17, 32] : [12])
      out.push({
        name: `IV of ${n} bytes: TypeError ERR_CRYPTO_INVALID_IV`,
        run: () => both(data, { iv: randomBytes(n) }, 'TypeError', 'ERR_CRYPTO_INVALID_IV'),
      });
    out.push({ name: 'no IV: TypeError ERR_INVALID_ARG_TYPE', run: () => both(data, undefined, 'TypeError', 'ERR_INVALID_ARG_TYPE') });
  } else {
    out.push({
      name: 'an IV where the mode takes none: TypeError ERR_CRYPTO_INVALID_IV',
      run: () => both(data, { iv: randomBytes(16) }, 'TypeError', 'ERR_CRYPTO_INVALID_IV'),
    });
  }
  if (f.alignment > 1)
    for (const n of ctx.depth === 'full' ? [1, 15, 17, 33] : [17])
      out.push({
        name: `length not a multiple of ${f.alignment} (${n} bytes): RangeError ERR_OUT_OF_RANGE`,
        run: () => both(randomBytes(n), iv, 'RangeError', 'ERR_OUT_OF_RANGE'),
      });
  if (f.minLength > 0)
    out.push({
      name: `shorter than ${f.minLength} bytes (15): RangeError ERR_OUT_OF_RANGE`,
      run: () => both(randomBytes(15), iv, 'RangeError', 'ERR_OUT_OF_RANGE'),
    });
  out.push({
    name: 'a length the driver cannot take: EINVAL; over maxRequestBytes: E2BIG',
    run: () =>
      using(ctx, CipherSession, spec, async (s) => {
        // A driver stricter than the mode (XTS whole blocks on /dev/crypto) says so in alignment.
        if (s.alignment > f.alignment) {
          // A length the mode takes (its own multiple, past its shortest input) but the driver does not.
          const n = s.alignment + f.alignment;
          if (n >= f.minLength && n % s.alignment !== 0) {
            await refused(() => s.encrypt(randomBytes(n), iv), 'EINVAL', s.driver);
            ctx.count('EINVAL for a length the driver cannot take');
          }
        }
        return oversize(ctx, s, keys);
      }),
  });
  return out;
}

function aeadCases(ctx: CheckContext, f: AeadFamily): Case[] {
  const keys = randomKeys(f);
  const tagLength = f.tagLengths[0]!;
  const spec = specOf(f, keys, tagLength);
  const iv = randomBytes(f.ivLengths[0]!);
  const aad = randomBytes(20);
  const pt = randomBytes(64);
  const ref = refAead(f, keys, iv, aad, pt, tagLength);
  const badIvs = (ctx.depth === 'full' ? [0, 6, 12, 14, 16, 17] : [[16, 12, 6].find((n) => !f.ivLengths.includes(n))!]).filter(
    (n) => !f.ivLengths.includes(n),
  );
  const badTags = ctx.depth === 'full' ? [0, 1, 3, 17, 33] : [3];
  const base = { algorithm: f.kernelName, key: hex(keys.key), ...(keys.authKey ? { authKey: hex(keys.authKey) } : {}), tagLength };
  /** A decryption of the reference ciphertext with one field spoiled must be EBADMSG. */
  const spoiled = (what: string, spoil: (m: { ciphertext: Buffer; tag: Buffer; aad: Buffer }) => void): Case => {
    const m = { ciphertext: Buffer.from(ref.ciphertext), tag: Buffer.from(ref.tag), aad: Buffer.from(aad) };
    spoil(m);
    return {
      name: `tampered ${what}: KCryptoError EBADMSG`,
      reproducer: { ...base, operation: 'decrypt', iv: hex(iv), aad: hex(m.aad), tag: hex(m.tag), data: hex(m.ciphertext) },
      run: () =>
        using(ctx, AeadSession, spec, (s) => refused(() => s.decrypt(m.ciphertext, { iv, aad: m.aad, tag: m.tag }), 'EBADMSG', s.driver)),
    };
  };
  const out: Case[] = [
    ...badTags.map((n) => ({
      name: `tag length ${n} at open: TypeError ERR_CRYPTO_INVALID_AUTH_TAG`,
      run: () => misuse(() => ctx.open(AeadSession, specOf(f, keys, n)), 'TypeError', 'ERR_CRYPTO_INVALID_AUTH_TAG'),
    })),
    {
      name: `tag of ${tagLength + 1} bytes to decrypt: TypeError ERR_CRYPTO_INVALID_AUTH_TAG`,
      run: () =>
        using(ctx, AeadSession, spec, (s) =>
          misuse(
            () => s.decrypt(ref.ciphertext, { iv, aad, tag: Buffer.concat([ref.tag, Buffer.alloc(1)]) }),
            'TypeError',
            'ERR_CRYPTO_INVALID_AUTH_TAG',
          ),
        ),
    },
    ...badIvs.map((n) => ({
      name: `IV of ${n} bytes: TypeError ERR_CRYPTO_INVALID_IV`,
      run: () =>
        using(ctx, AeadSession, spec, async (s) => {
          const bad = randomBytes(n);
          await misuse(() => s.encrypt(pt, { iv: bad }), 'TypeError', 'ERR_CRYPTO_INVALID_IV');
          await misuse(() => s.decrypt(ref.ciphertext, { iv: bad, tag: ref.tag }), 'TypeError', 'ERR_CRYPTO_INVALID_IV');
        }),
    })),
    spoiled('tag', (m) => (m.tag[0]! ^= 0x80)),
    spoiled('ciphertext', (m) => (m.ciphertext[17]! ^= 0x01)),
    spoiled('AAD', (m) => (m.aad[19]! ^= 0x01)),
    { name: 'over maxRequestBytes: KCryptoError E2BIG', run: () => using(ctx, AeadSession, spec, (s) => oversize(ctx, s, keys)) },
  ];
  if (f.alignment > 1)
    out.push({
      name: `length not a multiple of ${f.alignment} (17 bytes): RangeError ERR_OUT_OF_RANGE`,
      run: () => using(ctx, AeadSession, spec, (s) => misuse(() => s.encrypt(randomBytes(17), { iv }), 'RangeError', 'ERR_OUT_OF_RANGE')),
    });
  return out;
}

function hashCases(ctx: CheckContext, f: Family): Case[] {
  const keys = randomKeys(f, 1);
  return [
    {
      name: 'data that is not bytes: TypeError ERR_INVALID_ARG_TYPE',
      run: () => using(ctx, HashSession, specOf(f, keys), (s) => misuse(() => s.digest(42 as never), 'TypeError', 'ERR_INVALID_ARG_TYPE')),
    },
    {
      name: 'over maxRequestBytes: KCryptoError E2BIG',
      run: () => using(ctx, HashSession, specOf(f, keys), (s) => oversize(ctx, s, keys)),
    },
  ];
}

/** The bad inputs of the context's algorithm. */
function casesOf(ctx: CheckContext): Case[] {
  const f = ctx.family;
  const kind = f.kind === 'cipher' ? cipherCases(ctx, f) : f.kind === 'aead' ? aeadCases(ctx, f) : hashCases(ctx, f);
  return [...keyCases(ctx, f), ...kind];
}

export const parametersCheck: Check = {
  id: 'parameters',
  title:
    'bad key, IV and tag sizes, unaligned and oversize requests are refused with the exact error (misuse as node:crypto, the rest a KCryptoError)',
  notApplicable: () => undefined,
  async run(ctx) {
    const cases = casesOf(ctx);
    let done = 0;
    for (const c of cases) {
      try {
        const outcome = await c.run();
        ctx.count(typeof outcome === 'string' ? outcome : 'refused as documented');
      } catch (err) {
        ctx.count('wrong answer');
        const message = `${c.name}: ${err instanceof assert.AssertionError ? err.message : describeError(err)}`;
        ctx.fail(c.reproducer ? { message, reproducer: c.reproducer } : { message });
      }
      ctx.progress(++done, cases.length);
    }
  },
};
