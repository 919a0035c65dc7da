// The lab's initramfs pieces: the cpio writer and the guest scripts (rendered, and checked with sh -n).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { writeCpio } from '../../../src/lab/cpio.js';
import { parseModuleSpec } from '../../../src/lab/prepare.js';
import { BUSYBOX_PATH } from '../../../src/lab/prereqs.js';
import {
  DEBUG_EXIT_PORT,
  EXIT_MARKER,
  EXIT_TIMEOUT,
  FAIL_MARKER,
  guestDeadline,
  renderInitScript,
  renderModprobes,
  renderStage2Script,
  renderSysctls,
  setprivPrefix,
  shellQuote,
  sysctlPath,
  UNPRIVILEGED_HOME,
  type Stage2Config,
  type UnprivilegedConfig,
} from '../../../src/lab/scripts.js';

/** Parses a newc archive back into (name, mode, data, rdev) records. */
function readCpio(archive: Buffer): { name: string; mode: number; data: Buffer; rdev: [number, number] }[] {
  const out: { name: string; mode: number; data: Buffer; rdev: [number, number] }[] = [];
  let at = 0;
  const field = (i: number): number => parseInt(archive.toString('latin1', at + 6 + i * 8, at + 14 + i * 8), 16);
  for (;;) {
    assert.equal(archive.toString('latin1', at, at + 6), '070701', `magic at ${at}`);
    const mode = field(1);
    const size = field(6);
    const rdev: [number, number] = [field(9), field(10)];
    const nameSize = field(11);
    const name = archive.toString('utf8', at + 110, at + 110 + nameSize - 1);
    at += 110 + nameSize;
    at += (4 - (at % 4)) % 4;
    const data = archive.subarray(at, at + size);
    at += size;
    at += (4 - (at % 4)) % 4;
    if (name === 'TRAILER!!!') break;
    out.push({ name, mode, data, rdev });
  }
  assert.equal(at, archive.length, 'nothing after the trailer');
  return out;
}

/** Runs `sh -n` (syntax check only) on a script. */
function shellSyntaxOk(script: string): void {
  execFileSync('sh', ['-n'], { input: script });
}

const BASE: Stage2Config = {
  command: ['node', '--test', 'dist/esm/test/lab/'],
  cwd: '/home/dev/kcrypto',
  env: { PATH: '/usr/bin:/bin', HOME: '/root' },
  cryptoModules: ['aesni_intel', 'algif_skcipher', 'virtio_crypto'],
  extraModules: [],
  deadline: { epochSec: 1_800_000_000, uptimeSec: 100 },
  limitSec: 120,
  mountTmp: true,
};

