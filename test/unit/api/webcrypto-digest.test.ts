// digest() of a stream (sync and async iterables of BufferSource chunks): each chunk goes to the
// driver through the hash session's update() before the next is taken, and the result is
// node's digest of the chunks joined.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';

import { createSubtle, subtle } from '../../../src/index.js';
import { nodeSubtle, outcome, requestsOn } from '../../support/webcrypto.js';

const sw = createSubtle({ driver: 'software' });
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

describe('webcrypto digest of a stream', () => {
  it('async generator, Readable, sync generator and array of chunks: as the one-shot digest', async () => {
    const chunks = [randomBytes(1), randomBytes(0), randomBytes(1000), randomBytes(65536 + 3), randomBytes(17)];
    const joined = Buffer.concat(chunks);
    const expected = Buffer.from(await nodeSubtle.digest('SHA-512', joined));
    async function* agen(): AsyncGenerator<Uint8Array> {
      for (const c of chunks) {
        await new Promise((r) => setImmediate(r));
        yield c;
      }
    }
    function* sgen(): Generator<ArrayBuffer | DataView> {
      for (const c of chunks) yield c.length % 2 === 0 ? new DataView(c.buffer, c.byteOffset, c.length) : new Uint8Array(c).buffer;
    }
    for (const s of [subtle, sw]) {
      assert.deepEqual(Buffer.from(await s.digest('SHA-512', agen())), expected, 'async generator');
      assert.deepEqual(Buffer.from(await s.digest('SHA-512', Readable.from(chunks))), expected, 'Readable');
      assert.deepEqual(Buffer.from(await s.digest('SHA-512', sgen())), expected, 'sync generator of ArrayBuffers and DataViews');
      assert.deepEqual(Buffer.from(await s.digest('SHA-512', chunks)), expected, 'array');
      assert.deepEqual(
        Buffer.from(await s.digest('SHA-512', [])),
        Buffer.from(await nodeSubtle.digest('SHA-512', new Uint8Array(0))),
        'no chunks',
      );
    }
  });

  it('takes each chunk to the driver before asking for the next (one buffer, refilled between yields)', async () => {
    const buffer = new Uint8Array(4096);
    const contents: Buffer[] = [];
    async function* refilled(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 8; i++) {
        buffer.set(randomBytes(buffer.length));
        contents.push(Buffer.from(buffer));
        yield buffer;
        await Promise.resolve();
      }
    }
    const before = requestsOn('software');
    const digest = Buffer.from(await sw.digest('SHA-256', refilled()));
    assert.deepEqual(digest, sha256(Buffer.concat(contents)));
    // One update() per chunk and the final(): the stream was not joined into one request.
    assert.ok(requestsOn('software') - before >= 9, `${requestsOn('software') - before} requests for 8 chunks`);
  });

  it('a chunk that is not a BufferSource is a TypeError; an iterator that throws rejects with its error', async () => {
    assert.equal(await outcome(() => sw.digest('SHA-256', [new Uint8Array(3), 'text' as unknown as Uint8Array])), 'TypeError/TypeError');
    assert.equal(await outcome(() => sw.digest('SHA-256', [5 as unknown as Uint8Array])), 'TypeError/TypeError');
    const boom = new Error('source failed');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      await Promise.resolve();
      throw boom;
    }
    await assert.rejects(sw.digest('SHA-256', failing()), (e) => e === boom);
    // A string is iterable, but not data: a TypeError, as node gives.
    assert.equal(
      await outcome(() => sw.digest('SHA-256', 'abc' as unknown as Uint8Array)),
      await outcome(() => nodeSubtle.digest('SHA-256', 'abc' as never)),
    );
  });
});
