// The event loop keeps turning while a program keeps requests of a synchronous driver in flight:
// each request completes in a microtask and the program submits the next from there, so without
// a per-turn budget an immediate (or a timer, or I/O) would wait until the program stopped.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { openSession } from '../../../src/index.js';

describe('API requests and the event loop', () => {
  it('an immediate runs while 64 software requests stay in flight, and every result is right, in order', async () => {
    const key = randomBytes(16);
    const session = await openSession({ cipher: 'aes-128-cbc', key }, { driver: 'software' });
    const data = randomBytes(16 * 1024);
    const iv = Buffer.alloc(16, 7);
    const expected = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false).update(data);
    const total = 2000;
    let started = 0;
    let finished = 0;
    let finishedWhenImmediateRan = -1;
    setImmediate(() => (finishedWhenImmediateRan = finished));
    const order: number[] = [];
    const worker = async (): Promise<void> => {
      while (started < total) {
        const n = started++;
        const { ciphertext } = await session.encrypt(data, { iv });
        assert.ok(ciphertext.equals(expected), `request ${n}`);
        order.push(n);
        finished++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    await session.close();
    assert.equal(finished, total);
    assert.ok(finishedWhenImmediateRan >= 0, 'the immediate ran');
    assert.ok(finishedWhenImmediateRan < total, `the immediate waited for all ${total} requests`);
    // One session's requests complete in the order they were made.
    assert.deepEqual(
      order,
      Array.from({ length: total }, (_, i) => i),
    );
  });
});
