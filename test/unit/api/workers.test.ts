// The addon in worker_threads and at teardown: several workers at once, workers terminated with
// requests in flight on the addon's threads, the main thread exiting with requests in flight,
// sessions dropped without close(). Each case runs in a child process, so that a crash is a
// failed exit status here, not the end of the test runner.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { openSession } from '../../../src/index.js';
import { findPackageRoot } from '../../../src/package-root.js';

const root = findPackageRoot(fileURLToPath(import.meta.url))!;

/** Runs `script` as an ES module in the package directory; its exit status, signal and output. */
function run(
  script: string,
  args: string[] = [],
): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Why the addon's openssl driver cannot serve here, or null when it can. */
async function opensslMissing(): Promise<string | null> {
  try {
    await (await openSession({ hash: 'sha256' }, { driver: 'openssl' })).close();
    return null;
  } catch (err) {
    return `the openssl driver does not open here: ${(err as Error).message}`;
  }
}

/** A worker's source (an ES module, as the child's --input-type makes it): opens an AES session on the addon's threads and keeps 16 × 1 MiB in flight. */
const BUSY_WORKER = `
  import { parentPort } from 'node:worker_threads';
  import { openSession } from 'kcrypto';
  const s = await openSession({ cipher: 'aes-128-cbc', key: Buffer.alloc(16, 1) }, { driver: 'openssl', execution: 'threads' });
  const data = Buffer.alloc(1 << 20, 2);
  parentPort.postMessage('ready');
  for (;;) await Promise.all(Array.from({ length: 16 }, () => s.encrypt(data, { iv: Buffer.alloc(16) })));
`;

/** A worker's source: 50 rounds of two digests at once on the addon's threads; posts how many matched. */
const CHECKING_WORKER = `
  import { parentPort } from 'node:worker_threads';
  import { createHash } from 'node:crypto';
  import { openSession } from 'kcrypto';
  const s = await openSession({ hash: 'sha256' }, { driver: 'openssl', execution: 'threads' });
  let ok = 0;
  for (let i = 0; i < 50; i++) {
    const data = Buffer.alloc(4096 * (i + 1), i);
    const got = await Promise.all([s.digest(data), s.digest(data)]);
    const want = createHash('sha256').update(data).digest();
    if (got.every((d) => d.equals(want))) ok++;
  }
  await s.close();
  parentPort.postMessage(ok);
`;

describe('workers and teardown', () => {
  it('several workers use the addon at once, each with results as node:crypto gives them', async (t) => {
    const missing = await opensslMissing();
    if (missing) return t.skip(missing);
    const r = run(`
      import { Worker } from 'node:worker_threads';
      const src = ${JSON.stringify(CHECKING_WORKER)};
      const oks = await Promise.all([0, 1, 2, 3].map(() => new Promise((resolve, reject) => {
        const w = new Worker(src, { eval: true });
        w.once('message', resolve).once('error', reject);
      })));
      console.log(JSON.stringify(oks));
    `);
    assert.equal(r.status, 0, `child: ${r.signal ?? ''} ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), [50, 50, 50, 50]);
  });

  it('workers terminated with requests in flight: no crash, and the main thread carries on', async (t) => {
    const missing = await opensslMissing();
    if (missing) return t.skip(missing);
    const r = run(`
      import { Worker } from 'node:worker_threads';
      import { createCipheriv } from 'node:crypto';
      import { openSession } from 'kcrypto';
      const key = Buffer.alloc(16, 1);
      const s = await openSession({ cipher: 'aes-128-cbc', key }, { driver: 'openssl', execution: 'threads' });
      const data = Buffer.alloc(1 << 20, 3);
      const c = createCipheriv('aes-128-cbc', key, Buffer.alloc(16)).setAutoPadding(false);
      const want = Buffer.concat([c.update(data), c.final()]);
      let good = 0;
      for (let round = 0; round < 5; round++) {
        const ws = [0, 1, 2].map(() => new Worker(${JSON.stringify(BUSY_WORKER)}, { eval: true }));
        await Promise.all(ws.map((w) => new Promise((resolve) => w.once('message', resolve))));
        await new Promise((resolve) => setTimeout(resolve, 20));
        const mine = Promise.all(Array.from({ length: 8 }, () => s.encrypt(data, { iv: Buffer.alloc(16) })));
        await Promise.all(ws.map((w) => w.terminate()));
        for (const out of await mine) if (out.ciphertext.equals(want)) good++;
      }
      await s.close();
      console.log(JSON.stringify({ good }));
    `);
    assert.equal(r.status, 0, `child: ${r.signal ?? ''} ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), { good: 40 });
  });

  it('the main thread exits with requests in flight: a clean exit', async (t) => {
    const missing = await opensslMissing();
    if (missing) return t.skip(missing);
    const r = run(`
      import { openSession } from 'kcrypto';
      const s = await openSession({ cipher: 'aes-128-cbc', key: Buffer.alloc(16, 1) }, { driver: 'openssl', execution: 'threads' });
      for (let i = 0; i < 16; i++) void s.encrypt(Buffer.alloc(1 << 20), { iv: Buffer.alloc(16) });
      console.log('exiting');
      process.exit(0);
    `);
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'exiting');
  });

  it('sessions dropped without close() are collected, with no descriptor left behind', async (t) => {
    const missing = await opensslMissing();
    if (missing) return t.skip(missing);
    const r = run(
      `
      import { readdirSync } from 'node:fs';
      import { openSession } from 'kcrypto';
      const fds = () => readdirSync('/proc/self/fd').length;
      const open = async () => {
        const s = await openSession({ hash: 'sha256' }, { driver: 'openssl', execution: 'threads' });
        await s.digest(Buffer.alloc(100_000));
      };
      await open();
      const before = fds();
      for (let i = 0; i < 200; i++) await open();
      for (let i = 0; i < 5; i++) {
        globalThis.gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      console.log(JSON.stringify({ before, after: fds() }));
    `,
      ['--expose-gc'],
    );
    assert.equal(r.status, 0, `child: ${r.signal ?? ''} ${r.stderr}`);
    const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
    assert.ok(after <= before, `descriptors: ${before} before, ${after} after`);
  });
});
