/**
 * The addon in worker_threads and at teardown, as scenarios that each run in a child process
 * (a crash is then a failed exit status, not the end of the test runner): several workers at
 * once, workers terminated with requests in flight, the main thread exiting with requests in
 * flight, sessions dropped without close() and collected. Each scenario takes the driver to
 * run on, so that the unit tests run them on the host's drivers and the lab on device drivers.
 *
 * Every surviving thread checks each of its requests: it settles exactly once, with the
 * ciphertext node:crypto computes. The surviving process lists its descriptors before and after
 * (see DESCRIPTORS), so a session a worker or the collector took away that left a socket or a
 * /dev/crypto handle behind shows as a leak.
 */
import { spawnSync } from 'node:child_process';

import { packageRoot } from './package-root.js';

/** What a scenario's child process did. */
export interface ChildRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Where a scenario runs: the `driver` and `execution` options of its sessions. */
export interface ScenarioTarget {
  /** openSession's `driver` option (`openssl`, `kernel`, `afalg:virtio_crypto_aes_cbc`, a /dev/crypto driver). */
  readonly driver: string;
  /** Bytes per request: large enough that requests are still running when a worker ends. */
  readonly size: number;
  /** Rounds of the several-workers and terminated-workers scenarios; sessions of the dropped-sessions one. */
  readonly rounds: number;
  readonly sessions: number;
}

