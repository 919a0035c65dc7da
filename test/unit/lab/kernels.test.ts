// Kernel discovery and module resolution for the lab, against fake /boot and /lib/modules trees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  compareKernelVersionsDesc,
  discoverKernels,
  kernelHasModule,
  moduleNameFromPath,
  parseModuleIndex,
  readBzImageVersion,
  resolveKernel,
  resolveModuleLoadOrder,
} from '../../../src/lab/kernels.js';
import { STAGE1_MODULES } from '../../../src/lab/initramfs.js';
import { fakeBzImage, fakeFs } from './fakes.js';

const DEP_61 = [
  'kernel/drivers/virtio/virtio_ring.ko:',
  'kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko',
  'kernel/drivers/virtio/virtio_pci_legacy_dev.ko:',
  'kernel/drivers/virtio/virtio_pci_modern_dev.ko:',
  'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  'kernel/fs/netfs/netfs.ko:',
  'kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko',
  'kernel/net/9p/9pnet.ko:',
  'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko',
  'kernel/fs/overlayfs/overlay.ko:',
  'kernel/arch/x86/crypto/aesni-intel.ko: kernel/crypto/crypto_simd.ko kernel/crypto/cryptd.ko',
  'kernel/crypto/crypto_simd.ko: kernel/crypto/cryptd.ko',
  'kernel/crypto/cryptd.ko:',
  '',
].join('\n');

const DEP_612 = [
  'kernel/fs/netfs/netfs.ko.xz:',
  'kernel/net/9p/9pnet.ko.xz: kernel/fs/netfs/netfs.ko.xz',
  'kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/netfs/netfs.ko.xz',
  'kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/netfs/netfs.ko.xz',
  'kernel/fs/overlayfs/overlay.ko.xz:',
  '',
].join('\n');

const BUILTIN_612 = [
  'kernel/drivers/virtio/virtio.ko',
  'kernel/drivers/virtio/virtio_ring.ko',
  'kernel/drivers/virtio/virtio_pci.ko',
  'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
  'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
  '',
].join('\n');

const TWO_KERNELS = fakeFs({
  '/boot/vmlinuz-6.1.0-56-amd64': fakeBzImage('6.1.0-56-amd64'),
  '/boot/vmlinuz-6.12.117+deb12-amd64': fakeBzImage('6.12.117+deb12-amd64'),
  '/boot/vmlinuz-5.10.0-9-amd64': fakeBzImage('5.10.0-9-amd64'), // modules removed: not usable
  '/boot/config-6.1.0-56-amd64': '',
  '/boot/initrd.img-6.1.0-56-amd64': '',
  '/lib/modules/6.1.0-56-amd64/modules.dep': DEP_61,
  '/lib/modules/6.12.117+deb12-amd64/modules.dep': DEP_612,
  '/lib/modules/6.12.117+deb12-amd64/modules.builtin': BUILTIN_612,
  '/lib/modules/5.10.0-9-amd64/kernel/README': '',
  '/srv/kernels/bzImage-custom': fakeBzImage('6.1.0-56-amd64'),
});

