// Threaded requests cross into the addon together, one call per burst, and a request the addon refuses (its session gone meanwhile) still completes exactly once.
import '../../../../support/test-hooks.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KCryptoError } from '../../../../../src/errors.js';
import { loadAddon, SubmitArg, SubmitShape, type NativeAddon, type NativeSession } from '../../../../../src/kernel/bridge/addon.js';
import type { Pending } from '../../../../../src/kernel/bridge/engine/completions.js';
import { KernelSession, Op } from '../../../../../src/kernel/bridge/engine/index.js';
import { BATCH_MAX, Submissions } from '../../../../../src/kernel/bridge/engine/submissions.js';

const { addon, error } = loadAddon();
const skip = addon ? false : `native addon not loaded: ${error}`;
const XOR = 0x5a;

function session(lane: 'cpu' | 'device' = 'cpu'): KernelSession {
  return new KernelSession(addon!.openLoopback!(0, 0), 'test:loopback', lane === 'cpu', 'threads');
}

describe('submissions to the addon threads', { skip }, () => {
  it('a burst larger than one batch, over two sessions on both lanes, completes exactly once each with the right bytes', async () => {
    const cpu = session('cpu');
    const device = session('device');
    const n = BATCH_MAX * 2 + 17;
    const inputs = Array.from({ length: n }, (_, i) => Buffer.from(`request ${i} `.repeat(1 + (i % 5))));
    const outs = inputs.map((x) => Buffer.alloc(x.length));
    let settled = 0;
    const results = await Promise.all(
      inputs.map((x, i) => (i % 3 === 0 ? device : cpu).request(Op.Encrypt, x, outs[i]!, null, 0).finally(() => settled++)),
    );
    assert.equal(settled, n);
    results.forEach((r, i) => assert.equal(r, inputs[i]!.length));
    outs.forEach((o, i) => assert.deepEqual(o, Buffer.from(inputs[i]!.map((b) => b ^ XOR))));
    assert.equal(cpu.stats().threaded + device.stats().threaded, n);
    await Promise.all([cpu.close(), device.close()]);
  });

  it('a burst crosses into the addon in one call per BATCH_MAX jobs, after the code that made it; a lone job in submit()', async () => {
    const calls: number[] = [];
    const singles: unknown[] = [];
    const fake = {
      setSubmitArgs: () => undefined,
      submitBatch: (count: number, ...refs: unknown[]) => {
        assert.equal(refs.length, count * 4);
        assert.equal(refs[0], native);
        assert.equal(refs[4], null, "the previous job's session is not repeated");
        calls.push(count);
        return undefined;
      },
    } as unknown as NativeAddon;
    const failed: Pending[] = [];
    const sub = new Submissions(fake, (p) => failed.push(p));
    const native = { submit: (input: unknown) => singles.push(input) } as unknown as NativeSession;
    const pending = (id: number): Pending => ({ id }) as Pending;
    for (let i = 0; i < BATCH_MAX + 44; i++) {
      sub.args[sub.offset + SubmitArg.id] = i;
      sub.add(native, Buffer.alloc(1), null, null, pending(i));
    }
    assert.deepEqual(calls, [BATCH_MAX], 'a full batch goes at once');
    await Promise.resolve();
    assert.deepEqual(calls, [BATCH_MAX, 44], 'the rest at the end of the microtasks');
    sub.add(native, Buffer.from('one'), null, null, pending(9));
    await Promise.resolve();
    assert.deepEqual(singles, [Buffer.from('one')]);
    assert.deepEqual(failed, []);
  });

  it('a refused job (bad arguments) rejects its own request; the others of the batch run', async () => {
    const s = session();
    const good = Buffer.from('fine');
    const out = Buffer.alloc(4);
    const bad = s.request(Op.Encrypt, 'not bytes' as unknown as Uint8Array, Buffer.alloc(9), null, 0);
    const ok = s.request(Op.Encrypt, good, out, null, 0);
    await assert.rejects(bad, TypeError);
    assert.equal(await ok, 4);
    assert.deepEqual(out, Buffer.from(good.map((b) => b ^ XOR)));
    assert.equal(s.stats().inFlight, 0);
    assert.equal(s.stats().errors, 1);
    await s.close();
  });

  it('a job whose native session was let go before the batch was sent rejects with EBADF, once', async () => {
    const s = session();
    const p = s.request(Op.Encrypt, Buffer.from('late'), Buffer.alloc(4), null, 0);
    // Closed under the request's feet, before the microtask that sends the batch.
    s.native.close();
    await assert.rejects(p, (err: unknown) => err instanceof KCryptoError && err.code === 'EBADF');
    assert.equal(s.stats().inFlight, 0);
    await s.close();
  });

  it("a batch alternating sessions runs each job on its own session: a closed one's jobs fail, the open one's run", async () => {
    const open = session();
    const closed = session();
    const requests = [open, closed, closed, open, closed, open].map((s, i) => ({
      s,
      out: Buffer.alloc(3),
      p: s.request(Op.Encrypt, Buffer.from(`j${i}!`), Buffer.alloc(3), i % 2 === 0 ? Buffer.alloc(16) : null, 0),
    }));
    closed.native.close();
    const settled = await Promise.allSettled(requests.map((r) => r.p));
    settled.forEach((r, i) => {
      if (requests[i]!.s === open) assert.equal(r.status, 'fulfilled', `job ${i}`);
      else assert.ok(r.status === 'rejected' && r.reason instanceof KCryptoError && r.reason.code === 'EBADF', `job ${i}`);
    });
    await Promise.all([open.close(), closed.close()]);
  });

  it("writes each job's shape: a repeated session, an absent output, an absent iv", () => {
    const fake = { setSubmitArgs: () => undefined, submitBatch: () => undefined } as unknown as NativeAddon;
    const sub = new Submissions(fake, () => assert.fail('nothing is refused'));
    const a = {} as NativeSession;
    const b = {} as NativeSession;
    const shapes: number[] = [];
    const jobs: [NativeSession, Uint8Array | null, Uint8Array | null][] = [
      [a, Buffer.alloc(1), Buffer.alloc(16)],
      [a, null, null],
      [b, Buffer.alloc(1), null],
      [b, null, Buffer.alloc(16)],
    ];
    jobs.forEach(([native, output, iv], i) => {
      const at = sub.offset;
      sub.add(native, Buffer.alloc(1), output, iv, { id: i } as Pending);
      shapes.push(sub.args[at + SubmitArg.shape]!);
    });
    const { sameSession, noOutput, noIv } = SubmitShape;
    assert.deepEqual(shapes, [0, sameSession | noOutput | noIv, noIv, sameSession | noOutput]);
    sub.flush();
  });
});
