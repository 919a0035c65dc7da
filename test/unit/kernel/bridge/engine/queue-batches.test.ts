// The device lane's batches for sessions with a kernel queue (native/common/job_batch.h), on
// the loopback engine claiming a queue: when every thread of the lane is busy, a thread takes
// the session's jobs waiting behind its own together, and each still completes exactly once
// with its own result.
import '../../../../support/test-hooks.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { loadAddon } from '../../../../../src/kernel/bridge/addon.js';
import { KernelSession, Op } from '../../../../../src/kernel/bridge/engine/index.js';
import { errnoOf } from '../../../../../src/errno.js';

const { addon, error } = loadAddon();
const skip = addon ? false : `native addon not loaded: ${error}`;
const XOR = 0x5a;
const DEVICE_LANE = 1;

/** A device session (requests on the device lane) on a loopback that sleeps `delayUs` per request. */
function device(queues: boolean, delayUs = 2000, failErrno = 0): KernelSession {
  return new KernelSession(addon!.openLoopback!(delayUs, failErrno, false, queues), 'test:device', false, 'auto');
}

const inputs = Array.from({ length: 20 }, (_, i) => Buffer.alloc(32, i + 1));

/**
 * Every input encrypted at once, round-robin over `sessions`. The outputs are disposable, as the
 * public API's are, unless `disposable` is false; on the device lane both run on their thread's
 * copies, batched or not.
 */
async function encryptAll(sessions: KernelSession[], disposable = true): Promise<Buffer[]> {
  const outs = inputs.map(() => Buffer.alloc(32));
  await Promise.all(
    inputs.map((d, i) => sessions[i % sessions.length]!.request(Op.Encrypt, d, outs[i]!, null, 0, -1, undefined, disposable)),
  );
  return outs;
}

function batchesSince(before: { batches: number; batched: number }): { batches: number; batched: number } {
  const now = addon!.dispatcherStats().device;
  return { batches: now.batches - before.batches, batched: now.batched - before.batched };
}

describe('device lane: batches for a kernel queue', { skip }, () => {
  // One thread: it is busy from the first job on, so what queues behind it is a backlog. The
  // lane starts with its first job (one thread for one job), and takes its cap then.
  before(async () => {
    const s = device(false, 0);
    await s.request(Op.Encrypt, Buffer.alloc(32), Buffer.alloc(32), null, 0, -1, undefined, true);
    await s.close();
    addon!.setMaxThreads(DEVICE_LANE, 1);
    assert.equal(addon!.dispatcherStats().device.threads, 1);
  });
  after(() => addon!.setMaxThreads(DEVICE_LANE, 16));

  it("a backed-up lane hands a queueing session's jobs to its queue together; each gets its own result", async () => {
    const s = device(true);
    const before = addon!.dispatcherStats().device;
    const outs = await encryptAll([s]);
    outs.forEach((o, i) => assert.deepEqual(o, Buffer.from(inputs[i]!.map((b) => b ^ XOR)), `request ${i}`));
    const got = batchesSince(before);
    assert.ok(got.batches >= 1, 'no batch was made');
    assert.ok(got.batched >= 2 && got.batched <= inputs.length, `batched ${got.batched}`);
    assert.equal(s.stats().inFlight, 0);
    await s.close();
  });

  it('a session without a queue is never batched', async () => {
    const s = device(false);
    const before = addon!.dispatcherStats().device;
    await encryptAll([s]);
    assert.deepEqual(batchesSince(before), { batches: 0, batched: 0 });
    await s.close();
  });

  it('outputs not declared disposable are batched too, each copied back to its own buffer', async () => {
    const s = device(true);
    const before = addon!.dispatcherStats().device;
    const outs = await encryptAll([s], false);
    outs.forEach((o, i) => assert.deepEqual(o, Buffer.from(inputs[i]!.map((b) => b ^ XOR)), `request ${i}`));
    assert.ok(batchesSince(before).batches >= 1, 'no batch was made');
    await s.close();
  });

  it("only the same session's jobs, next in line, go together", async () => {
    const a = device(true);
    const b = device(true);
    const before = addon!.dispatcherStats().device;
    // Alternating sessions: no job has one of its own session right behind it.
    const outs = await encryptAll([a, b]);
    outs.forEach((o, i) => assert.deepEqual(o, Buffer.from(inputs[i]!.map((x) => x ^ XOR)), `request ${i}`));
    assert.deepEqual(batchesSince(before), { batches: 0, batched: 0 });
    await Promise.all([a.close(), b.close()]);
  });

  it('a batch whose requests fail fails each of them, once, with its errno', async () => {
    const s = device(true, 500, errnoOf('EIO'));
    const before = addon!.dispatcherStats().device;
    const settled = await Promise.allSettled(inputs.map((d) => s.request(Op.Encrypt, d, Buffer.alloc(32), null, 0, -1, undefined, true)));
    for (const r of settled) {
      assert.equal(r.status, 'rejected');
      assert.equal((r.reason as { code?: string }).code, 'EIO');
    }
    assert.ok(batchesSince(before).batches >= 1);
    assert.equal(s.stats().inFlight, 0);
    await s.close();
  });
});