describe('lab cpio writer', () => {
  it('writes directories, files, symlinks and device nodes, each 4-byte aligned', () => {
    const archive = writeCpio([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: '/bin/busybox', data: Buffer.from('12345'), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
      { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    ]);
    const entries = readCpio(archive);
    assert.deepEqual(
      entries.map((e) => [e.name, e.mode.toString(8)]),
      [
        ['bin', '40755'],
        ['bin/busybox', '100755'],
        ['bin/sh', '120777'],
        ['dev/console', '20600'],
      ],
    );
    assert.equal(entries[1]?.data.toString(), '12345');
    assert.equal(entries[2]?.data.toString(), 'busybox');
    assert.deepEqual(entries[3]?.rdev, [5, 1]);
  });

  it('is reproducible', () => {
    const make = (): Buffer => writeCpio([{ type: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n') }]);
    assert.deepEqual(make(), make());
  });

  it('is accepted by the cpio tool when there is one', (t) => {
    const archive = writeCpio([
      { type: 'dir', path: 'a' },
      { type: 'file', path: 'a/b', data: Buffer.from('hello') },
    ]);
    let listing: string;
    try {
      listing = execFileSync('cpio', ['-t', '--quiet'], { input: archive, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    } catch {
      t.skip('no cpio tool');
      return;
    }
    assert.deepEqual(listing.trim().split('\n'), ['a', 'a/b']);
  });
});

describe('lab guest scripts', () => {
  it('quotes anything for sh', () => {
    for (const s of ['plain', "it's", 'a b', '$(rm -rf /)', '`x`', '"q"', '', 'new\nline', '\\']) {
      assert.equal(execFileSync('sh', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' }), s);
    }
  });

  it('stage 1 loads the given modules in order, then switches root', () => {
    const script = renderInitScript({ modules: ['virtio_ring', 'virtio', '9p'] });
    shellSyntaxOk(script);
    const insmods = [...script.matchAll(/^insmod \/lib\/modules\/(\S+)\.ko/gm)].map((m) => m[1]);
    assert.deepEqual(insmods, ['virtio_ring', 'virtio', '9p']);
    assert.match(script, /mount -t 9p -o ro,cache=mmap,trans=virtio,version=9p2000\.L,msize=\d+ hostroot \/mnt\/lower/);
    assert.match(script, /lowerdir=\/mnt\/lower,upperdir=\/mnt\/rw\/upper,workdir=\/mnt\/rw\/work overlay \/newroot/);
    assert.match(script, /exec switch_root \/newroot \/bin\/sh \/run\/kcrypto-lab\/stage2\.sh/);
    assert.ok(script.includes(FAIL_MARKER));
    assert.ok(script.indexOf('insmod') < script.indexOf('mount -t 9p'));
  });

  it('stage 1 only logs progress when verbose', () => {
    assert.match(renderInitScript({ modules: [] }), /^log\(\) \{ :; \}$/m);
    assert.match(renderInitScript({ modules: [], verbose: true }), /^log\(\) \{ read -r up/m);
  });

  it('stage 2 runs the command with exactly the given environment, in its directory', () => {
    const script = renderStage2Script({ ...BASE, env: { A: "it's", KCRYPTO_LAB: '1' }, command: ['sh', '-c', 'echo "$A"'] });
    shellSyntaxOk(script);
    assert.ok(script.includes(`cd '/home/dev/kcrypto' || exit 125`));
    assert.ok(script.includes(`exec $bb env -i 'A=it'\\''s' 'KCRYPTO_LAB=1' 'sh' '-c' 'echo "$A"'`));
    assert.match(script, /< \/dev\/null >> "\$L\/stdout" 2>> "\$L\/stderr"/);
    assert.match(script, /finish \$\?\n$/);
    assert.ok(script.includes(EXIT_MARKER));
  });

  it('stage 2 arms a watchdog that powers off at the deadline', () => {
    const script = renderStage2Script(BASE);
    assert.ok(script.includes('left=$((1800000000 - now))'));
    assert.ok(script.includes('left=$((100 - ${up%.*}))'));
    assert.ok(script.includes('end=$((${up%.*} + left))'));
    assert.match(
      script,
      new RegExp(`if \\[ "\\$\\{up%\\.\\*\\}" -ge "\\$end" \\]; then\\n\\s*: > "\\$L/timed-out"\\n\\s*finish ${EXIT_TIMEOUT}`),
    );
    assert.match(script, /echo o > \/proc\/sysrq-trigger/);
    // The watchdog starts before the modules load and the command runs.
    assert.ok(script.indexOf('while :; do') < script.indexOf('/sbin/modprobe'));
    assert.ok(script.indexOf('while :; do') < script.indexOf('exec $bb env -i'));
  });

  it('stage 2 ends QEMU through the debug-exit port before trying the kernel power-off', (t) => {
    const script = renderStage2Script(BASE);
    // The power-off runs only the copy of busybox in guest memory, and the status reaches the
    // console before anything goes to the share (which may be what is stuck).
    const poweroff = script.slice(script.indexOf('poweroff_now() {'), script.indexOf('\n}\n', script.indexOf('poweroff_now() {')));
    assert.doesNotMatch(poweroff, /\$bb\b/);
    assert.match(
      script,
      /^rbb=\/run\/kcrypto-bin\/busybox\n\{ \$bb mkdir -p \/run\/kcrypto-bin && \$bb cp \$bb \$rbb; \} 2>\/dev\/null \|\| rbb=\$bb$/m,
    );
    const finish = script.slice(script.indexOf('finish() {'), script.indexOf('\n}\n', script.indexOf('finish() {')));
    assert.ok(finish.includes(EXIT_MARKER), finish);
    assert.ok(finish.indexOf(EXIT_MARKER) < finish.indexOf('$L/'), finish);
    const line = script.split('\n').find((l) => l.includes('/dev/port'));
    assert.ok(line, 'a write to /dev/port');
    assert.ok(script.indexOf('/dev/port') < script.indexOf('echo o > /proc/sysrq-trigger'));
    if (!fs.existsSync(BUSYBOX_PATH)) return t.skip(`${BUSYBOX_PATH} missing (Debian package busybox-static)`);
    // The same pipeline against a plain file: exactly one byte, at the port's offset.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcrypto-port-'));
    try {
      const file = path.join(dir, 'port');
      const cmd = line
        .trim()
        .replace(/\$r?bb\b/g, BUSYBOX_PATH)
        .replace('/dev/port', file);
      const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const written = fs.readFileSync(file);
      assert.equal(written.length, DEBUG_EXIT_PORT + 1);
      assert.equal(written[DEBUG_EXIT_PORT], 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stage 2 mounts a fresh /tmp unless told not to', () => {
    assert.match(renderStage2Script(BASE), /^\$bb mount -t tmpfs -o mode=1777 tmpfs \/tmp$/m);
    assert.doesNotMatch(renderStage2Script({ ...BASE, mountTmp: false }), /tmpfs \/tmp$/m);
  });

  it('stage 2 loads extra modules after the standard ones and aborts when one fails', () => {
    const script = renderStage2Script({ ...BASE, extraModules: [{ path: '/run/kcrypto-lab/modules/0-cryptodev.ko', params: [] }] });
    shellSyntaxOk(script);
    const insmod = script.indexOf("/sbin/insmod '/run/kcrypto-lab/modules/0-cryptodev.ko'");
    assert.ok(insmod > script.indexOf('/sbin/modprobe'));
    assert.match(script, /0-cryptodev\.ko' 2>>"\$L\/stderr" \|\| finish 125/);
  });

  it('stage 2 hands each extra module its parameters, quoted', () => {
    const script = renderStage2Script({
      ...BASE,
      extraModules: [
        { path: '/run/kcrypto-lab/modules/0-a.ko', params: ['debug=1', "name=it's"] },
        { path: '/run/kcrypto-lab/modules/1-b.ko', params: [] },
      ],
    });
    shellSyntaxOk(script);
    assert.match(script, /\/sbin\/insmod '\/run\/kcrypto-lab\/modules\/0-a\.ko' 'debug=1' 'name=it'\\''s' 2>>/);
    assert.ok(script.indexOf('0-a.ko') < script.indexOf('1-b.ko'));
  });

  it('a module parameter must be NAME=VALUE', () => {
    assert.deepEqual(parseModuleSpec(' x.ko  a=1 b= '), { file: 'x.ko', params: ['a=1', 'b='] });
    assert.throws(() => parseModuleSpec('x.ko notaparam'), /module parameter "notaparam" of x\.ko is not NAME=VALUE/);
  });

  it('stage 2 rejects what it cannot express', () => {
    assert.throws(() => renderStage2Script({ ...BASE, command: [] }), /needs a command/);
    assert.throws(() => renderStage2Script({ ...BASE, env: { 'BAD-NAME': 'x' } }), /invalid environment variable name/);
    assert.throws(() => renderStage2Script({ ...BASE, deadline: { epochSec: 1.5, uptimeSec: 3 } }), /invalid guest deadline/);
  });

  it('maps sysctl names to /proc/sys files the way sysctl(8) does', () => {
    assert.equal(sysctlPath('crypto.af_alg_restrict'), '/proc/sys/crypto/af_alg_restrict');
    assert.equal(sysctlPath('crypto/af_alg_restrict'), '/proc/sys/crypto/af_alg_restrict');
    assert.equal(sysctlPath('net/ipv4/conf/eth0.100/rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
    for (const bad of ['', 'crypto.', 'a..b', 'a/../b', 'a/./b', 'a b', 'a;b', '$(x)']) {
      assert.throws(() => sysctlPath(bad), /invalid sysctl name/, bad);
    }
  });

  it('stage 2 writes sysctls after every module and before the command starts', () => {
    const script = renderStage2Script({
      ...BASE,
      extraModules: [{ path: '/run/kcrypto-lab/modules/0-cryptodev.ko', params: [] }],
      sysctls: { 'crypto.af_alg_restrict': '0', 'kernel.printk': "3 4 '1' 3" },
    });
    shellSyntaxOk(script);
    const check = script.indexOf(`[ -f '/proc/sys/crypto/af_alg_restrict' ] || finish 125 "sysctl crypto.af_alg_restrict does not exist`);
    const write = script.indexOf(`printf '%s\\n' '0' > '/proc/sys/crypto/af_alg_restrict' 2>>"$L/stderr" || finish 125`);
    assert.ok(check > 0 && write > check);
    assert.ok(check > script.indexOf('/sbin/modprobe') && check > script.indexOf('/sbin/insmod'));
    assert.ok(script.indexOf('/proc/sys/kernel/printk') > write, 'in the order given');
    assert.ok(script.indexOf('/proc/sys/kernel/printk') < script.indexOf('> "$L/started"'));
    assert.match(renderStage2Script(BASE), /^: no sysctls to set$/m);
  });

  it('stage 2 stops the run when a sysctl does not exist or refuses its value', () => {
    const run = (snippet: string): { status: number | null; stdout: string } => {
      const r = spawnSync('sh', ['-c', `bb=; finish() { echo "finish $1: $2"; exit "$1"; }\n${snippet}\necho went-on`], {
        encoding: 'utf8',
      });
      return { status: r.status, stdout: r.stdout };
    };
    const missing = run(renderSysctls({ 'kcrypto.lab_no_such_sysctl': '1' }, '/dev/null'));
    assert.equal(missing.status, 125);
    assert.match(missing.stdout, /^finish 125: sysctl kcrypto\.lab_no_such_sysctl does not exist on kernel \S+\n$/);
    assert.equal(run(renderSysctls({}, '/dev/null')).stdout, 'went-on\n');
  });

  it('stage 2 runs an unprivileged command through setpriv, with a HOME of its own', () => {
    const u: UnprivilegedConfig = { setpriv: '/usr/bin/setpriv', uid: 65534, gid: 65534, home: UNPRIVILEGED_HOME };
    const script = renderStage2Script({ ...BASE, command: ['id', '-u'], sysctls: { 'crypto.af_alg_restrict': '1' }, unprivileged: u });
    shellSyntaxOk(script);
    assert.ok(
      script.includes(
        "'/usr/bin/setpriv' '--reuid=65534' '--regid=65534' '--clear-groups' '--inh-caps=-all' '--bounding-set=-all' '--no-new-privs' '--' 'id' '-u'",
      ),
    );
    assert.ok(script.includes(`$bb mkdir -p '${UNPRIVILEGED_HOME}' && $bb chown 65534:65534 '${UNPRIVILEGED_HOME}' && $bb chmod 0700`));
    assert.ok(script.includes("$bb chown 65534:65534 '/home/dev/kcrypto'"), 'the working directory is given to the command');
    assert.ok(script.includes(': > "$L/verdict" && $bb chmod 0666 "$L/verdict"'), 'the command can write its verdict');
    // Set up as root, after the sysctls, before the command.
    const setup = script.indexOf(`$bb mkdir -p '${UNPRIVILEGED_HOME}'`);
    assert.ok(setup > script.indexOf('/proc/sys/crypto/af_alg_restrict') && setup < script.indexOf('exec $bb env -i'));
    assert.doesNotMatch(renderStage2Script(BASE), /setpriv|chown/);
    assert.throws(() => setprivPrefix({ ...u, uid: 0 }), /invalid unprivileged identity/);
  });

  it('spreads modprobe over parallel jobs and waits for all of them', () => {
    const text = renderModprobes(['a', 'b', 'c', 'd', 'e'], 2, '/dev/null');
    const jobs = text.split('\n').filter((l) => l.startsWith('{ /sbin/modprobe'));
    assert.equal(jobs.length, 2);
    assert.match(jobs[0] ?? '', /^\{ \/sbin\/modprobe -a -q 'a' 'c' 'e' .*; \} & m0=\$!$/);
    assert.match(jobs[1] ?? '', /^\{ \/sbin\/modprobe -a -q 'b' 'd' .*; \} & m1=\$!$/);
    assert.match(text, /\nwait \$m0 \$m1$/);
    assert.equal(renderModprobes(['a'], 4, '/dev/null').split('\n').length, 2);
    assert.equal(renderModprobes([], 2, '/dev/null'), ': no crypto modules to load');
  });

  it('puts the guest deadline a margin before the host limit', () => {
    const start = 1_700_000_000_000;
    assert.deepEqual(guestDeadline(30_000, start), { epochSec: 1_700_000_027, uptimeSec: 26 });
    assert.deepEqual(guestDeadline(20 * 60_000, start), { epochSec: 1_700_000_000 + 1200 - 15, uptimeSec: 1184 });
    assert.equal(guestDeadline(500, start).uptimeSec, 1);
  });
});
