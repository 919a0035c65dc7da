// The failures the property tests (properties.test.ts) found, shrunk, as plain cases.
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { findCipher, findHash, type AeadAlgorithm, type CipherAlgorithm } from '../../../src/algorithms/catalog.js';
import type { AeadBackend, CipherBackend, HashBackend } from '../../../src/api/backends.js';
import { AeadSession, CipherSession, drivers, HashSession, KCryptoError, openSession } from '../../../src/index.js';

const openssl = (await drivers()).find((d) => d.name === 'openssl');
const noOpenSsl = openssl?.available ? undefined : `openssl driver unavailable: ${openssl?.reason ?? 'not listed'}`;

describe('property regressions', () => {
  it('GCM: data detached right after encrypt() still gives the whole ciphertext (its length read once)', async () => {
    const key = Buffer.alloc(16, 1);
    const iv = Buffer.alloc(12, 2);
    const s = await openSession({ cipher: 'aes-128-gcm', key }, { driver: 'software' });
    const ab = new ArrayBuffer(65_535 + 7);
    const data = new Uint8Array(ab, 3, 65_535).fill(7);
    const plain = Buffer.from(data);
    const p = s.encrypt(data, { iv });
    structuredClone(ab, { transfer: [ab] });
    const out = await p;
    const e = createCipheriv('aes-128-gcm', key, iv);
    assert.deepEqual(out.ciphertext, Buffer.concat([e.update(plain), e.final()]));
    assert.deepEqual(out.tag, e.getAuthTag());
    await s.close();
  });

  it('a request waiting for a later turn when close() is called completes before the session goes', async () => {
    const gcm = await openSession({ cipher: 'aes-128-gcm', key: Buffer.alloc(16) }, { driver: 'software' });
    const sha = await openSession({ hash: 'sha256' }, { driver: 'software' });
    await new Promise((resolve) => setImmediate(resolve));
    // More than one turn's budget: the requests after these wait for a later turn.
    const busy = Array.from({ length: 50 }, () => sha.digest(Buffer.alloc(1 << 20)));
    const p = gcm.encrypt(Buffer.alloc(0), { iv: Buffer.alloc(12) });
    await gcm.close();
    const e = createCipheriv('aes-128-gcm', Buffer.alloc(16), Buffer.alloc(12));
    e.final();
    assert.deepEqual((await p).tag, e.getAuthTag());
    await Promise.all(busy);
    await sha.close();
  });

  it('openssl: a request waiting a microtask for company when close() is called completes', { skip: noOpenSsl }, async () => {
    const key = Buffer.alloc(32, 3);
    const iv = Buffer.alloc(16, 4);
    const s = await openSession({ cipher: 'aes-256-ctr', key }, { driver: 'openssl' });
    const data = Buffer.alloc(65_535, 5);
    // Measured first, so that a request this size is dear enough to wait for company.
    for (let i = 0; i < 20; i++) await s.encrypt(data, { iv });
    const p = s.encrypt(data, { iv });
    await s.close();
    const c = createCipheriv('aes-256-ctr', key, iv);
    assert.deepEqual((await p).ciphertext, Buffer.concat([c.update(data), c.final()]));
  });

  it('a DataView over a detached ArrayBuffer is empty data, not an uncoded TypeError', async () => {
    const ab = new ArrayBuffer(16);
    const dv = new DataView(ab, 2, 8);
    structuredClone(ab, { transfer: [ab] });
    const s = await openSession({ hash: 'sha256' }, { driver: 'software' });
    assert.deepEqual(await s.digest(dv), createHash('sha256').digest());
    await s.update(dv);
    assert.deepEqual(await s.final(), createHash('sha256').digest());
    await s.close();
  });

  // Found through the FreeBSD ABI (a digest there carries 256 KiB − 4 at most): a digest past a
  // driver's limit under an aborted signal. The limit is looked at first, on every kind.
  it("a request past the driver's limit under an already aborted signal is refused with E2BIG, on every kind", async () => {
    const limited = {
      driver: 'test:limited',
      sid: 0n,
      maxRequestBytes: 32,
      stats: () => undefined,
      close: () => Promise.resolve(),
    };
    const reached = (): never => assert.fail('the request reached the driver');
    const hash = new HashSession(findHash('sha256')!, {
      ...limited,
      digest: reached,
      update: reached,
      final: reached,
      copy: reached,
    } satisfies HashBackend);
    const cipher = new CipherSession(findCipher('aes-128-cbc', 16) as CipherAlgorithm, {
      ...limited,
      encrypt: reached,
      decrypt: reached,
    } satisfies CipherBackend);
    const aead = new AeadSession(findCipher('aes-128-gcm', 16) as AeadAlgorithm, 16, {
      ...limited,
      encrypt: reached,
      decrypt: reached,
    } satisfies AeadBackend);
    const signal = AbortSignal.abort(new Error('pre'));
    const e2big = (err: unknown): boolean => {
      assert.ok(err instanceof KCryptoError, String(err));
      assert.equal(err.code, 'E2BIG');
      assert.equal(err.driver, 'test:limited');
      return true;
    };
    await assert.rejects(hash.digest(Buffer.alloc(1024 * 1024 + 16), { signal }), e2big);
    await assert.rejects(cipher.encrypt(Buffer.alloc(48), { iv: Buffer.alloc(16), signal }), e2big);
    await assert.rejects(aead.encrypt(Buffer.alloc(48), { iv: Buffer.alloc(12), signal }), e2big);
  });
});
