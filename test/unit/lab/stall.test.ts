// The lab's stall watchdog: when the host says the command's output has stalled, what it
// reports, and the guest's task dump (the shell function run here against a made-up /proc).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { BUSYBOX_PATH } from '../../../src/lab/prereqs.js';
import { renderStage2Script, SHARE_FILES, type Stage2Config } from '../../../src/lab/scripts.js';
import { blockedTasks, DEFAULT_STALL_MS, renderTaskDump, stallMessage, StallWatch } from '../../../src/lab/stall.js';

/** A clock the test moves by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('lab stall watchdog (host)', () => {
  it('does not fire before it is armed, however long the silence', () => {
    const c = clock();
    const w = new StallWatch(10_000, c.now);
    c.advance(60_000);
    assert.equal(w.check(), undefined);
    w.output('booting\n');
    c.advance(60_000);
    assert.equal(w.check(), undefined);
  });

  it('fires once the output has been silent for the stall time, and only once', () => {
    const c = clock();
    const w = new StallWatch(10_000, c.now);
    w.arm();
    c.advance(9_999);
    assert.equal(w.check(), undefined);
    c.advance(1);
    assert.equal(w.check(), 10_000);
    c.advance(5_000);
    assert.equal(w.check(), undefined, 'a second check after firing');
  });

  it('counts any output as progress', () => {
    const c = clock();
    const w = new StallWatch(10_000, c.now);
    w.arm();
    for (let i = 0; i < 10; i++) {
      c.advance(9_000);
      w.output(i % 2 === 0 ? 'ok 1\n' : 'partial line without newline');
      assert.equal(w.check(), undefined, `after chunk ${i}`);
    }
    c.advance(10_000);
    assert.equal(w.check(), 10_000);
  });

  it('keeps the first arming time', () => {
    const c = clock();
    const w = new StallWatch(10_000, c.now);
    w.arm();
    c.advance(6_000);
    w.arm();
    c.advance(4_000);
    assert.equal(w.check(), 10_000);
  });

  it('never fires when off (0) or disarmed (the guest has reported)', () => {
    const c = clock();
    const off = new StallWatch(0, c.now);
    off.arm();
    const disarmed = new StallWatch(10_000, c.now);
    disarmed.arm();
    disarmed.disarm();
    c.advance(3_600_000);
    assert.equal(off.check(), undefined);
    assert.equal(disarmed.check(), undefined);
    assert.throws(() => new StallWatch(-1), RangeError);
  });

  it('has a default that leaves a slow test under emulation minutes of silence', () => {
    assert.ok(DEFAULT_STALL_MS >= 5 * 60_000);
  });

  it('knows the pass and the last line, across chunk boundaries', () => {
    const c = clock();
    const w = new StallWatch(1_000, c.now);
    w.arm();
    w.output(
      '\n=== lab pass: /dev/crypto fixture, linux ABI ===\n✔ a test\n=== lab pass: /dev/crypto fixture, linux ABI: ok in 42 s ===\n',
    );
    assert.equal(w.currentPass, '/dev/crypto fixture, linux ABI (ended)');
    w.output('\n=== lab pass: hot ');
    w.output('unplug ===\r\n# removing card0\n');
    c.advance(1_500);
    const silent = w.check();
    assert.equal(silent, 1_500);
    const s = w.describe(silent, undefined);
    assert.equal(s.pass, 'hot unplug');
    assert.equal(s.lastLine, '# removing card0');
    assert.equal(s.answered, false);
    assert.match(
      stallMessage(s),
      /^stalled: no output for 2 s in pass "hot unplug" \(last output: "# removing card0"\); the guest did not answer/,
    );
  });

  it('reads the blocked threads of the dump into the message', () => {
    const dump = [
      '=== threads in uninterruptible sleep (D)',
      'blocked: pid=812 tid=830 wchan=virtio_crypto_skcipher_crypt_req comm=node',
      '    [<0>] __schedule+0x2f4/0x8b0',
      'blocked: pid=901 tid=901 wchan=? comm=kworker/u4:2 x',
      'not blocked: pid=1 tid=1 wchan=do_wait comm=sh',
    ].join('\n');
    assert.deepEqual(blockedTasks(dump), ['node 812/830 in virtio_crypto_skcipher_crypt_req', 'kworker/u4:2 x 901/901 in ?']);
    const c = clock();
    const w = new StallWatch(1_000, c.now);
    const s = w.describe(61_000, dump);
    assert.match(
      stallMessage(s),
      /^stalled: no output for 61 s; task dump: 2 thread\(s\) in uninterruptible sleep: node 812\/830 in virtio/,
    );
    assert.match(stallMessage(w.describe(61_000, '=== threads\n')), /task dump: no task in uninterruptible sleep$/);
    assert.match(
      stallMessage(w.describe(61_000, undefined, '2 fault(s), the first: Oops: general protection fault')),
      /did not answer the request for a task dump within 20 s \(wedged as a whole\?\); the guest kernel reported 2 fault\(s\), the first: Oops: general protection fault$/,
    );
  });
});

describe('lab stall watchdog (guest task dump)', () => {
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kcrypto-proc-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A made-up /proc: one thread per entry, `stat` as the kernel writes it. */
  function makeProc(
    threads: { pid: number; tid: number; comm: string; state: string; ppid: number; wchan?: string; stack?: string }[],
  ): string {
    const proc = path.join(root, 'proc');
    for (const t of threads) {
      const dir = path.join(proc, String(t.pid), 'task', String(t.tid));
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'stat'), `${t.tid} (${t.comm}) ${t.state} ${t.ppid} ${t.pid} ${t.pid} 0 -1 4194560 100 0\n`);
      fs.writeFileSync(path.join(dir, 'wchan'), t.wchan ?? '0');
      fs.writeFileSync(path.join(dir, 'stack'), t.stack ?? '');
    }
    fs.writeFileSync(path.join(proc, 'uptime'), '123.45 200.00\n');
    fs.writeFileSync(path.join(proc, 'loadavg'), '1.00 0.50 0.20 2/80 999\n');
    return proc;
  }

  it('lists the threads in D state with their stacks, every user thread, and triggers sysrq w then t', (t) => {
    if (!fs.existsSync(BUSYBOX_PATH)) return t.skip(`${BUSYBOX_PATH} missing (Debian package busybox-static)`);
    const proc = makeProc([
      { pid: 1, tid: 1, comm: 'sh', state: 'S', ppid: 0, wchan: 'do_wait' },
      { pid: 2, tid: 2, comm: 'kthreadd', state: 'S', ppid: 0 },
      { pid: 40, tid: 40, comm: 'kworker/0:1', state: 'D', ppid: 2, wchan: 'flush_work', stack: '[<0>] flush_work+0x1/0x2\n' },
      { pid: 300, tid: 300, comm: 'node', state: 'S', ppid: 1, wchan: 'ep_poll' },
      {
        pid: 300,
        tid: 310,
        comm: 'kcrypto io',
        state: 'D',
        ppid: 1,
        wchan: 'virtcrypto_req',
        stack: '[<0>] virtcrypto_req+0x10/0x20\n[<0>] x\n',
      },
      { pid: 301, tid: 301, comm: 'node', state: 'Z', ppid: 300 },
    ]);
    const sysrq = path.join(root, 'sysrq');
    // The kernel log: a stub that says what it was asked (the real one would clear the host's).
    const dmesg = path.join(root, 'dmesg');
    fs.writeFileSync(dmesg, `#!/bin/sh\necho "dmesg $* after $(cat ${sysrq} 2>/dev/null | tr '\\n' ' ')"\n`, { mode: 0o755 });
    const script = `${renderTaskDump()}\nbb=${BUSYBOX_PATH}; P=${proc}; SYSRQ=${sysrq}; DMESG=${dmesg}\ndump_tasks\n`;
    // SYSRQ is written with '>' (each key alone, as the kernel reads them): log each write.
    const out = execFileSync('sh', ['-c', script.replace(/echo ([wt]) > "\$SYSRQ"/g, 'echo $1 >> "$SYSRQ"')], { encoding: 'utf8' });
    assert.deepEqual(
      out.split('\n').filter((l) => l.startsWith('blocked:')),
      ['blocked: pid=300 tid=310 wchan=virtcrypto_req comm=kcrypto io', 'blocked: pid=40 tid=40 wchan=flush_work comm=kworker/0:1'],
    );
    assert.ok(
      out.includes('blocked: pid=300 tid=310 wchan=virtcrypto_req comm=kcrypto io\n    [<0>] virtcrypto_req+0x10/0x20\n    [<0>] x\n'),
    );
    const users = out.slice(out.indexOf('=== user threads'), out.indexOf('=== kernel log')).trim().split('\n').slice(1);
    assert.deepEqual(
      users.sort(),
      ['1/1 S do_wait sh', '300/300 S ep_poll node', '300/310 D virtcrypto_req kcrypto io', '301/301 Z 0 node'].sort(),
    );
    assert.match(out, /=== guest uptime 123\.45 s/);
    // The log is read, then cleared, so that the w dump and then the t dump are read alone.
    assert.match(out, /=== sysrq w: blocked tasks\ndmesg -c after w \n=== sysrq t: all tasks\ndmesg -c after w t \n/);
  });

  it('is answered by stage 2 from its watchdog loop, in the background', () => {
    const config: Stage2Config = {
      command: ['true'],
      cwd: '/',
      env: {},
      cryptoModules: [],
      extraModules: [],
      deadline: { epochSec: 1_800_000_000, uptimeSec: 100 },
      limitSec: 120,
      mountTmp: true,
    };
    const script = renderStage2Script(config);
    execFileSync('sh', ['-n'], { input: script });
    assert.ok(script.includes(`[ -e "$L/${SHARE_FILES.dumpRequest}" ]`));
    assert.ok(script.includes(`( dump_tasks > "$L/${SHARE_FILES.diagnostics}" 2>&1; : > "$L/${SHARE_FILES.dumped}" ) &`));
    assert.ok(script.indexOf('dump_tasks()') < script.indexOf('while :; do'));
    assert.ok(script.indexOf('while :; do') < script.indexOf('exec $bb env -i'));
  });
});
