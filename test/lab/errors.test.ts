// Bad input on every driver of every algorithm. The conformance kit's checks run here as they
// run in `kcrypto conformance`: 'parameters' (bad key, IV and tag sizes, unaligned and oversize
// requests, tampered AEAD messages: misuse throws as node:crypto does, what the driver answers is
// a KCryptoError with the code, errno, syscall and driver) and 'teardown' (close() with requests
// in flight; every request of a closed session is EBADF). This file adds what the kit does not
// cover: unknown algorithms and driver names, a driver asked for an algorithm it does not
// implement (EINVAL), and that once the sessions are closed no descriptor is left open: a
// failed open or request must give back every socket it took.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';

import { AeadSession, CipherSession, HashSession, openSession, type Session, type SessionSpec } from '../../src/index.js';
import { parametersCheck } from '../../src/conformance/checks/parameters.js';
import { teardownCheck } from '../../src/conformance/checks/teardown.js';
import { itCheck } from '../support/check-case.js';
import { describeDrivers, driverCases, noHashState, openOn, type DriverCase } from '../support/drivers.js';
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

/** The bad inputs of one algorithm on one driver. */
function badInputs(f: Family, c: DriverCase): BadInput[] {
  const out: BadInput[] = [];
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
    itCheck(parametersCheck, f, c, options);
    itCheck(teardownCheck, f, c, options);
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