describe('lab kernels', () => {
  it('orders releases numerically, newest first', () => {
    const sorted = ['6.1.0-56-amd64', '6.12.117+deb12-amd64', '5.10.0-9-amd64', '6.1.0-9-amd64'].sort(compareKernelVersionsDesc);
    assert.deepEqual(sorted, ['6.12.117+deb12-amd64', '6.1.0-56-amd64', '6.1.0-9-amd64', '5.10.0-9-amd64']);
  });

  it('lists only kernels that have both an image and modules.dep', () => {
    const kernels = discoverKernels(TWO_KERNELS);
    assert.deepEqual(
      kernels.map((k) => k.version),
      ['6.12.117+deb12-amd64', '6.1.0-56-amd64'],
    );
    assert.equal(kernels[1]?.image, '/boot/vmlinuz-6.1.0-56-amd64');
    assert.equal(kernels[1]?.modulesDir, '/lib/modules/6.1.0-56-amd64');
  });

  it('defaults to the newest kernel', () => {
    assert.equal(resolveKernel(undefined, TWO_KERNELS).version, '6.12.117+deb12-amd64');
  });

  it('takes an exact release or a prefix that does not cut a number', () => {
    assert.equal(resolveKernel('6.1.0-56-amd64', TWO_KERNELS).version, '6.1.0-56-amd64');
    assert.equal(resolveKernel('6.1', TWO_KERNELS).version, '6.1.0-56-amd64');
    assert.equal(resolveKernel('6.12', TWO_KERNELS).version, '6.12.117+deb12-amd64');
    assert.throws(() => resolveKernel('6', TWO_KERNELS), /ambiguous/);
    assert.throws(() => resolveKernel('5.10', TWO_KERNELS), /not installed.*6\.12\.117/);
  });

  it('reads the release of an image given by path from its header', () => {
    const k = resolveKernel('/srv/kernels/bzImage-custom', TWO_KERNELS);
    assert.deepEqual(k, { version: '6.1.0-56-amd64', image: '/srv/kernels/bzImage-custom', modulesDir: '/lib/modules/6.1.0-56-amd64' });
    assert.throws(() => resolveKernel('/srv/kernels/missing', TWO_KERNELS), /cannot be read/);
    assert.equal(readBzImageVersion(Buffer.alloc(0x300)), undefined);
  });

  describe('kernels whose image lives with their modules (7.x)', () => {
    const DEP_7 = DEP_612.replaceAll('.ko.xz', '.ko.zst');
    const SEVEN = fakeFs({
      '/boot/vmlinuz-6.12.117+deb12-amd64': fakeBzImage('6.12.117+deb12-amd64'),
      '/lib/modules/6.12.117+deb12-amd64/modules.dep': DEP_612,
      // Merged /usr: the same kernel seen under both roots.
      '/lib/modules/7.3.4+deb13-amd64/vmlinuz': fakeBzImage('7.3.4+deb13-amd64'),
      '/lib/modules/7.3.4+deb13-amd64/modules.dep': DEP_7,
      '/usr/lib/modules/7.3.4+deb13-amd64/vmlinuz': fakeBzImage('7.3.4+deb13-amd64'),
      '/usr/lib/modules/7.3.4+deb13-amd64/modules.dep': DEP_7,
      // Only under /usr/lib/modules.
      '/usr/lib/modules/7.2.13+deb14-amd64/vmlinuz': fakeBzImage('7.2.13+deb14-amd64'),
      '/usr/lib/modules/7.2.13+deb14-amd64/modules.dep': DEP_7,
      // An image without modules.dep (depmod never ran): not bootable by the lab.
      '/usr/lib/modules/7.4.0+deb14-amd64/vmlinuz': fakeBzImage('7.4.0+deb14-amd64'),
      '/usr/lib/modules/7.4.0+deb14-amd64/kernel/fs/9p/9p.ko.zst': '',
    });

    it('lists them with the /boot kernels, newest first, each release once', () => {
      const kernels = discoverKernels(SEVEN);
      assert.deepEqual(
        kernels.map((k) => [k.version, k.image, k.modulesDir]),
        [
          ['7.3.4+deb13-amd64', '/lib/modules/7.3.4+deb13-amd64/vmlinuz', '/lib/modules/7.3.4+deb13-amd64'],
          ['7.2.13+deb14-amd64', '/usr/lib/modules/7.2.13+deb14-amd64/vmlinuz', '/usr/lib/modules/7.2.13+deb14-amd64'],
          ['6.12.117+deb12-amd64', '/boot/vmlinuz-6.12.117+deb12-amd64', '/lib/modules/6.12.117+deb12-amd64'],
        ],
      );
    });

    it('prefers the /boot image when a release has both', () => {
      const both = fakeFs({
        '/boot/vmlinuz-7.3.4+deb13-amd64': fakeBzImage('7.3.4+deb13-amd64'),
        '/lib/modules/7.3.4+deb13-amd64/vmlinuz': fakeBzImage('7.3.4+deb13-amd64'),
        '/lib/modules/7.3.4+deb13-amd64/modules.dep': DEP_7,
      });
      assert.deepEqual(
        discoverKernels(both).map((k) => k.image),
        ['/boot/vmlinuz-7.3.4+deb13-amd64'],
      );
    });

    it('resolves them by default, by release, by prefix and by path', () => {
      assert.equal(resolveKernel(undefined, SEVEN).version, '7.3.4+deb13-amd64');
      assert.equal(resolveKernel('7.3', SEVEN).image, '/lib/modules/7.3.4+deb13-amd64/vmlinuz');
      assert.equal(resolveKernel('7.2', SEVEN).modulesDir, '/usr/lib/modules/7.2.13+deb14-amd64');
      assert.equal(resolveKernel('7.2.13+deb14-amd64', SEVEN).version, '7.2.13+deb14-amd64');
      assert.throws(() => resolveKernel('7', SEVEN), /ambiguous: 7\.3\.4\+deb13-amd64, 7\.2\.13\+deb14-amd64/);
      assert.throws(() => resolveKernel('7.4', SEVEN), /not installed/);
      const byPath = resolveKernel('/usr/lib/modules/7.2.13+deb14-amd64/vmlinuz', SEVEN);
      assert.deepEqual(byPath, {
        version: '7.2.13+deb14-amd64',
        image: '/usr/lib/modules/7.2.13+deb14-amd64/vmlinuz',
        modulesDir: '/usr/lib/modules/7.2.13+deb14-amd64',
      });
    });

    it('tells the release of an image by path from its directory when the header has none', () => {
      const headerless = fakeFs({
        '/usr/lib/modules/7.2.13+deb14-amd64/vmlinuz': Buffer.alloc(0x300),
        '/usr/lib/modules/7.2.13+deb14-amd64/modules.dep': DEP_7,
      });
      assert.equal(resolveKernel('/usr/lib/modules/7.2.13+deb14-amd64/vmlinuz', headerless).version, '7.2.13+deb14-amd64');
      assert.throws(() => resolveKernel('/usr/lib/modules/7.4.0+deb14-amd64/vmlinuz', SEVEN), /7\.4\.0\+deb14-amd64 have no modules\.dep/);
    });
  });

  it('normalizes module names from paths', () => {
    assert.equal(moduleNameFromPath('kernel/arch/x86/crypto/aesni-intel.ko.xz'), 'aesni_intel');
    assert.equal(moduleNameFromPath('kernel/fs/9p/9p.ko'), '9p');
    assert.equal(moduleNameFromPath('kernel/fs/9p/9p.ko.zst'), '9p');
  });

  it('resolves the 6.1 layout: everything a module, dependencies first', () => {
    const order = resolveModuleLoadOrder(parseModuleIndex(DEP_61), STAGE1_MODULES);
    assert.deepEqual(
      order.map((m) => m.name),
      [
        'virtio_ring',
        'virtio',
        'virtio_pci_legacy_dev',
        'virtio_pci_modern_dev',
        'virtio_pci',
        'netfs',
        'fscache',
        '9pnet',
        '9pnet_virtio',
        '9p',
        'overlay',
      ],
    );
    assert.equal(order[10]?.file, 'kernel/fs/overlayfs/overlay.ko');
  });

  it('resolves the 6.12 layout: virtio built in, no fscache, compressed files', () => {
    const index = parseModuleIndex(DEP_612, BUILTIN_612);
    const order = resolveModuleLoadOrder(index, STAGE1_MODULES);
    assert.deepEqual(
      order.map((m) => m.name),
      ['netfs', '9pnet', '9pnet_virtio', '9p', 'overlay'],
    );
    assert.equal(order[3]?.file, 'kernel/fs/9p/9p.ko.xz');
    assert.ok(kernelHasModule(index, 'virtio_pci'));
    assert.ok(!kernelHasModule(index, 'fscache'));
  });

  it('loads a dependency before its user even when asked for the user first', () => {
    const order = resolveModuleLoadOrder(parseModuleIndex(DEP_61), ['aesni-intel', 'cryptd']);
    assert.deepEqual(
      order.map((m) => m.name),
      ['cryptd', 'crypto_simd', 'aesni_intel'],
    );
  });

  it('reports a dependency cycle instead of recursing forever', () => {
    const index = parseModuleIndex('a.ko: b.ko\nb.ko: a.ko\n');
    assert.throws(() => resolveModuleLoadOrder(index, ['a']), /cycle/);
  });
});
