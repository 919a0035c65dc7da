// { signal } on API requests: an AbortSignal rejects a request that has not reached a driver
// with an AbortError; one a driver holds completes. Sessions close with Symbol.asyncDispose.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { AbortError, KCryptoError, openSession } from '../../../src/index.js';

const sw = { driver: 'software' } as const;

function isAbort(reason: unknown): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof AbortError, `expected AbortError, got ${String(err)}`);
    assert.equal(err.name, 'AbortError');
    assert.equal(err.code, 'ABORT_ERR');
    assert.equal(err.cause, reason);
    return true;
  };
}

describe('request signals', () => {
  it('an aborted signal rejects every request kind with AbortError, and nothing runs', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    ac.abort(reason);
    const { signal } = ac;
    const aes = await openSession({ cipher: 'aes-128-cbc', key: randomBytes(16) }, sw);
    const gcm = await openSession({ cipher: 'aes-128-gcm', key: randomBytes(16) }, sw);
    const sha = await openSession({ hash: 'sha256' }, sw);
    const rng = await openSession({ rng: 'stdrng' }, sw);
    const iv = randomBytes(16);
    await assert.rejects(aes.encrypt(randomBytes(32), { iv, signal }), isAbort(reason));
    await assert.rejects(aes.decrypt(randomBytes(32), { iv, signal }), isAbort(reason));
    await assert.rejects(gcm.encrypt(randomBytes(32), { iv: randomBytes(12), signal }), isAbort(reason));
    await assert.rejects(gcm.decrypt(randomBytes(32), { iv: randomBytes(12), tag: randomBytes(16), signal }), isAbort(reason));
    await assert.rejects(sha.digest(randomBytes(32), { signal }), isAbort(reason));
    await assert.rejects(sha.update(randomBytes(32), { signal }), isAbort(reason));
    await assert.rejects(sha.final({ signal }), isAbort(reason));
    await assert.rejects(rng.generate(16, { signal }), isAbort(reason));
    // The update that was aborted never fed the state.
    await sha.update(Buffer.from('abc'));
    assert.deepEqual(await sha.final(), createHash('sha256').update('abc').digest());
    await Promise.all([aes.close(), gcm.close(), sha.close(), rng.close()]);
  });

  it('aborting takes back the requests still waiting for a later turn; each settles once', async () => {
    const sha = await openSession({ hash: 'sha256' }, sw);
    const ac = new AbortController();
    const data = randomBytes(64 * 1024);
    // A fresh event-loop turn, then more synchronous work than one turn's budget: the first
    // requests run now, the later ones wait for a later turn.
    await new Promise((resolve) => setImmediate(resolve));
    const settled: ('value' | 'abort' | 'other')[] = [];
    const all = Array.from({ length: 400 }, () =>
      sha.digest(data, { signal: ac.signal }).then(
        (d) => {
          assert.deepEqual(d, createHash('sha256').update(data).digest());
          settled.push('value');
        },
        (err: unknown) => settled.push(err instanceof AbortError ? 'abort' : 'other'),
      ),
    );
    ac.abort();
    await Promise.all(all);
    assert.equal(settled.length, 400, 'every request settled once');
    assert.equal(settled.filter((x) => x === 'other').length, 0);
    const aborted = settled.filter((x) => x === 'abort').length;
    assert.ok(aborted > 0 && aborted < 400, `some ran, the rest were taken back (${aborted} aborted)`);
    await sha.close();
  });

  it('an abort after the request completed changes nothing', async () => {
    const sha = await openSession({ hash: 'sha256' }, sw);
    const ac = new AbortController();
    const d = await sha.digest(Buffer.from('x'), { signal: ac.signal });
    ac.abort();
    assert.deepEqual(d, createHash('sha256').update('x').digest());
    await sha.close();
  });

  it('a signal that is not an AbortSignal is a TypeError, as node:crypto gives it', async () => {
    const sha = await openSession({ hash: 'sha256' }, sw);
    await assert.rejects(sha.digest(Buffer.from('x'), { signal: {} as AbortSignal }), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.equal((err as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
      return true;
    });
    await sha.close();
  });

  it('Symbol.asyncDispose closes the session', async () => {
    const sha = await openSession({ hash: 'sha256' }, sw);
    await sha[Symbol.asyncDispose]();
    await assert.rejects(sha.digest(Buffer.from('x')), (err: unknown) => err instanceof KCryptoError && err.code === 'EBADF');
  });
});