/** Runs `script` as an ES module in the package directory (where `kcrypto` resolves to this package). */
export function runChild(script: string, args: readonly string[] = [], timeoutMs = 180_000): ChildRun {
  const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', script], {
    cwd: packageRoot(),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Why a child failed, for assertion messages: its status or signal and the end of its stderr. */
export function childFailure(r: ChildRun): string {
  return `child ended with ${r.signal ?? `status ${r.status}`}:\n${r.stderr.slice(-4000)}`;
}

/** The last line of a child's stdout, parsed: the scenario's report. */
export function reportOf(r: ChildRun): unknown {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as unknown;
}

// Code shared by the children (module scope of an ES module): descriptors by number and target,
// the reference ciphertext, and a request that counts how often it settles and checks its output.
const PRELUDE = `
  import { readdirSync, readlinkSync } from 'node:fs';
  import { createCipheriv } from 'node:crypto';
  const fdList = () => {
    const m = new Map();
    for (const n of readdirSync('/proc/self/fd')) { try { m.set(n, readlinkSync('/proc/self/fd/' + n)); } catch {} }
    return m;
  };
  const leaked = (before, after) => [...after].filter(([n, t]) => before.get(n) !== t).map(([n, t]) => n + ' -> ' + t);
  const reference = (key, iv, data) => {
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    return Buffer.concat([c.update(data), c.final()]);
  };
  const tally = { issued: 0, settled: 0, twice: 0, right: 0, wrong: 0, failed: [] };
  const checked = (session, data, iv, want) => {
    tally.issued++;
    let n = 0;
    return session.encrypt(data, { iv }).then(
      (out) => { if (n++) tally.twice++; else tally.settled++; if (out.ciphertext.equals(want)) tally.right++; else tally.wrong++; },
      (err) => { if (n++) tally.twice++; else tally.settled++; tally.failed.push(err.code + ': ' + err.message); },
    );
  };
  const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // What is still open or held 'ms' after the work ended, polled: a descriptor a teardown frees
  // on another thread may close a moment later, longer on a slow machine; a leak stays.
  const leftAfter = async (before, ms = 20000, held = () => []) => {
    const end = Date.now() + ms;
    for (;;) {
      globalThis.gc?.();
      const left = { leaked: leaked(before, fdList()), held: held() };
      if ((left.leaked.length === 0 && left.held.length === 0) || Date.now() > end) return left;
      await settle(50);
    }
  };
  // Node opens a descriptor of its own the first time a worker starts (/dev/null, where stdout
  // is a pipe) and keeps it: started once before the baseline, it is not taken for a leak.
  const firstWorker = async () => {
    const { Worker } = await import('node:worker_threads');
    await new Promise((resolve) => new Worker('0', { eval: true }).once('exit', resolve));
  };
`;

/** A request tally, as every surviving thread reports it. */
export interface Tally {
  issued: number;
  settled: number;
  /** Requests that settled more than once. */
  twice: number;
  right: number;
  wrong: number;
  failed: string[];
}

const open = (t: ScenarioTarget, key: string): string =>
  `openSession({ cipher: 'aes-128-cbc', key: ${key} }, { driver: ${JSON.stringify(t.driver)}, execution: 'threads' })`;

/** Report of {@link severalWorkers}: each worker's tally, and the main thread's descriptors. */
export interface SeveralWorkersReport {
  workers: Tally[];
  leaked: string[];
}

/** Several workers at once, each with `rounds` rounds of 4 requests in flight on its own session. */
export function severalWorkers(t: ScenarioTarget, workers = 3): ChildRun {
  const worker = `${PRELUDE}
    import { parentPort } from 'node:worker_threads';
    import { randomBytes } from 'node:crypto';
    import { openSession } from 'kcrypto';
    const key = randomBytes(16);
    const s = await ${open(t, 'key')};
    for (let round = 0; round < ${t.rounds}; round++) {
      const batch = Array.from({ length: 4 }, (_, i) => ({ data: randomBytes(${t.size} >> i), iv: randomBytes(16) }));
      await Promise.all(batch.map(({ data, iv }) => checked(s, data, iv, reference(key, iv, data))));
    }
    await s.close();
    parentPort.postMessage(tally);
  `;
  return runChild(`${PRELUDE}
    import { Worker } from 'node:worker_threads';
    import { openSession } from 'kcrypto';
    await (await ${open(t, 'Buffer.alloc(16, 1)')}).close();
    await firstWorker();
    const before = fdList();
    const tallies = await Promise.all(Array.from({ length: ${workers} }, () => new Promise((resolve, reject) => {
      const w = new Worker(${JSON.stringify(worker)}, { eval: true });
      let got;
      w.once('message', (m) => (got = m)).once('error', reject).once('exit', () => resolve(got));
    })));
    console.log(JSON.stringify({ workers: tallies, leaked: (await leftAfter(before)).leaked }));
  `);
}

/** Report of {@link terminatedWorkers}: the main thread's tally, and its descriptors. */
export interface TerminatedWorkersReport {
  main: Tally;
  /** Requests of a session opened after the last worker was terminated. */
  after: Tally;
  leaked: string[];
}

/**
 * Rounds of two workers that keep 16 requests each in flight on the addon's threads, terminated
 * while the main thread has 8 requests of its own in flight on the same driver; then a fresh
 * session in the main thread, to show the process goes on working.
 */
export function terminatedWorkers(t: ScenarioTarget): ChildRun {
  const busy = `
    import { parentPort } from 'node:worker_threads';
    import { openSession } from 'kcrypto';
    const s = await ${open(t, 'Buffer.alloc(16, 1)')};
    const data = Buffer.alloc(${t.size}, 2);
    parentPort.postMessage('ready');
    for (;;) await Promise.all(Array.from({ length: 16 }, () => s.encrypt(data, { iv: Buffer.alloc(16) })));
  `;
  return runChild(`${PRELUDE}
    import { Worker } from 'node:worker_threads';
    import { openSession } from 'kcrypto';
    const key = Buffer.alloc(16, 1);
    await (await ${open(t, 'key')}).close();
    await firstWorker();
    const before = fdList();
    const s = await ${open(t, 'key')};
    const data = Buffer.alloc(${t.size}, 3);
    const iv = Buffer.alloc(16);
    const want = reference(key, iv, data);
    for (let round = 0; round < ${t.rounds}; round++) {
      const ws = [0, 1].map(() => new Worker(${JSON.stringify(busy)}, { eval: true }));
      await Promise.all(ws.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))));
      await settle(20);
      const mine = Promise.all(Array.from({ length: 8 }, () => checked(s, data, iv, want)));
      await Promise.all(ws.map((w) => w.terminate()));
      await mine;
    }
    await s.close();
    const main = { ...tally };
    Object.assign(tally, { issued: 0, settled: 0, twice: 0, right: 0, wrong: 0, failed: [] });
    const fresh = await ${open(t, 'key')};
    await Promise.all(Array.from({ length: 4 }, () => checked(fresh, data, iv, want)));
    await fresh.close();
    console.log(JSON.stringify({ main, after: tally, leaked: (await leftAfter(before)).leaked }));
  `);
}

/** The main thread exits (process.exit) with 16 requests in flight; prints `exiting` first. */
export function exitInFlight(t: ScenarioTarget): ChildRun {
  return runChild(`
    import { openSession } from 'kcrypto';
    const s = await ${open(t, 'Buffer.alloc(16, 1)')};
    for (let i = 0; i < 16; i++) void s.encrypt(Buffer.alloc(${t.size}), { iv: Buffer.alloc(16) });
    console.log('exiting');
    process.exit(0);
  `);
}

/** Report of {@link droppedSessions}: the requests' tally, and what was left once they were collected. */
export interface DroppedSessionsReport {
  tally: Tally;
  leaked: string[];
  /** Framework sessions of the dropped sessions still open (the framework's table holds them). */
  held: number;
}

/** Sessions opened, used once and dropped without close(), then collected (--expose-gc). */
export function droppedSessions(t: ScenarioTarget): ChildRun {
  return runChild(
    `${PRELUDE}
    import { framework, openSession } from 'kcrypto';
    const key = Buffer.alloc(16, 4);
    const data = Buffer.alloc(${t.size}, 5);
    const iv = Buffer.alloc(16, 6);
    const want = reference(key, iv, data);
    const sids = [];
    const use = async () => {
      const s = await ${open(t, 'key')};
      sids.push(s.frameworkSid);
      await checked(s, data, iv, want);
    };
    await use();
    for (let i = 0; i < 5; i++) { globalThis.gc(); await settle(10); }
    const before = fdList();
    for (let i = 0; i < ${t.sessions}; i++) await use();
    const left = await leftAfter(before, 20000, () => sids.filter((sid) => framework.sessionInfo(sid) !== undefined));
    console.log(JSON.stringify({ tally, leaked: left.leaked, held: left.held.length }));
  `,
    ['--expose-gc'],
  );
}
