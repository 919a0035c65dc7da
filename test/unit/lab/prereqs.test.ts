// What the lab reports as missing, on fake hosts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { checkLabPrerequisites, formatPrerequisiteReport, isStaticElf, type PrereqHost } from '../../../src/lab/prereqs.js';
import { fakeBzImage, fakeElf, fakeFs } from './fakes.js';

const PT_LOAD = 1;
const PT_INTERP = 3;
const STATIC_BUSYBOX = fakeElf([PT_LOAD, PT_LOAD]);
const DYNAMIC_BUSYBOX = fakeElf([PT_LOAD, PT_INTERP, PT_LOAD]);

const DEP_XZ = 'kernel/fs/9p/9p.ko.xz:\nkernel/net/9p/9pnet_virtio.ko.xz:\nkernel/fs/overlayfs/overlay.ko.xz:\n';
const BUILTIN = 'kernel/drivers/virtio/virtio_pci.ko\n';

interface HostSpec {
  files?: Record<string, string | Buffer>;
  executables?: string[];
  unreadable?: string[];
}

function host(spec: HostSpec = {}): PrereqHost {
  const files: Record<string, string | Buffer> = spec.files ?? {
    '/bin/busybox': STATIC_BUSYBOX,
    '/boot/vmlinuz-6.12.117+deb12-amd64': fakeBzImage('6.12.117+deb12-amd64'),
    '/lib/modules/6.12.117+deb12-amd64/modules.dep': DEP_XZ,
    '/lib/modules/6.12.117+deb12-amd64/modules.builtin': BUILTIN,
  };
  const executables = new Set(spec.executables ?? ['/usr/bin/qemu-system-x86_64', '/usr/bin/xz']);
  return {
    ...fakeFs(files),
    isExecutable: (f) => executables.has(f),
    isReadable: (f) => f in files && !(spec.unreadable ?? []).includes(f),
    pathEnv: '/usr/local/bin:/usr/bin:/bin',
  };
}

describe('lab prerequisites', () => {
  it('tells a static ELF from a dynamic one', () => {
    assert.ok(isStaticElf(STATIC_BUSYBOX));
    assert.ok(!isStaticElf(DYNAMIC_BUSYBOX));
    assert.ok(!isStaticElf(Buffer.from('#!/bin/sh\necho not an ELF at all, but long enough to parse\n')));
  });

  it('is satisfied by a complete host', () => {
    const p = checkLabPrerequisites(host());
    assert.deepEqual(p, { ok: true, missing: [], kernels: ['6.12.117+deb12-amd64'], problems: [] });
    assert.equal(formatPrerequisiteReport(p), '');
  });

  it('names the Debian package for each missing piece', () => {
    const p = checkLabPrerequisites(host({ files: { '/bin/busybox': DYNAMIC_BUSYBOX }, executables: [] }));
    assert.equal(p.ok, false);
    assert.deepEqual(p.missing, ['qemu-system-x86', 'busybox-static', 'linux-image-amd64']);
    assert.deepEqual(p.kernels, []);
    const report = formatPrerequisiteReport(p);
    assert.match(report, /missing Debian packages: qemu-system-x86 busybox-static linux-image-amd64/);
    assert.match(report, /apt-get install qemu-system-x86 busybox-static linux-image-amd64/);
  });

  it('asks for xz-utils only when a kernel has .ko.xz modules and xz is absent', () => {
    assert.deepEqual(checkLabPrerequisites(host({ executables: ['/usr/bin/qemu-system-x86_64'] })).missing, ['xz-utils']);
    const plain = host({
      executables: ['/usr/bin/qemu-system-x86_64'],
      files: {
        '/bin/busybox': STATIC_BUSYBOX,
        '/boot/vmlinuz-6.1.0-56-amd64': fakeBzImage('6.1.0-56-amd64'),
        '/lib/modules/6.1.0-56-amd64/modules.dep': 'kernel/fs/9p/9p.ko:\nkernel/fs/overlayfs/overlay.ko:\n',
      },
    });
    assert.deepEqual(checkLabPrerequisites(plain).missing, []);
  });

  it('checks the module decompressor of a kernel whose image lives with its modules', () => {
    const files = {
      '/bin/busybox': STATIC_BUSYBOX,
      '/usr/lib/modules/7.3.4+deb13-amd64/vmlinuz': fakeBzImage('7.3.4+deb13-amd64'),
      '/usr/lib/modules/7.3.4+deb13-amd64/modules.dep': DEP_XZ.replaceAll('.ko.xz', '.ko.zst'),
      '/usr/lib/modules/7.3.4+deb13-amd64/modules.builtin': BUILTIN,
    };
    const without = checkLabPrerequisites(host({ files, executables: ['/usr/bin/qemu-system-x86_64', '/usr/bin/xz'] }));
    assert.deepEqual([without.ok, without.missing, without.kernels], [false, ['zstd'], ['7.3.4+deb13-amd64']]);
    const withZstd = checkLabPrerequisites(host({ files, executables: ['/usr/bin/qemu-system-x86_64', '/usr/bin/zstd'] }));
    assert.deepEqual([withZstd.ok, withZstd.missing], [true, []]);
  });

  it('asks for util-linux only when a run is to be unprivileged and setpriv is absent', () => {
    assert.deepEqual(checkLabPrerequisites(host(), { unprivileged: true }).missing, ['util-linux']);
    assert.deepEqual(checkLabPrerequisites(host()).missing, []);
    const withSetpriv = host({ executables: ['/usr/bin/qemu-system-x86_64', '/usr/bin/xz', '/usr/bin/setpriv'] });
    assert.ok(checkLabPrerequisites(withSetpriv, { unprivileged: true }).ok);
  });

  it('reports a kernel image this user cannot read as a problem, not a package', () => {
    const p = checkLabPrerequisites(host({ unreadable: ['/boot/vmlinuz-6.12.117+deb12-amd64'] }));
    assert.equal(p.ok, false);
    assert.deepEqual(p.missing, []);
    assert.match(p.problems[0] ?? '', /vmlinuz-6\.12\.117\+deb12-amd64 is not readable/);
  });
});
