// Buffers in flight (see test/support/inflight.ts): a request's input transferred away and freed
// while the request waits for or runs on one of the addon's threads is never read again. On the
// loopback engine (its requests read their input in the addon, where the ASan build of the
// unit tests' sanitize stage sees every access), on the openssl driver's threads and on the
// software driver. Through the API, a request whose data was detached before it settled rejects
// with ERR_INVALID_STATE (docs/api.md); below it, a job the addon had already taken completes
// from its own copy.
import '../../support/test-hooks.js';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { openSession } from '../../../src/index.js';
import { loadAddon } from '../../../src/kernel/bridge/addon.js';
import { KernelSession, Op } from '../../../src/kernel/bridge/engine/index.js';
import { takeAway, type Gone, type When } from '../../support/inflight.js';

const { addon, error } = loadAddon();
const noAddon = addon ? undefined : `native addon not loaded: ${error}`;
const XOR = 0x5a;
const CASES: [Gone, When][] = [
  ['transferred', 'before-submit'],
  ['transferred', 'in-flight'],
  ['to-worker', 'in-flight'],
];

/** ERR_INVALID_STATE, the API's answer for data detached before its request settled. */
function isDetached(err: unknown): boolean {
  return err instanceof TypeError && (err as { code?: string }).code === 'ERR_INVALID_STATE';
}

describe('an input taken away while its request is in flight', () => {
  for (const [gone, when] of CASES) {
    it(`loopback engine on threads: ${gone} ${when}: the job runs on its own copy, or is refused`, { skip: noAddon }, async () => {
      // 30 ms before the engine reads its input: the buffer is gone by then.
      const s = new KernelSession(addon!.openLoopback!(30_000, 0), 'test:loopback', true, 'threads');
      for (const size of [1, 4096 + 1, 1 << 20]) {
        const out = Buffer.alloc(size);
        const r = await takeAway(size, gone, when, (input) => s.request(Op.Encrypt, input, out, null, 0));
        if ('value' in r.outcome) {
          assert.equal(when, 'in-flight', 'a job the addon never took cannot complete');
          assert.equal(r.outcome.value, size);
          assert.ok(out.equals(Buffer.from(r.bytes.map((b) => b ^ XOR))), `${size} bytes: the output is of the bytes given`);
        } else {
          // Detached before the submission crossed into the addon: refused there, not run on nothing.
          assert.equal(when, 'before-submit', `only a job the addon never took fails: ${String(r.outcome.error)}`);
          assert.ok(r.outcome.error instanceof TypeError, String(r.outcome.error));
          assert.match(r.outcome.error.message, /detached/);
        }
      }
      await s.close();
    });
  }

  for (const driver of ['openssl', 'software'] as const) {
    const skip = driver === 'openssl' ? noAddon : undefined;
    for (const [gone, when] of CASES) {
      it(
        `${driver}: ${gone} ${when}: encrypt, digest and update answer for the bytes given or reject ERR_INVALID_STATE`,
        { skip },
        async () => {
          const key = randomBytes(16);
          const iv = randomBytes(16);
          const opts = driver === 'openssl' ? { driver, execution: 'threads' as const } : { driver };
          const aes = await openSession({ cipher: 'aes-128-ctr', key }, opts);
          const sha = await openSession({ hash: 'sha256' }, opts);
          for (const size of [1, 65_536 + 1, 4 << 20]) {
            const enc = await takeAway(size, gone, when, (input) => aes.encrypt(input, { iv }));
            if ('value' in enc.outcome) {
              const c = createCipheriv('aes-128-ctr', key, iv);
              assert.ok(
                enc.outcome.value.ciphertext.equals(Buffer.concat([c.update(enc.bytes), c.final()])),
                `${driver} ${size}: ciphertext`,
              );
            } else assert.ok(isDetached(enc.outcome.error), String(enc.outcome.error));
            const dig = await takeAway(size, gone, when, (input) => sha.digest(input));
            if ('value' in dig.outcome) assert.deepEqual(dig.outcome.value, createHash('sha256').update(dig.bytes).digest());
            else assert.ok(isDetached(dig.outcome.error), String(dig.outcome.error));
            // An update that failed never fed the state: final() digests what the others gave.
            const upd = await takeAway(size, gone, when, (input) => sha.update(input));
            const fed = 'value' in upd.outcome ? upd.bytes : Buffer.alloc(0);
            if (!('value' in upd.outcome)) assert.ok(isDetached(upd.outcome.error), String(upd.outcome.error));
            assert.deepEqual(await sha.final(), createHash('sha256').update(fed).digest(), `${driver} ${size}: the state after update`);
          }
          await Promise.all([aes.close(), sha.close()]);
        },
      );
    }
  }

  it('a view over a detached ArrayBuffer is empty data, as node:crypto reads it', async () => {
    const buf = new ArrayBuffer(32);
    const views = [new DataView(buf, 1, 3), new Uint8Array(buf, 2, 5), new Uint16Array(buf, 2, 3)];
    structuredClone(buf, { transfer: [buf] });
    const sha = await openSession({ hash: 'sha256' }, { driver: 'software' });
    const ctr = await openSession({ cipher: 'aes-128-ctr', key: Buffer.alloc(16) }, { driver: 'software' });
    const empty = createHash('sha256').digest();
    for (const v of views) {
      assert.deepEqual(await sha.digest(v), empty);
      assert.equal((await ctr.encrypt(v, { iv: Buffer.alloc(16) })).ciphertext.length, 0);
    }
    await Promise.all([sha.close(), ctr.close()]);
  });
});
