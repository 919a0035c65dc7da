// The execution layer over the native dispatcher, on the loopback engine (a test double of
// the engine interface): inline and threaded paths, batching, error decoding, close().
import '../../../../support/test-hooks.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KCryptoError } from '../../../../../src/errors.js';
import { loadAddon } from '../../../../../src/kernel/bridge/addon.js';
import { KernelSession, Op, type Execution } from '../../../../../src/kernel/bridge/engine/index.js';
import { errnoOf } from '../../../../../src/errno.js';

const { addon, error } = loadAddon();
const skip = addon ? false : `native addon not loaded: ${error}`;
const XOR = 0x5a;

function session(execution: Execution, delayUs = 0, failErrno = 0): KernelSession {
  return new KernelSession(addon!.openLoopback!(delayUs, failErrno), 'test:loopback', true, execution);
}

function expected(input: Uint8Array): Buffer {
  return Buffer.from(input.map((b) => b ^ XOR));
}

describe('KernelSession on the loopback engine', { skip }, () => {
  for (const execution of ['inline', 'threads', 'auto'] as const) {
    it(`${execution}: transforms, and gathers an iovec input in order`, async () => {
      const s = session(execution);
      const a = Buffer.from('hello ');
      const b = Buffer.from('world');
      const out = Buffer.alloc(11);
      const n = await s.request(Op.Encrypt, [a, b], out, null, 0);
      assert.equal(n, 11);
      assert.deepEqual(out, expected(Buffer.concat([a, b])));
      await s.close();
    });
  }

  it('threads: 500 requests complete exactly once each, in batches', async () => {
    const s = session('threads', 200);
    const before = addon!.dispatcherStats();
    const inputs = Array.from({ length: 500 }, (_, i) => Buffer.from(`request ${i}`));
    const outs = inputs.map((x) => Buffer.alloc(x.length));
    const results = await Promise.all(inputs.map((x, i) => s.request(Op.Encrypt, x, outs[i]!, null, 0)));
    results.forEach((n, i) => assert.equal(n, inputs[i]!.length));
    outs.forEach((o, i) => assert.deepEqual(o, expected(inputs[i]!)));
    const after = addon!.dispatcherStats();
    const deliveries = after.deliveries - before.deliveries;
    assert.ok(deliveries > 0 && deliveries < 500, `completions arrive batched (${deliveries} deliveries for 500 requests)`);
    assert.equal(s.stats().threaded, 500);
    await s.close();
  });

  it('a failing request rejects with a KCryptoError carrying errno, syscall and driver', async () => {
    for (const execution of ['inline', 'threads'] as const) {
      const s = session(execution, 0, errnoOf('EBADMSG'));
      await assert.rejects(s.request(Op.Decrypt, Buffer.alloc(4), Buffer.alloc(4), null, 0), (err: unknown) => {
        assert.ok(err instanceof KCryptoError);
        assert.equal(err.code, 'EBADMSG');
        assert.equal(err.errno, errnoOf('EBADMSG'));
        assert.equal(err.syscall, 'recvmsg');
        assert.equal(err.driver, 'test:loopback');
        return true;
      });
      await s.close();
    }
  });

  it('close() waits for requests in flight, then refuses new ones with EBADF', async () => {
    const s = session('threads', 20_000);
    const pending = s.request(Op.Encrypt, Buffer.alloc(8), Buffer.alloc(8), null, 0);
    let completed = false;
    void pending.then(() => (completed = true));
    await s.close();
    assert.equal(completed, true, 'the in-flight request finished before close() resolved');
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(8), Buffer.alloc(8), null, 0), { code: 'EBADF' });
  });

  it('auto: small requests on a synchronous driver run inline; a slow driver is not inlined once measured', async () => {
    const fast = session('auto');
    for (let i = 0; i < 20; i++) await fast.request(Op.Encrypt, Buffer.alloc(64), Buffer.alloc(64), null, 0);
    assert.ok(fast.stats().inline >= 19, `fast requests ran inline (${JSON.stringify(fast.stats())})`);
    await fast.close();

    // 5 ms per request: more than the inline limit, so once measured it goes to threads. The
    // estimate rises by a bounded step per sample (outliers must not swing it), so this takes
    // some requests, and it stays there.
    const slow = session('auto', 5000);
    let first = -1;
    for (let i = 0; i < 60 && first < 0; i++) {
      await slow.request(Op.Encrypt, Buffer.alloc(64), Buffer.alloc(64), null, 0);
      if (slow.stats().threaded > 0) first = i;
    }
    assert.ok(first > 0, `slow requests moved to threads once measured (${JSON.stringify(slow.stats())})`);
    for (let i = 0; i < 5; i++) await slow.request(Op.Encrypt, Buffer.alloc(64), Buffer.alloc(64), null, 0);
    assert.equal(slow.stats().threaded, 6, 'and stayed there');
    await slow.close();
  });

  it('auto: requests dearer than a hop run inline when alone, on threads when issued together', async () => {
    // 400 us per request: dearer than a thread hop once measured, below the 4 ms stall ceiling.
    const s = session('auto', 400);
    const io = (): Promise<number> => s.request(Op.Encrypt, Buffer.alloc(64), Buffer.alloc(64), null, 0);
    for (let i = 0; i < 40; i++) await io();
    assert.ok(s.predict(64) > s.inlineLimitNs(), `measured dearer than a hop (${JSON.stringify(s.stats())})`);
    const alone = s.stats();
    for (let i = 0; i < 5; i++) await io();
    assert.equal(s.stats().threaded, alone.threaded, 'a lone request waits a microtask, finds no company, runs inline');
    await Promise.all(Array.from({ length: 8 }, io));
    assert.equal(s.stats().threaded, alone.threaded + 8, 'eight issued together all run on threads, the first included');
    await s.close();
  });

  it('auto: one outlier does not move a cheap stream off the calling thread', async () => {
    const s = session('auto');
    for (let i = 0; i < 20; i++) await s.request(Op.Encrypt, Buffer.alloc(64), Buffer.alloc(64), null, 0);
    // A 50 ms sample, as a GC pause or a descheduled CPU would make one look.
    const before = s.costModel.fixedNs;
    (s as unknown as { observe(size: number, ns: number): void }).observe(64, 50_000_000);
    assert.ok(s.costModel.fixedNs <= before * 1.5, `estimate moved from ${before} to ${s.costModel.fixedNs}`);
    for (let i = 0; i < 20; i++) await s.request(Op.Encrypt, Buffer.alloc(64), Buffer.alloc(64), null, 0);
    assert.equal(s.stats().threaded, 0);
    await s.close();
  });

  it('an asynchronous (device) driver never runs inline', async () => {
    const s = new KernelSession(addon!.openLoopback!(0, 0), 'test:device', false, 'auto');
    for (let i = 0; i < 5; i++) await s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0);
    assert.equal(s.stats().inline, 0);
    await s.close();
  });

  it('a device session opens and closes on the device lane, outside its counters and cost model', async () => {
    const s = new KernelSession(addon!.openLoopback!(0, 0), 'test:device', false, 'auto');
    const opening = s.open();
    assert.equal(s.open(), opening, 'open() is idempotent');
    // Requests may follow at once: they queue behind the open.
    const out = Buffer.alloc(4);
    await Promise.all([opening, s.request(Op.Encrypt, Buffer.from([1, 2, 3, 4]), out, null, 0)]);
    assert.deepEqual(out, expected(Buffer.from([1, 2, 3, 4])));
    const closing = s.close();
    assert.equal(s.stats().inFlight, 1, 'the close is a job on the lane, not a call on this thread');
    await closing;
    const st = s.stats();
    assert.equal(st.inFlight, 0);
    assert.equal(st.threaded, 1);
    assert.equal(st.samples, 1, 'only the request taught the cost model');
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(4), Buffer.alloc(4), null, 0), { code: 'EBADF' });
  });

  it('a CPU session closes on the calling thread', async () => {
    const s = session('auto');
    await s.request(Op.Encrypt, Buffer.alloc(4), Buffer.alloc(4), null, 0);
    const closing = s.close();
    assert.equal(s.stats().inFlight, 0);
    await closing;
  });
});
