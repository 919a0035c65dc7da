// Bad input through the public API gives a typed error with the right code, whatever the
// driver; on this host the software driver and the "kernel path unavailable" answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { KCryptoError, openSession } from '../../../src/index.js';

const sw = { driver: 'software' } as const;

function code(expected: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof KCryptoError, `expected KCryptoError, got ${String(err)}`);
    assert.equal(err.code, expected, err.message);
    assert.equal(typeof err.errno, 'number');
    assert.equal(typeof err.syscall, 'string');
    assert.equal(typeof err.driver, 'string');
    return true;
  };
}

describe('API input errors', () => {
  it('wrong key size: EINVAL', async () => {
    await assert.rejects(openSession({ cipher: 'aes-128-cbc', key: randomBytes(15) }, sw), code('EINVAL'));
    await assert.rejects(openSession({ cipher: 'aes-256-gcm', key: randomBytes(16) }, sw), code('EINVAL'));
    await assert.rejects(openSession({ cipher: 'cbc(aes)', key: randomBytes(20) }, sw), code('EINVAL'));
    await assert.rejects(openSession({ cmac: 'aes', key: randomBytes(10) }, sw), code('EINVAL'));
  });

  it('wrong IV size, tag size, alignment: EINVAL', async () => {
    const c = await openSession({ cipher: 'aes-128-cbc', key: randomBytes(16) }, sw);
    await assert.rejects(c.encrypt(randomBytes(16), { iv: randomBytes(12) }), code('EINVAL'));
    await assert.rejects(c.encrypt(randomBytes(16)), code('EINVAL'));
    await assert.rejects(c.encrypt(randomBytes(17), { iv: randomBytes(16) }), code('EINVAL'));
    const e = await openSession({ cipher: 'aes-128-ecb', key: randomBytes(16) }, sw);
    await assert.rejects(e.encrypt(randomBytes(16), { iv: randomBytes(16) }), code('EINVAL'));
    const g = await openSession({ cipher: 'aes-128-gcm', key: randomBytes(16) }, sw);
    await assert.rejects(g.encrypt(randomBytes(16), { iv: randomBytes(16) }), code('EINVAL'));
    await assert.rejects(g.decrypt(randomBytes(16), { iv: randomBytes(12), tag: randomBytes(12) }), code('EINVAL'));
    await assert.rejects(openSession({ cipher: 'aes-128-gcm', key: randomBytes(16), tagLength: 3 }, sw), code('EINVAL'));
    await assert.rejects(openSession({ cipher: 'aes-128-cbc', key: randomBytes(16), tagLength: 16 }, sw), code('EINVAL'));
    await Promise.all([c.close(), e.close(), g.close()]);
  });

  it('closed session: EBADF', async () => {
    const h = await openSession({ hash: 'sha256' }, sw);
    await h.close();
    await h.close();
    await assert.rejects(h.digest(Buffer.alloc(1)), code('EBADF'));
    await assert.rejects(h.update(Buffer.alloc(1)), code('EBADF'));
  });

  it('unknown algorithm: ENOENT', async () => {
    await assert.rejects(openSession({ cipher: 'rot13', key: randomBytes(16) }, sw), code('ENOENT'));
    await assert.rejects(openSession({ hash: 'sha9' }, sw), code('ENOENT'));
    await assert.rejects(openSession({ hmac: 'nope', key: randomBytes(16) }, sw), code('ENOENT'));
  });

  it('a spec that is not one: EINVAL; a key that is not bytes: EINVAL', async () => {
    await assert.rejects(openSession({} as never, sw), code('EINVAL'));
    await assert.rejects(openSession({ cipher: 'aes-128-cbc', key: 'secret' as never }, sw), code('EINVAL'));
  });

  it('unknown driver name: ENOENT', async () => {
    await assert.rejects(openSession({ hash: 'sha256' }, { driver: 'no-such-driver-anywhere' }), code('ENOENT'));
  });
});
