// A sysfs-like tree laid out as the lab guest's (two virtio-crypto cards on PCI, 9p devices on
// the same bus) and the lab's /proc/crypto, for tests of the device watch and what follows it.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { DeviceWatch } from '../../src/kernel/discovery/device-watch.js';
import { readFixture } from './package-root.js';

export const PROC_CRYPTO = readFixture('proc-crypto-6.1-qemu.txt');
export const VIRTIO_DRIVERS = ['virtio-crypto-rsa', 'virtio-pkcs1-rsa-with-sha1', 'virtio_crypto_aes_cbc'];

/** /proc/crypto without the records of one module. */
export function withoutModule(text: string, module: string): string {
  return text
    .split(/\n\n/)
    .filter((r) => !new RegExp(`^module\\s+: ${module}$`, 'm').test(r))
    .join('\n\n');
}

/** A sysfs-like tree: bus driver directories with `module` links and device links. */
export class FakeSys {
  readonly root = mkdtempSync(join(tmpdir(), 'kcrypto-sysfs-'));
  readonly sys = join(this.root, 'sys');
  readonly proc = join(this.root, 'crypto');

  constructor() {
    writeFileSync(this.proc, PROC_CRYPTO);
    this.driver('virtio', 'virtio_crypto', 'virtio_crypto');
    this.driver('virtio', '9pnet_virtio', '9pnet_virtio');
    this.driver('pci', 'virtio-pci', 'virtio_pci');
    this.bind('virtio', '9pnet_virtio', 'virtio0', 'pci0000:00/0000:00:02.0/virtio0');
    this.bind('virtio', 'virtio_crypto', 'virtio2', 'pci0000:00/0000:00:04.0/virtio2');
    this.bind('virtio', 'virtio_crypto', 'virtio3', 'pci0000:00/0000:00:05.0/virtio3');
    for (const f of ['0000:00:02.0', '0000:00:04.0', '0000:00:05.0']) this.bind('pci', 'virtio-pci', f, `pci0000:00/${f}`);
  }

  private driver(bus: string, name: string, module: string): void {
    const dir = join(this.sys, 'bus', bus, 'drivers', name);
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(this.sys, 'module', module), { recursive: true });
    symlinkSync(relative(dir, join(this.sys, 'module', module)), join(dir, 'module'));
    for (const f of ['bind', 'unbind', 'uevent']) writeFileSync(join(dir, f), '');
  }

  bind(bus: string, driver: string, name: string, devicePath: string): void {
    const dir = join(this.sys, 'bus', bus, 'drivers', driver);
    const target = join(this.sys, 'devices', devicePath);
    mkdirSync(target, { recursive: true });
    symlinkSync(relative(dir, target), join(dir, name));
  }

  unbind(bus: string, driver: string, name: string): void {
    unlinkSync(join(this.sys, 'bus', bus, 'drivers', driver, name));
  }

  setProcCrypto(text: string): void {
    writeFileSync(this.proc, text);
  }

  watch(intervalMs = 60_000): DeviceWatch {
    return new DeviceWatch({ sysfsRoot: this.sys, procCrypto: this.proc, intervalMs });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
