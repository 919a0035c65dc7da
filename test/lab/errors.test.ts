// Bad input on every driver of every algorithm: misuse throws as node:crypto does (the same
// class and code on every driver), what the driver answers is a KCryptoError with the right code
// (and errno, syscall and driver set), and once the sessions are closed no descriptor is left
// open: a failed open or request must give back every socket it took.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';

import { AeadSession, CipherSession, HashSession, openSession, type Session, type SessionSpec } from '../../src/index.js';
import { describeDrivers, driverCases, noHashState, openAs, openOn, type DriverCase, type SessionClass } from '../support/drivers.js';
import { kcryptoError, misuseError } from '../support/errors.js';
import { canCountFds, leakedFds, openFds } from '../support/fds.js';
import { FAMILIES, family, randomKeys, specOf, type AeadFamily, type CipherFamily, type Family } from '../support/families.js';

/** One bad input: the test name says what is wrong and the code it must give. */
interface BadInput {
  name: string;
  check: () => Promise<void>;
  /** Set when the input has no meaning on this driver. */
  skip?: string;
}

/** Opens a session of the expected class on the case's driver, runs `fn`, closes it. */
async function using<S extends Session>(
  kind: SessionClass<S>,
  c: DriverCase,
  spec: SessionSpec,
  fn: (s: S) => Promise<void>,
): Promise<void> {
  const s = await openAs(kind, c, spec);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

/**
 * One request that must succeed, so that the driver's lazily created resources exist (a hash's
 * incremental state too, where the driver has one: streaming.test.ts checks the refusal where
 * it has none).
 */
async function validRequest(f: Family, c: DriverCase, s: Session): Promise<void> {
  if (s instanceof CipherSession) await s.encrypt(Buffer.alloc(32), (f as CipherFamily).ivLength ? { iv: Buffer.alloc(16) } : undefined);
  else if (s instanceof AeadSession) await s.encrypt(Buffer.alloc(32), { iv: Buffer.alloc((f as AeadFamily).ivLengths[0]!) });
  else if (s instanceof HashSession)
    await Promise.all([s.digest(Buffer.alloc(32)), noHashState(c) ? undefined : s.update(Buffer.alloc(32)).then(() => s.final())]);
}

/**
 * A spec of another algorithm than `f`'s that the case's driver does not implement: AES-CBC for
 * a hash, SHA-256 for the rest, else the first family the driver's listing lacks (a FreeBSD or
 * NetBSD /dev/crypto driver serves many algorithms). authenc is left out: its two halves may
 * each be there. Undefined when the driver implements every other family.
 */
function otherAlgorithm(f: Family, c: DriverCase): SessionSpec | undefined {
  const first = family(f.kind === 'hash' ? 'cbc(aes)' : 'sha256');
  const other = [first, ...FAMILIES.filter((x) => x !== first)].find(
    (x) => x.kernelName !== f.kernelName && !(x.kind === 'aead' && x.mode === 'authenc') && !c.algorithms?.includes(x.kernelName),
  );
  return other ? specOf(other, randomKeys(other)) : undefined;
}

/** A spec of the same kind as `f`'s with an algorithm no driver has. */
function unknownAlgorithm(f: Family): SessionSpec {
  switch (f.kind) {
    case 'cipher':
    case 'aead':
      return { cipher: 'rot13(aes)', key: randomBytes(16) };
    case 'hash':
      return { hash: 'sha9' };
    case 'mac':
      return f.hash ? { hmac: 'sha9', key: randomBytes(16) } : { cmac: 'des', key: randomBytes(16) };
  }
}

function cipherInputs(f: CipherFamily, c: DriverCase): BadInput[] {
  const key = randomBytes(f.keyLengths[0]!);
  const spec = specOf(f, { key });
  const block = randomBytes(32);
  const iv = f.ivLength > 0 ? { iv: randomBytes(f.ivLength) } : undefined;
  const rejectsBoth = (data: Buffer, options: { iv?: Buffer } | undefined, expected: (err: unknown) => true) =>
    using(CipherSession, c, spec, async (s) => {
      await assert.rejects(s.encrypt(data, options), expected);
      await assert.rejects(s.decrypt(data, options), expected);
    });
  const badIv = misuseError('TypeError', 'ERR_CRYPTO_INVALID_IV');
  const outOfRange = misuseError('RangeError', 'ERR_OUT_OF_RANGE');
  const out: BadInput[] = [];
  if (f.ivLength > 0) {
    out.push({ name: 'IV of 12 bytes: ERR_CRYPTO_INVALID_IV', check: () => rejectsBoth(block, { iv: randomBytes(12) }, badIv) });
    out.push({
      name: 'no IV: ERR_INVALID_ARG_TYPE',
      check: () => rejectsBoth(block, undefined, misuseError('TypeError', 'ERR_INVALID_ARG_TYPE')),
    });
  } else {
    out.push({
      name: 'an IV where the mode takes none: ERR_CRYPTO_INVALID_IV',
      check: () => rejectsBoth(block, { iv: randomBytes(16) }, badIv),
    });
  }
  if (f.alignment > 1)
    out.push({
      name: `length not a multiple of ${f.alignment} (17 bytes): ERR_OUT_OF_RANGE`,
      check: () => rejectsBoth(randomBytes(17), iv, outOfRange),
    });
  if (f.minLength > 0)
    out.push({
      name: `shorter than ${f.minLength} bytes (15): ERR_OUT_OF_RANGE`,
      check: () => rejectsBoth(randomBytes(15), iv, outOfRange),
    });
  return out;
}

function aeadInputs(f: AeadFamily, c: DriverCase): BadInput[] {
  const keys = randomKeys(f);
  const tagLength = f.tagLengths[0]!;
  const spec = specOf(f, keys, tagLength);
  const iv = randomBytes(f.ivLengths[0]!);
  const aad = randomBytes(20);
  const badIv = randomBytes([16, 12, 6].find((n) => !f.ivLengths.includes(n))!);
  /** Encrypts a message, spoils one field of the result, and expects `code` from decrypt. */
  const spoiled = (code: string, spoil: (m: { ciphertext: Buffer; tag: Buffer; aad: Buffer; iv: Buffer }) => void) =>
    using(AeadSession, c, spec, async (s) => {
      const { ciphertext, tag } = await s.encrypt(randomBytes(64), { iv, aad });
      const m = { ciphertext: Buffer.from(ciphertext), tag: Buffer.from(tag), aad: Buffer.from(aad), iv };
      spoil(m);
      await assert.rejects(s.decrypt(m.ciphertext, { iv: m.iv, aad: m.aad, tag: m.tag }), kcryptoError(code, s.driver));
    });
  const out: BadInput[] = [
    {
      name: 'tag length 3 at open: ERR_CRYPTO_INVALID_AUTH_TAG',
      check: () => assert.rejects(openOn(c, specOf(f, keys, 3)), misuseError('TypeError', 'ERR_CRYPTO_INVALID_AUTH_TAG')),
    },
    {
      name: `tag of ${tagLength + 1} bytes to decrypt: ERR_CRYPTO_INVALID_AUTH_TAG`,
      check: () =>
        using(AeadSession, c, spec, async (s) => {
          const { ciphertext, tag } = await s.encrypt(randomBytes(64), { iv, aad });
          const longer = Buffer.concat([tag, Buffer.alloc(1)]);
          await assert.rejects(s.decrypt(ciphertext, { iv, aad, tag: longer }), misuseError('TypeError', 'ERR_CRYPTO_INVALID_AUTH_TAG'));
        }),
    },
    {
      name: `IV of ${badIv.length} bytes: ERR_CRYPTO_INVALID_IV`,
      check: () =>
        using(AeadSession, c, spec, async (s) => {
          const invalidIv = misuseError('TypeError', 'ERR_CRYPTO_INVALID_IV');
          await assert.rejects(s.encrypt(randomBytes(32), { iv: badIv }), invalidIv);
          await assert.rejects(s.decrypt(randomBytes(32), { iv: badIv, tag: randomBytes(tagLength) }), invalidIv);
        }),
    },
    { name: 'tampered tag: EBADMSG', check: () => spoiled('EBADMSG', (m) => (m.tag[0]! ^= 0x80)) },
    { name: 'tampered ciphertext: EBADMSG', check: () => spoiled('EBADMSG', (m) => (m.ciphertext[17]! ^= 0x01)) },
    { name: 'tampered AAD: EBADMSG', check: () => spoiled('EBADMSG', (m) => (m.aad[19]! ^= 0x01)) },
  ];
  if (f.alignment > 1) {
    out.push({
      name: `length not a multiple of ${f.alignment} (17 bytes): ERR_OUT_OF_RANGE`,
      check: () =>
        using(AeadSession, c, spec, (s) =>
          assert.rejects(s.encrypt(randomBytes(17), { iv }), misuseError('RangeError', 'ERR_OUT_OF_RANGE')),
        ),
    });
  }
  return out;
}

/** Every request kind of a closed session is EBADF. */
async function closedSession(f: Family, c: DriverCase): Promise<void> {
  const s = await openOn(c, specOf(f, randomKeys(f)));
  await s.close();
  await s.close(); // idempotent
  const ebadf = kcryptoError('EBADF', s.driver);
  if (s instanceof CipherSession) await assert.rejects(s.encrypt(Buffer.alloc(16), { iv: Buffer.alloc(16) }), ebadf);
  if (s instanceof AeadSession) await assert.rejects(s.decrypt(Buffer.alloc(16), { iv: Buffer.alloc(12), tag: Buffer.alloc(16) }), ebadf);
  if (s instanceof HashSession) {
    for (const op of [() => s.digest(Buffer.alloc(1)), () => s.update(Buffer.alloc(1)), () => s.final(), () => s.copy()])
      await assert.rejects(op(), ebadf);
  }
}

/** The bad inputs of one algorithm on one driver. */
function badInputs(f: Family, c: DriverCase): BadInput[] {
  const out: BadInput[] = [];
  const keyLengths = f.kind === 'mac' ? f.keyLengths : f.kind === 'hash' ? undefined : f.keyLengths;
  if (keyLengths) {
    const bad = keyLengths[0]! - 1;
    out.push({
      name: `key of ${bad} bytes: ERR_CRYPTO_INVALID_KEYLEN`,
      check: () => assert.rejects(openOn(c, specOf(f, { key: randomBytes(bad) })), misuseError('RangeError', 'ERR_CRYPTO_INVALID_KEYLEN')),
    });
  }
  if (f.kind === 'cipher') out.push(...cipherInputs(f, c));
  if (f.kind === 'aead') out.push(...aeadInputs(f, c));
  out.push({ name: 'request on a closed session: EBADF', check: () => closedSession(f, c) });
  const unknown =
    f.kind === 'hash' || (f.kind === 'mac' && f.hash)
      ? (['TypeError', 'ERR_CRYPTO_INVALID_DIGEST'] as const)
      : (['Error', 'ERR_CRYPTO_UNKNOWN_CIPHER'] as const);
  out.push({
    name: `unknown algorithm: ${unknown[1]}`,
    check: () => assert.rejects(openOn(c, unknownAlgorithm(f)), misuseError(unknown[0], unknown[1])),
  });
  const other = otherAlgorithm(f, c);
  out.push({
    name: 'a driver that implements another algorithm: EINVAL',
    // A session that opens after all is closed, so that the failure stays this test's alone.
    check: () =>
      assert.rejects(
        openOn(c, other!).then((s) => s.close()),
        kcryptoError('EINVAL'),
      ),
    ...(!c.kernel
      ? { skip: 'the software driver implements every algorithm' }
      : other === undefined
        ? { skip: `${c.label} implements every algorithm the suite covers` }
        : {}),
  });
  return out;
}

const countFds = canCountFds();

for (const f of FAMILIES) {
  describeDrivers(f, await driverCases(f), (c, options) => {
    let fdsBefore = new Map<number, string>();
    if (options.skip === undefined) {
      before(async () => {
        // Let the driver and the addon create what they keep for the process lifetime
        // (dispatcher threads and their wake-up descriptors) before taking the snapshot.
        for (const execution of c.kernel ? (['threads', 'inline'] as const) : [undefined]) {
          const s = await openOn(c, specOf(f, randomKeys(f)), execution);
          await validRequest(f, c, s);
          await s.close();
        }
        fdsBefore = openFds();
      });
    }
    for (const bad of badInputs(f, c)) it(bad.name, bad.skip === undefined ? options : { skip: bad.skip }, bad.check);
    it('no descriptor left open after the sessions above closed', countFds ? options : { skip: 'no /proc/self/fd here' }, () => {
      const leaked = leakedFds(fdsBefore, openFds());
      assert.deepEqual(leaked, [], `${f.kernelName} on ${c.label}: descriptors leaked: ${leaked.join(', ')}`);
    });
  });
}

describe('driver names', () => {
  it('unknown driver name: ENOENT, with no descriptor left open', async () => {
    const fdsBefore = openFds();
    await assert.rejects(openSession({ hash: 'sha256' }, { driver: 'no-such-driver' }), kcryptoError('ENOENT'));
    await assert.rejects(
      openSession({ cipher: 'aes-128-cbc', key: randomBytes(16) }, { driver: 'afalg:no-such-driver' }),
      kcryptoError('ENOENT'),
    );
    if (countFds) assert.deepEqual(leakedFds(fdsBefore, openFds()), [], 'descriptors leaked by failed opens');
  });
});
