// A worker that ends while one of its requests is still inside an engine, on the loopback
// engine (whose hanging requests stand in for a card that takes its time): the environment
// frees the request's buffers once it is torn down, so a request that outlives it must not
// touch them afterwards. A device request stuck past the shutdown grace period returns later
// to find its session abandoned; a CPU request is waited for. Each case runs in a child
// process, where a write into freed memory is a SIGSEGV (the buffers are large enough to be
// mapped on their own, and unmapped when freed) or a corrupted buffer of the main thread.
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { loadAddon } from '../../../../../src/kernel/bridge/addon.js';
import { packageRoot } from '../../../../support/package-root.js';
import { childFailure, reportOf, runChild } from '../../../../support/worker-scenarios.js';

const { addon } = loadAddon();
const skip = addon?.openLoopback ? undefined : 'needs the addon with its test hooks (KCRYPTO_TEST_HOOKS=1)';
const engine = (path: string): string => JSON.stringify(pathToFileURL(join(packageRoot(), 'dist', 'esm', 'src', path)).href);

/**
 * A child whose worker submits one hanging 8 MiB request on the lane (`cpu`: a synchronous
 * session) and is terminated; the loopbacks are released `releaseMs` after the termination
 * began, while the main thread holds 8 buffers of its own of the same size, filled with 0x55.
 * Reports how long the termination took and how many of those buffers changed.
 */
function stuckWorker(lane: 'cpu' | 'device', releaseMs: number): ReturnType<typeof runChild> {
  const worker = `
    import { parentPort } from 'node:worker_threads';
    import { KernelSession } from ${engine('kernel/bridge/engine/session.js')};
    import { Op } from ${engine('kernel/bridge/engine/types.js')};
    import { loadAddon } from ${engine('kernel/bridge/addon.js')};
    const { addon } = loadAddon();
    const s = new KernelSession(addon.openLoopback(0, 0, true), 'test:loopback', ${lane === 'cpu'}, 'threads', { deadlineMs: 0 });
    void s.request(Op.Encrypt, Buffer.alloc(8 << 20, 1), Buffer.alloc(8 << 20), null, 0).catch(() => {});
    parentPort.postMessage('ready');
    setInterval(() => {}, 1000);
  `;
  return runChild(`
    import { Worker } from 'node:worker_threads';
    import { loadAddon } from ${engine('kernel/bridge/addon.js')};
    const { addon } = loadAddon();
    const w = new Worker(${JSON.stringify(worker)}, { eval: true });
    await new Promise((resolve) => w.once('message', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    let mine = [];
    const release = setTimeout(() => {
      mine = Array.from({ length: 8 }, () => Buffer.alloc(8 << 20, 0x55));
      addon.releaseLoopbacks();
    }, ${releaseMs});
    await w.terminate();
    const terminateMs = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, ${releaseMs} + 500));
    clearTimeout(release);
    console.log(JSON.stringify({ terminateMs, changed: mine.filter((b) => b.some((x) => x !== 0x55)).length, made: mine.length }));
  `);
}

interface Report {
  terminateMs: number;
  changed: number;
  made: number;
}

describe('a worker ends with a request inside an engine', { skip }, () => {
  it('device lane: a request stuck past the grace period returns later without touching the freed buffers', () => {
    const r = stuckWorker('device', 3000);
    assert.equal(r.signal, null, childFailure(r));
    assert.equal(r.status, 0, childFailure(r));
    const report = reportOf(r) as Report;
    assert.ok(report.terminateMs < 3000, `the termination waited ${report.terminateMs} ms, past the grace period`);
    assert.equal(report.made, 8);
    assert.equal(report.changed, 0, 'buffers of the main thread written by the late request');
  });

  it('CPU lane: the termination waits for a running request, which finishes on live buffers', () => {
    const r = stuckWorker('cpu', 3000);
    assert.equal(r.signal, null, childFailure(r));
    assert.equal(r.status, 0, childFailure(r));
    const report = reportOf(r) as Report;
    assert.ok(report.terminateMs >= 2900, `the termination returned after ${report.terminateMs} ms, before its request was released`);
    assert.equal(report.changed, 0, 'buffers of the main thread written by the request');
  });
});
