// `kcrypto lab` argument parsing, and the QEMU command line and guest environment it leads to.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';

import { LabUsageError, parseLabArgs } from '../../../src/cli/lab-command.js';
import { guestEnvironment, parseModuleList, unprivilegedEnvironment } from '../../../src/lab/prepare.js';
import { buildQemuArgs, kernelCmdline } from '../../../src/lab/qemu.js';
import { DEBUG_EXIT_PORT } from '../../../src/lab/scripts.js';
import { bzImagePayload, hasPvhNote } from '../../../src/lab/vmlinux.js';
import { fakeElf } from './fakes.js';

describe('kcrypto lab arguments', () => {
  it('takes the command after --, options before it', () => {
    const a = parseLabArgs(['--kernel', '6.1', '--cards', '3', '--timeout', '30', '--memory=1024', '--', 'node', '-e', '1']);
    assert.equal(a.kernel, '6.1');
    assert.equal(a.cards, 3);
    assert.equal(a.timeoutMs, 30_000);
    assert.equal(a.memoryMiB, 1024);
    assert.deepEqual(a.command, ['node', '-e', '1']);
    assert.equal(a.allKernels, false);
  });

  it('starts the command at the first non-option without --', () => {
    assert.deepEqual(parseLabArgs(['--cpus', '4', 'uname', '-r']).command, ['uname', '-r']);
    assert.deepEqual(parseLabArgs(['--', '--not-an-option']).command, ['--not-an-option']);
  });

  it('accepts "all" kernels both ways', () => {
    assert.ok(parseLabArgs(['--kernel', 'all', '--', 'true']).allKernels);
    assert.ok(parseLabArgs(['--all-kernels', '--', 'true']).allKernels);
    assert.equal(parseLabArgs(['--kernel=all', 'true']).kernel, undefined);
  });

  it('collects modules: repeated, or several after one --module', () => {
    const a = parseLabArgs(['--module', 'a.ko', 'b.ko.xz', '--module=c.ko', '--module', 'd.ko', 'uname', '-r']);
    assert.deepEqual(a.modules, ['a.ko', 'b.ko.xz', 'c.ko', 'd.ko']);
    assert.deepEqual(a.command, ['uname', '-r']);
  });

  it('gives a module the NAME=VALUE parameters that follow it, in load order', () => {
    const a = parseLabArgs(['--module', 'a.ko', 'debug=1', 'ids=1,2', 'b.ko', 'x=', '--', 'env', 'K=V', 'true']);
    assert.deepEqual(a.modules, ['a.ko debug=1 ids=1,2', 'b.ko x=']);
    assert.deepEqual(a.command, ['env', 'K=V', 'true']);
  });

  it('sets or copies environment variables', () => {
    const a = parseLabArgs(['--env', 'A=1=2', '--env', 'CI', '--env', 'UNSET_HERE', '--', 'true'], { CI: 'yes' });
    assert.deepEqual(a.env, { A: '1=2', CI: 'yes' });
  });

  it('collects sysctls in order, the last setting of a name winning', () => {
    const a = parseLabArgs([
      '--sysctl',
      'crypto.af_alg_restrict=0',
      '--sysctl=kernel.printk=3 4 1 3',
      '--sysctl',
      'crypto.af_alg_restrict=2',
      'true',
    ]);
    assert.deepEqual(Object.entries(a.sysctl), [
      ['kernel.printk', '3 4 1 3'],
      ['crypto.af_alg_restrict', '2'],
    ]);
    assert.deepEqual(a.command, ['true']);
    assert.deepEqual(parseLabArgs(['--sysctl', 'net/ipv4/conf/eth0.100/rp_filter=1', 'true']).sysctl, {
      'net/ipv4/conf/eth0.100/rp_filter': '1',
    });
    assert.deepEqual(parseLabArgs(['true']).sysctl, {});
  });

  it('rejects sysctls without a value or with a name that could leave /proc/sys', () => {
    assert.throws(() => parseLabArgs(['--sysctl', 'crypto.af_alg_restrict', 'true']), /--sysctl needs NAME=VALUE/);
    assert.throws(() => parseLabArgs(['--sysctl', '=1', 'true']), /--sysctl needs NAME=VALUE/);
    assert.throws(() => parseLabArgs(['--sysctl']), /needs a value/);
    for (const bad of ['crypto..x', 'a/../../etc/passwd', 'a b', "x';reboot;'", '.crypto']) {
      assert.throws(() => parseLabArgs(['--sysctl', `${bad}=1`, 'true']), LabUsageError, bad);
    }
  });

  it('recognizes --unprivileged', () => {
    assert.equal(parseLabArgs(['true']).unprivileged, false);
    const a = parseLabArgs(['--unprivileged', '--', 'id']);
    assert.equal(a.unprivileged, true);
    assert.deepEqual(a.command, ['id']);
  });

  it('rejects malformed options', () => {
    assert.throws(() => parseLabArgs(['--cards', 'two', '--', 'true']), LabUsageError);
    assert.throws(() => parseLabArgs(['--timeout', '0', '--', 'true']), /integer ≥ 1/);
    assert.throws(() => parseLabArgs(['--memory', '64', '--', 'true']), /≥ 256/);
    assert.throws(() => parseLabArgs(['--kernel']), /needs a value/);
    assert.throws(() => parseLabArgs(['--kernel', '--', 'true']), /needs a value/);
    assert.throws(() => parseLabArgs(['--frobnicate', '--', 'true']), /unknown option --frobnicate/);
    assert.throws(() => parseLabArgs(['--env', '=x', 'true']), /NAME=VALUE/);
  });

  it('allows zero cards and recognizes help and listing', () => {
    assert.equal(parseLabArgs(['--cards', '0', 'true']).cards, 0);
    assert.ok(parseLabArgs(['-h']).help);
    assert.ok(parseLabArgs(['--list-kernels']).listKernels);
    assert.ok(parseLabArgs(['-v', 'true']).verbose);
  });

  it('reads KCRYPTO_LAB_MODULES as a colon-separated list', () => {
    assert.deepEqual(parseModuleList('/a/x.ko::b.ko.xz:'), ['/a/x.ko', 'b.ko.xz']);
    assert.deepEqual(parseModuleList(undefined), []);
  });
});

