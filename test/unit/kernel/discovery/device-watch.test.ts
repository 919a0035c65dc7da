// The device-removal watch on a fake sysfs tree laid out as the lab guest's is (two
// virtio-crypto cards on PCI, 9p devices on the same bus) and the lab's /proc/crypto: which
// devices it finds, what it reports when a card goes and when the last one goes, the policy it
// applies to kernel sessions, and that it never keeps the process alive.
import '../../../support/test-hooks.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';

import { loadAddon } from '../../../../src/kernel/bridge/addon.js';
import {
  DeviceWatch,
  guardKernelSessions,
  PROC_EVERY,
  type DeviceAddition,
  type DeviceRemoval,
} from '../../../../src/kernel/discovery/device-watch.js';
import { KernelSession, Op } from '../../../../src/kernel/bridge/engine/index.js';
import { FakeSys, PROC_CRYPTO, VIRTIO_DRIVERS, withoutModule } from '../../../support/fake-sysfs.js';

describe('DeviceWatch on a fake sysfs tree', () => {
  let fake: FakeSys;
  beforeEach(() => {
    fake = new FakeSys();
  });
  afterEach(() => fake.remove());

  it('finds the devices of drivers whose module registers crypto algorithms, with their PCI function', () => {
    const devices = fake.watch().devices();
    assert.deepEqual(devices.map((d) => [d.bus, d.name, d.sysfsDriver, d.module, d.pciAddress]).sort(), [
      ['virtio', 'virtio2', 'virtio_crypto', 'virtio_crypto', '0000:00:04.0'],
      ['virtio', 'virtio3', 'virtio_crypto', 'virtio_crypto', '0000:00:05.0'],
    ]);
  });

  it('reports one card of two going: its drivers, none vanished, the card that remains', async () => {
    const w = fake.watch();
    const events: DeviceRemoval[] = [];
    w.on('removed', (r) => events.push(r));
    assert.equal(await w.poll(), null, 'the first poll only takes the baseline');
    assert.equal(await w.poll(), null, 'nothing changed');
    fake.unbind('virtio', 'virtio_crypto', 'virtio2');
    const r = await w.poll();
    assert.ok(r);
    assert.deepEqual(
      r.devices.map((d) => [d.name, d.pciAddress]),
      [['virtio2', '0000:00:04.0']],
    );
    assert.deepEqual(r.kernelDrivers, VIRTIO_DRIVERS);
    assert.deepEqual(r.vanished, []);
    assert.deepEqual(
      r.remaining.map((d) => d.name),
      ['virtio3'],
    );
    assert.deepEqual(events, [r]);
    assert.equal(await w.poll(), null, 'reported once');
  });

  it('reports the last card going with the drivers that left /proc/crypto', async () => {
    const w = fake.watch();
    fake.unbind('virtio', 'virtio_crypto', 'virtio2');
    await w.poll();
    fake.unbind('virtio', 'virtio_crypto', 'virtio3');
    fake.setProcCrypto(withoutModule(PROC_CRYPTO, 'virtio_crypto'));
    const r = await w.poll();
    assert.ok(r);
    assert.deepEqual(
      r.devices.map((d) => d.name),
      ['virtio3'],
    );
    assert.deepEqual(r.vanished, VIRTIO_DRIVERS);
    assert.deepEqual(r.remaining, []);
  });

  it('reports a card plugged back with the drivers it serves, once, after its removal', async () => {
    const w = fake.watch();
    const events: string[] = [];
    w.on('removed', (r) => events.push(`removed ${r.devices.map((d) => d.name).join()}`));
    w.on('added', (a) => events.push(`added ${a.devices.map((d) => d.name).join()}`));
    await w.poll();
    fake.unbind('virtio', 'virtio_crypto', 'virtio2');
    await w.poll();
    let added: DeviceAddition | undefined;
    w.once('added', (a) => (added = a));
    fake.bind('virtio', 'virtio_crypto', 'virtio2', 'pci0000:00/0000:00:04.0/virtio2');
    assert.equal(await w.poll(), null, 'an addition is no removal');
    assert.ok(added);
    assert.deepEqual(
      added.devices.map((d) => [d.name, d.pciAddress]),
      [['virtio2', '0000:00:04.0']],
    );
    assert.deepEqual(added.kernelDrivers, VIRTIO_DRIVERS);
    await w.poll();
    assert.deepEqual(events, ['removed virtio2', 'added virtio2'], 'each reported once');
  });

  it('notices the last card coming back, its module registering its algorithms again', async () => {
    const w = fake.watch();
    const added: DeviceAddition[] = [];
    w.on('added', (a) => added.push(a));
    await w.poll();
    fake.unbind('virtio', 'virtio_crypto', 'virtio2');
    fake.unbind('virtio', 'virtio_crypto', 'virtio3');
    fake.setProcCrypto(withoutModule(PROC_CRYPTO, 'virtio_crypto'));
    assert.deepEqual((await w.poll())?.vanished, VIRTIO_DRIVERS);
    assert.equal(await w.poll(), null);
    fake.bind('virtio', 'virtio_crypto', 'virtio3', 'pci0000:00/0000:00:05.0/virtio3');
    fake.setProcCrypto(PROC_CRYPTO);
    await w.poll();
    assert.deepEqual(
      added.map((a) => [a.devices.map((d) => d.name), a.kernelDrivers]),
      [[['virtio3'], VIRTIO_DRIVERS]],
    );
  });

  it('counts a bound device only while its module registers algorithms', async () => {
    const w = fake.watch();
    const added: DeviceAddition[] = [];
    w.on('added', (a) => added.push(a));
    await w.poll();
    fake.setProcCrypto(withoutModule(PROC_CRYPTO, 'virtio_crypto'));
    let polls = 0;
    while ((await w.poll()) === null && polls++ < PROC_EVERY);
    // The module registers its algorithms again (probed once more): its devices are back.
    fake.setProcCrypto(PROC_CRYPTO);
    for (let i = 0; i <= PROC_EVERY && added.length === 0; i++) await w.poll();
    assert.deepEqual(
      added.map((a) => a.devices.map((d) => d.name).sort()),
      [['virtio2', 'virtio3']],
    );
  });

  it('notices drivers leaving /proc/crypto while sysfs stays the same, within PROC_EVERY polls', async () => {
    const w = fake.watch();
    await w.poll();
    fake.setProcCrypto(withoutModule(PROC_CRYPTO, 'virtio_crypto'));
    let r: DeviceRemoval | null = null;
    let polls = 0;
    while (!r && polls < PROC_EVERY) {
      r = await w.poll();
      polls++;
    }
    assert.ok(r, `reported within ${PROC_EVERY} polls`);
    assert.ok(polls > 1, 'the usual poll does not read /proc/crypto');
    assert.deepEqual(r.vanished, VIRTIO_DRIVERS);
    assert.deepEqual(
      r.devices.map((d) => d.name),
      ['virtio2', 'virtio3'],
      'devices whose module registers no algorithm any more serve none',
    );
    assert.deepEqual(r.remaining, []);
  });

  it('stops, without throwing, where there is no sysfs or /proc/crypto', async () => {
    const w = new DeviceWatch({ sysfsRoot: join(fake.root, 'none'), procCrypto: join(fake.root, 'none'), intervalMs: 10 });
    w.watchWhile(() => true);
    for (let i = 0; i < 200 && w.active; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(w.active, false);
    assert.ok(w.lastError);
  });

  it('does not keep the process alive while it polls', () => {
    const url = new URL('../../../../src/kernel/discovery/device-watch.js', import.meta.url).href;
    const script = `import { DeviceWatch } from ${JSON.stringify(url)};
      const w = new DeviceWatch({ sysfsRoot: ${JSON.stringify(fake.sys)}, procCrypto: ${JSON.stringify(fake.proc)}, intervalMs: 20 });
      w.watchWhile(() => true);
      setTimeout(() => { if (!w.active) process.exit(3); }, 100);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000, encoding: 'utf8' });
    assert.equal(child.signal, null, `the child had to be killed: it kept running (${child.stderr})`);
    assert.equal(child.status, 0, child.stderr);
  });
});

const { addon, error } = loadAddon();

describe('guardKernelSessions: the removal policy', { skip: addon ? false : `native addon not loaded: ${error}` }, () => {
  let fake: FakeSys;
  const cleanup: (() => unknown)[] = [];
  beforeEach(() => {
    fake = new FakeSys();
  });
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
    fake.remove();
  });
  after(() => addon!.releaseLoopbacks!());

  function session(kernelDriver: string, synchronous: boolean, hang = false): KernelSession {
    const s = new KernelSession(addon!.openLoopback!(0, 0, hang), `afalg:${kernelDriver}`, synchronous, 'auto', {
      kernelDriver,
      deadlineMs: 0,
    });
    cleanup.push(() => s.close());
    return s;
  }

  it('kills every session of a driver one of whose devices went, keeps their requests in flight; ENODEV once the driver is gone', async () => {
    const w = fake.watch();
    const unguard = guardKernelSessions(w);
    cleanup.push(
      () => w.stop(),
      unguard,
      () => addon!.releaseLoopbacks!(),
    );
    const onCard = session('virtio_crypto_aes_cbc', false, true);
    const other = session('virtio_crypto_aes_cbc', false);
    const cpu = session('cbc-aes-aesni', true);
    assert.equal(w.active, true, 'a device session makes the watch poll');
    await w.poll();

    let state = 'pending';
    const inFlight = onCard.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0).then(
      () => (state = 'fulfilled'),
      (err: unknown) => {
        state = 'rejected';
        throw err;
      },
    );
    // In the "kernel" already: a request still queued when its session dies never starts.
    for (let i = 0; i < 500 && addon!.dispatcherStats().device.running < 1; i++) await new Promise((r) => setTimeout(r, 10));
    fake.unbind('virtio', 'virtio_crypto', 'virtio2');
    await w.poll();
    assert.deepEqual(
      [onCard, other, cpu].map((s) => s.abandonment?.cause ?? 'open'),
      ['device-removed', 'device-removed', 'open'],
    );
    await assert.rejects(other.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), {
      code: 'ESHUTDOWN',
      syscall: 'validate',
    });
    assert.equal(await cpu.request(Op.Encrypt, Buffer.alloc(16), Buffer.alloc(16), null, 0), 16);
    await new Promise((r) => setImmediate(r));
    assert.equal(state, 'pending', 'the request in flight may be on the card that remains: left to finish');

    fake.unbind('virtio', 'virtio_crypto', 'virtio3');
    fake.setProcCrypto(withoutModule(PROC_CRYPTO, 'virtio_crypto'));
    await w.poll();
    await assert.rejects(inFlight, { code: 'ENODEV', syscall: 'recvmsg', driver: 'afalg:virtio_crypto_aes_cbc' });
  });

  it('stops polling once no live device session is left', async () => {
    const w = fake.watch(10);
    const unguard = guardKernelSessions(w);
    cleanup.push(() => w.stop(), unguard);
    const s = session('virtio_crypto_aes_cbc', false);
    assert.equal(w.active, true);
    await s.close();
    for (let i = 0; i < 200 && w.active; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(w.active, false);
  });
});
