// Deadlines and abandoned sessions in the execution layer, on the loopback engine: a request that
// hangs in the "kernel" (the loopback's hang mode, as a request does on a removed virtio-crypto
// card) completes once with ETIMEDOUT, its session dies, its late completion is dropped, its
// thread is replaced, and nothing blocks the event loop. The device lane runs with one thread
// here, so that getting every thread stuck takes one or two requests.
import '../../../../support/test-hooks.js';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { KCryptoError } from '../../../../../src/errors.js';
import { loadAddon } from '../../../../../src/kernel/bridge/addon.js';
import {
  DEFAULT_DEADLINE_MS,
  engineStats,
  KernelSession,
  Op,
  requestDeadlineMs,
  type Abandonment,
} from '../../../../../src/kernel/bridge/engine/index.js';
import { errnoOf } from '../../../../../src/errno.js';

const { addon, error } = loadAddon();
const skip = addon ? false : `native addon not loaded: ${error}`;
const XOR = 0x5a;
const DEADLINE_MS = 150;

/** A device-driver session (requests on the device lane) on the loopback engine. */
function device(options: { hang?: boolean; failErrno?: number; delayUs?: number; deadlineMs?: number } = {}): KernelSession {
  const native = addon!.openLoopback!(options.delayUs ?? 0, options.failErrno ?? 0, options.hang ?? false);
  return new KernelSession(native, 'test:device', false, 'auto', { deadlineMs: options.deadlineMs ?? DEADLINE_MS });
}

/** Waits (event loop free) until `cond` holds; fails after `limit` checks 10 ms apart. */
async function until(cond: () => boolean, what: string, limit = 1000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(
    `never happened: ${what} (device lane ${JSON.stringify(addon!.dispatcherStats().device)}, engine ${JSON.stringify(engineStats())})`,
  );
}

/** Lets hung loopback calls return, and waits until every stuck thread is back. */
async function releaseAll(): Promise<void> {
  addon!.releaseLoopbacks!();
  await until(() => {
    const lane = addon!.dispatcherStats().device;
    return lane.stuck === 0 && lane.threads <= lane.maxThreads && engineStats().abandoned === 0;
  }, 'stuck threads came back, and their replacements retired');
}