describe('lab QEMU command line', () => {
  const base = { kernelImage: '/boot/vmlinuz-x', initrd: '/t/initramfs.img', shareDir: '/t/share', cards: 2, memoryMiB: 2048, cpus: 2 };

  it('adds one cryptodev backend and virtio-crypto device per card', () => {
    const args = buildQemuArgs(base).join(' ');
    assert.match(args, /-object cryptodev-backend-builtin,id=cd0 -device virtio-crypto-pci,cryptodev=cd0,id=card0/);
    assert.match(args, /-object cryptodev-backend-builtin,id=cd1 -device virtio-crypto-pci,cryptodev=cd1,id=card1/);
    assert.doesNotMatch(args, /id=cd2/);
    assert.doesNotMatch(buildQemuArgs({ ...base, cards: 0 }).join(' '), /virtio-crypto/);
  });

  it('uses TCG, shares / read-only and the share writable, and exposes QMP on request', () => {
    const args = buildQemuArgs({ ...base, shareDir: '/t/a,b', qmpSocket: '/t/qmp.sock' });
    assert.ok(args.includes('tcg,thread=multi'));
    assert.ok(!args.join(' ').includes('kvm'));
    assert.ok(args.includes('local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap'));
    assert.ok(args.includes('local,path=/t/a,,b,mount_tag=kcryptolab,security_model=none,multidevs=remap'));
    assert.deepEqual(args.slice(-2), ['-qmp', 'unix:/t/qmp.sock,server=on,wait=off']);
    assert.equal(args[args.indexOf('-append') + 1], kernelCmdline());
    assert.match(kernelCmdline(), /console=ttyS0 .*quiet .*panic=-1/);
  });

  it('gives the guest a debug-exit port to end QEMU without the kernel power-off', () => {
    const args = buildQemuArgs(base);
    assert.equal(args[args.indexOf('-no-reboot') + 1], '-device');
    assert.equal(args[args.indexOf('-no-reboot') + 2], `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=0x01`);
  });

  it('rejects impossible machines', () => {
    assert.throws(() => buildQemuArgs({ ...base, cards: -1 }), /cards/);
    assert.throws(() => buildQemuArgs({ ...base, cpus: 0 }), /CPUs/);
    assert.throws(() => buildQemuArgs({ ...base, memoryMiB: 100 }), /memory/);
  });
});

