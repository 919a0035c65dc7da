// Random differential tests: every driver of every algorithm against node:crypto, with random
// keys, IVs and AAD, at sizes from 0 to 1 MiB, and back again where there is a decryption.
// Kernel drivers run under each execution policy: the measured default (auto), always on the
// calling thread (inline), always on the addon's threads (threads).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';

import { AeadSession, CipherSession, HashSession, KCryptoError, type Execution, type Session, type SessionSpec } from '../../src/index.js';
import { describeDrivers, driverCases, executionsOf, openAs, type DriverCase, type SessionClass } from '../support/drivers.js';
import {
  FAMILIES,
  ivLengthsFor,
  randomKeys,
  refAead,
  refCipher,
  refDigest,
  SIZES,
  sizesFor,
  specOf,
  type AeadFamily,
  type CipherFamily,
  type Family,
  type HashFamily,
  type MacFamily,
} from '../support/families.js';
import { describeError } from '../support/errors.js';
import { assertSameBytes } from '../support/hex.js';

/**
 * Sizes for the forced execution policies: both policies are already exercised at every
 * size by `auto` (which picks per request), so they get the edges and one large request
 * each, which keeps the emulated guest within its time budget.
 */
const FORCED_SIZES: readonly number[] = [0, 1, 16, 17, 4096, 65536 + 16];

/** AAD lengths taken in turn: none, shorter than, equal to and longer than a block. */
const AAD_LENGTHS: readonly number[] = [0, 1, 16, 20, 64, 13];

/** Opens a session of the expected class on the driver and execution policy under test. */
type Open = <S extends Session>(kind: SessionClass<S>, spec: SessionSpec) => Promise<S>;

async function cipherCase(f: CipherFamily, open: Open, size: number, i: number, what: string): Promise<void> {
  const { key } = randomKeys(f, i);
  const s = await open(CipherSession, specOf(f, { key }));
  try {
    const data = randomBytes(size);
    const iv = f.ivLength > 0 ? randomBytes(f.ivLength) : null;
    const options = iv ? { iv } : undefined;
    if (s.maxRequestBytes !== undefined && size > s.maxRequestBytes) {
      // The kernel cannot take this mode in pieces, nor this much in one request: refused up front.
      await assert.rejects(s.encrypt(data, options), { code: 'E2BIG' }, `${what}: over the ${s.maxRequestBytes}-byte request limit`);
      return;
    }
    if (size % s.alignment !== 0) {
      // A driver stricter than the mode (XTS through /dev/crypto: whole blocks only): refused up front.
      await assert.rejects(
        s.encrypt(data, options),
        { code: 'EINVAL' },
        `${what}: not a multiple of the driver's ${s.alignment}-byte blocks`,
      );
      return;
    }
    const { ciphertext } = await s.encrypt(data, options);
    assertSameBytes(ciphertext, refCipher(f, key, iv, data), `${what}: ciphertext, ${key.length}-byte key`);
    assertSameBytes(await s.decrypt(ciphertext, options), data, `${what}: decrypted, ${key.length}-byte key`);
  } finally {
    await s.close();
  }
}

async function aeadCase(f: AeadFamily, open: Open, size: number, i: number, what: string): Promise<void> {
  const keys = randomKeys(f, i);
  const tagLength = f.tagLengths[i % f.tagLengths.length]!;
  const ivLengths = ivLengthsFor(f, size);
  const s = await open(AeadSession, specOf(f, keys, tagLength));
  try {
    const pt = randomBytes(size);
    const iv = randomBytes(ivLengths[i % ivLengths.length]!);
    const aad = randomBytes(AAD_LENGTHS[i % AAD_LENGTHS.length]!);
    const params = `${keys.key.length}-byte key, ${iv.length}-byte IV, ${aad.length}-byte AAD, ${tagLength}-byte tag`;
    if (s.maxRequestBytes !== undefined && aad.length + size + tagLength > s.maxRequestBytes) {
      // An AEAD cannot be split, and the kernel cannot take this much in one request.
      await assert.rejects(
        s.encrypt(pt, { iv, aad }),
        { code: 'E2BIG' },
        `${what}: over the ${s.maxRequestBytes}-byte request limit, ${params}`,
      );
      return;
    }
    const out = await s.encrypt(pt, { iv, aad });
    const ref = refAead(f, keys, iv, aad, pt, tagLength);
    assertSameBytes(out.ciphertext, ref.ciphertext, `${what}: ciphertext, ${params}`);
    assertSameBytes(out.tag, ref.tag, `${what}: tag, ${params}`);
    assertSameBytes(await s.decrypt(out.ciphertext, { iv, aad, tag: out.tag }), pt, `${what}: decrypted, ${params}`);
  } finally {
    await s.close();
  }
}

/** Odd `i` passes the message as three pieces, which must hash as their concatenation. */
async function digestCase(f: HashFamily | MacFamily, open: Open, size: number, i: number, what: string): Promise<void> {
  const { key } = randomKeys(f, i);
  const s = await open(HashSession, specOf(f, { key }));
  try {
    const data = randomBytes(size);
    const cut = [Math.floor(size / 3), Math.floor((2 * size) / 3)] as const;
    const parts = i % 2 === 1 ? [data.subarray(0, cut[0]), data.subarray(cut[0], cut[1]), data.subarray(cut[1])] : [data];
    if (s.maxRequestBytes !== undefined && size > s.maxRequestBytes) {
      // The kernel takes a message in one request and cannot continue a digest: refused up front.
      await assert.rejects(
        s.digest(parts.length === 1 ? data : parts),
        { code: 'E2BIG' },
        `${what}: over the ${s.maxRequestBytes}-byte request limit`,
      );
      return;
    }
    assertSameBytes(
      await s.digest(parts.length === 1 ? data : parts),
      refDigest(f, key, [data]),
      `${what}: digest of ${parts.length} piece(s), ${key.length}-byte key`,
    );
  } finally {
    await s.close();
  }
}

async function differential(f: Family, c: DriverCase, execution: Execution, sizes: readonly number[]): Promise<void> {
  const open: Open = (kind, spec) => openAs(kind, c, spec, execution);
  for (const [i, size] of sizes.entries()) {
    const what = `${f.kernelName} on ${c.label}, ${size} bytes`;
    try {
      if (f.kind === 'cipher') await cipherCase(f, open, size, i, what);
      else if (f.kind === 'aead') await aeadCase(f, open, size, i, what);
      else await digestCase(f, open, size, i, what);
    } catch (err) {
      // Assertion messages already say where; a rejection from kcrypto does not.
      if (err instanceof KCryptoError) throw new Error(`${what}: ${describeError(err)}`, { cause: err });
      throw err;
    }
  }
}

for (const f of FAMILIES) {
  describeDrivers(f, await driverCases(f), (c, options) => {
    for (const execution of executionsOf(c)) {
      const sizes = sizesFor(f, execution === 'auto' ? SIZES : FORCED_SIZES);
      const policy = c.kernel ? `execution ${execution}` : 'node:crypto has no execution policy';
      it(`matches node:crypto at ${sizes.length} sizes, ${sizes[0]}..${sizes.at(-1)} bytes (${policy})`, options, () =>
        differential(f, c, execution, sizes),
      );
    }
  });
}