function assertError(err: unknown, code: string, syscall: string, driver = 'test:device'): true {
  assert.ok(err instanceof KCryptoError, `a KCryptoError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.equal(err.errno, errnoOf(code));
  assert.equal(err.syscall, syscall);
  assert.equal(err.driver, driver);
  return true;
}

describe('request deadlines on the loopback engine', { skip }, () => {
  before(async () => {
    // The completion handler (and so the lanes) exist once a session has run on threads.
    const s = device();
    await s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0);
    await s.close();
    addon!.setMaxThreads(1, 1);
  });
  after(async () => {
    await releaseAll();
    addon!.setMaxThreads(1, 16);
  });
  beforeEach(() => releaseAll());

  it('a request past its deadline rejects once with ETIMEDOUT; the session dies; the late completion is dropped', async () => {
    const s = device({ hang: true });
    const abandonments: Abandonment[] = [];
    s.onAbandoned((d) => abandonments.push(d));
    let settled = 0;
    const out = Buffer.alloc(16);
    const pending = s.request(Op.Encrypt, Buffer.alloc(16, 1), out, null, 0).finally(() => settled++);
    await assert.rejects(pending, (err) => assertError(err, 'ETIMEDOUT', 'recvmsg'));
    assert.equal(s.isAbandoned, true);
    assert.deepEqual(
      abandonments.map((d) => d.cause),
      ['deadline'],
    );
    assert.equal(s.stats().timedOut, 1);
    assert.ok(addon!.dispatcherStats().device.stuck >= 1, 'the stuck thread is counted');
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), (err) =>
      assertError(err, 'ESHUTDOWN', 'validate'),
    );

    const late = engineStats().lateCompletions;
    addon!.releaseLoopbacks!();
    await until(() => engineStats().lateCompletions > late, 'the late completion arrived');
    // It ran to the end in the "kernel", was not delivered a second time, and wrote nothing into
    // the output the caller may have reused since the rejection: the device lane's thread
    // received it into a buffer of its own and dropped it (the session was abandoned).
    assert.deepEqual(out, Buffer.alloc(16));
    assert.equal(settled, 1);
    await s.close();
  });

  it('a disposable output is guarded too: the late completion of a timed-out request does not land in it', async () => {
    const s = device({ hang: true });
    const out = Buffer.alloc(16);
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(16, 5), out, null, 0, -1, undefined, true), (err) =>
      assertError(err, 'ETIMEDOUT', 'recvmsg'),
    );
    const late = engineStats().lateCompletions;
    addon!.releaseLoopbacks!();
    await until(() => engineStats().lateCompletions > late, 'the late completion arrived');
    // The device lane's thread received it into a buffer of its own: the caller's buffer may
    // be freed by then (a worker torn down), so no late write goes there, disposable or not.
    assert.deepEqual(out, Buffer.alloc(16));
    await s.close();
  });

  it('the other requests of a dying session reject with ESHUTDOWN, and those still queued never run', async () => {
    const s = device({ hang: true });
    const outs = Array.from({ length: 4 }, () => Buffer.alloc(16));
    // One thread in the lane: the first request runs (and hangs), the other three queue.
    const results = await Promise.allSettled(outs.map((o) => s.request(Op.Encrypt, Buffer.alloc(16, 7), o, null, 0)));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as KCryptoError).code : 'fulfilled'));
    assert.deepEqual(codes, ['ETIMEDOUT', 'ESHUTDOWN', 'ESHUTDOWN', 'ESHUTDOWN']);
    results.slice(1).forEach((r) => r.status === 'rejected' && assertError(r.reason, 'ESHUTDOWN', 'recvmsg'));
    const late = engineStats().lateCompletions;
    await releaseAll();
    await until(() => engineStats().lateCompletions > late, 'the hung request finished once released');
    assert.deepEqual(outs[0], Buffer.alloc(16), 'and its result was not written into the output it was given');
    outs.slice(1).forEach((o, i) => assert.deepEqual(o, Buffer.alloc(16), `queued request ${i + 1} never reached the engine`));
    await s.close();
  });

  it('a stuck thread is replaced: the lane keeps serving other sessions', async () => {
    const stuck = device({ hang: true });
    await assert.rejects(stuck.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), { code: 'ETIMEDOUT' });
    const lane = addon!.dispatcherStats().device;
    assert.equal(lane.stuck, 1);
    assert.equal(lane.maxThreads, 1);

    const healthy = device();
    const out = Buffer.alloc(16);
    assert.equal(await healthy.request(Op.Encrypt, Buffer.alloc(16, 3), out, null, 0), 16);
    assert.deepEqual(out, Buffer.alloc(16, 3 ^ XOR));
    assert.equal(addon!.dispatcherStats().device.threads, 2, 'one replacement thread beside the stuck one');
    await releaseAll();
    await until(() => addon!.dispatcherStats().device.threads <= 1, 'the extra thread retired once the stuck one came back');
    await Promise.all([stuck.close(), healthy.close()]);
  });

  it('with every thread and replacement stuck, a queued request times out without abandoning its session', async () => {
    // Cap 1: one thread plus at most one replacement, so two hung sessions leave every thread of the lane stuck.
    const a = device({ hang: true });
    const b = device({ hang: true });
    await assert.rejects(a.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), { code: 'ETIMEDOUT' });
    await assert.rejects(b.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), { code: 'ETIMEDOUT' });
    assert.equal(addon!.dispatcherStats().device.stuck, 2);

    const c = device();
    await assert.rejects(c.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), (err) =>
      assertError(err, 'ETIMEDOUT', 'validate'),
    );
    assert.equal(c.isAbandoned, false, 'the session stuck in the queue did nothing wrong');
    await releaseAll();
    assert.equal(await c.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), 16);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('time spent queued behind other requests does not count towards a deadline', async () => {
    // Eight 50 ms requests on one thread: the last waits 350 ms in the queue, more than its
    // 200 ms deadline, yet runs for 50 ms only.
    const s = device({ delayUs: 50_000, deadlineMs: 200 });
    const results = await Promise.all(Array.from({ length: 8 }, () => s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0)));
    assert.deepEqual(results, Array(8).fill(16));
    assert.equal(s.isAbandoned, false);
    await s.close();
  });

  it('closing an abandoned session never blocks the event loop, even when closing blocks in the kernel', async () => {
    // The loopback's close() hangs too, as close() does on a removed card: run on this thread,
    // it would never return and this test would never finish.
    const s = device({ hang: true });
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), { code: 'ETIMEDOUT' });
    await s.close();
    assert.equal(s.isClosed, true);
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), { code: 'EBADF' });
  });

  it('a device that fails a request with ESHUTDOWN kills its session; a CPU driver failing so does not die', async () => {
    const s = device({ failErrno: errnoOf('ESHUTDOWN') });
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), (err) =>
      assertError(err, 'ESHUTDOWN', 'recvmsg'),
    );
    assert.equal(s.abandonment?.cause, 'device-error');
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), (err) =>
      assertError(err, 'ESHUTDOWN', 'validate'),
    );
    await s.close();

    const cpu = new KernelSession(addon!.openLoopback!(0, errnoOf('ESHUTDOWN')), 'test:cpu', true, 'threads', { deadlineMs: DEADLINE_MS });
    await assert.rejects(cpu.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), { code: 'ESHUTDOWN' });
    assert.equal(cpu.isAbandoned, false);
    await cpu.close();
  });

  it("abandon: 'keep' leaves requests in flight to finish, ENODEV rejects them; onAbandoned fires once", async () => {
    const s = device({ hang: true, deadlineMs: 0 });
    const abandonments: Abandonment[] = [];
    s.onAbandoned((d) => abandonments.push(d));
    let state = 'pending';
    const inFlight = s.request(Op.Decrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0).then(
      () => (state = 'fulfilled'),
      (err: unknown) => {
        state = 'rejected';
        throw err;
      },
    );
    await until(() => addon!.dispatcherStats().device.running >= 1, 'the request reached a thread');
    s.abandon('device-removed', 'test: card removed', 'keep');
    await assert.rejects(s.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), (err) =>
      assertError(err, 'ESHUTDOWN', 'validate'),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(state, 'pending', 'kept in flight');
    s.abandon('device-removed', 'test: driver gone', 'ENODEV');
    await assert.rejects(inFlight, (err) => assertError(err, 'ENODEV', 'recvmsg'));
    assert.deepEqual(
      abandonments.map((d) => [d.cause, d.detail]),
      [['device-removed', 'test: card removed']],
    );
    let late = 0;
    s.onAbandoned(() => late++);
    await new Promise((r) => setImmediate(r));
    assert.equal(late, 1, 'a listener added after abandonment is called too');
    await s.close();
  });

  it('device drivers run on threads even when told to run inline; CPU drivers run inline', async () => {
    const d = new KernelSession(addon!.openLoopback!(0, 0), 'test:device', false, 'inline');
    const c = new KernelSession(addon!.openLoopback!(0, 0), 'test:cpu', true, 'inline');
    for (let i = 0; i < 3; i++) {
      await d.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0);
      await c.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0);
    }
    assert.deepEqual([d.stats().inline, d.stats().threaded], [0, 3]);
    assert.deepEqual([c.stats().inline, c.stats().threaded], [3, 0]);
    await Promise.all([d.close(), c.close()]);
  });
});

describe('the default deadline', () => {
  it('comes from KCRYPTO_REQUEST_DEADLINE_MS when that is a whole number of ms (0: none)', () => {
    assert.equal(requestDeadlineMs({}), DEFAULT_DEADLINE_MS);
    assert.equal(requestDeadlineMs({ KCRYPTO_REQUEST_DEADLINE_MS: '2500' }), 2500);
    assert.equal(requestDeadlineMs({ KCRYPTO_REQUEST_DEADLINE_MS: '0' }), 0);
    assert.equal(requestDeadlineMs({ KCRYPTO_REQUEST_DEADLINE_MS: '' }), DEFAULT_DEADLINE_MS);
  });

  it('ignores a value that is not a whole number of ms, with a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      assert.equal(requestDeadlineMs({ KCRYPTO_REQUEST_DEADLINE_MS: '10s' }), DEFAULT_DEADLINE_MS);
      assert.equal(requestDeadlineMs({ KCRYPTO_REQUEST_DEADLINE_MS: '-5' }), DEFAULT_DEADLINE_MS);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(warnings.filter((w) => w.includes('KCRYPTO_REQUEST_DEADLINE_MS')).length, 2);
  });

  it('a session refuses a negative deadline', { skip }, () => {
    assert.throws(() => new KernelSession(addon!.openLoopback!(0, 0), 'test:device', false, 'auto', { deadlineMs: -1 }), RangeError);
  });
});