describe('lab guest environment', () => {
  it('puts this node first on PATH, then the caller PATH, then the system directories, once each', () => {
    const env = guestEnvironment('6.1.0-56-amd64', 2, { FOO: 'bar', HOME: '/home/x' }, '/opt/bin:relative:/usr/bin', '/opt/node/bin/node');
    assert.equal(env['PATH'], '/opt/node/bin:/opt/bin:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin');
    assert.equal(env['KCRYPTO_LAB'], '1');
    assert.equal(env['KCRYPTO_LAB_KERNEL'], '6.1.0-56-amd64');
    assert.equal(env['KCRYPTO_LAB_CARDS'], '2');
    assert.equal(env['KCRYPTO_LAB_VERDICT_FILE'], '/run/kcrypto-lab/verdict');
    assert.equal(env['FOO'], 'bar');
    assert.equal(env['HOME'], '/home/x', 'caller values win');
  });

  it('names nobody, with a writable HOME, for an unprivileged command unless the caller says otherwise', () => {
    const env = guestEnvironment('7.3.4+deb13-amd64', 2, unprivilegedEnvironment());
    assert.deepEqual([env['HOME'], env['USER'], env['LOGNAME']], ['/tmp/kcrypto-lab-home', 'nobody', 'nobody']);
    const mine = guestEnvironment('7.3.4+deb13-amd64', 2, { ...unprivilegedEnvironment(), HOME: '/tmp/h' });
    assert.equal(mine['HOME'], '/tmp/h');
  });
});

describe('lab PVH kernel extraction', () => {
  /** A bzImage whose payload is `kernel`, gzip-compressed, with the size the build appends. */
  function fakeBzImageWithPayload(kernel: Buffer): Buffer {
    const payload = gzipSync(kernel);
    const setupSects = 3;
    const start = (setupSects + 1) * 512;
    const image = Buffer.alloc(start + 64 + payload.length + 4);
    image[0x1f1] = setupSects;
    image.write('HdrS', 0x202, 'latin1');
    image.writeUInt16LE(0x020f, 0x206);
    image.writeUInt32LE(64, 0x248);
    image.writeUInt32LE(payload.length + 4, 0x24c);
    payload.copy(image, start + 64);
    image.writeUInt32LE(kernel.length, start + 64 + payload.length);
    return image;
  }

  it('finds the compressed payload and the size appended to it', () => {
    const kernel = fakeElf([4]);
    const p = bzImagePayload(fakeBzImageWithPayload(kernel));
    assert.equal(p?.format, 'gzip');
    assert.equal(p?.size, kernel.length);
    assert.equal(bzImagePayload(Buffer.alloc(0x300)), undefined);
  });

  it('recognizes the Xen PVH entry note', () => {
    assert.ok(hasPvhNote(fakeElf([1, 4])));
    assert.ok(!hasPvhNote(fakeElf([1])));
    assert.ok(!hasPvhNote(fakeElf([4], { name: 'GNU', type: 18 })));
    assert.ok(!hasPvhNote(fakeElf([4], { name: 'Xen', type: 1 })));
  });
});
