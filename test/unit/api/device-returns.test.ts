// What follows the device watch in the process-wide framework (src/api/device-returns.ts), on a
// fake sysfs tree: a card removed fails the drivers over its kernel drivers; the card plugged
// back has them registered again and adopted, once, even though nothing else kept the watch
// polling in between.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { followDevices, type DriverReadded } from '../../../src/api/device-returns.js';
import type { DeviceWatch } from '../../../src/kernel/discovery/device-watch.js';
import { FakeSys, VIRTIO_DRIVERS } from '../../support/fake-sysfs.js';

const CBC = 'virtio_crypto_aes_cbc';

function hooks(failing: readonly string[]) {
  const calls: string[] = [];
  let nextId = 10;
  return {
    calls,
    hooks: {
      fail: (kd: string) => {
        calls.push(`fail ${kd}`);
        return failing.includes(kd);
      },
      restore: (kd: string) => {
        calls.push(`restore ${kd}`);
        return Promise.resolve(nextId++);
      },
      adopt: (id: number) => {
        calls.push(`adopt ${id}`);
        return Promise.resolve(1);
      },
    },
  };
}

function nextReadded(events: ReturnType<typeof followDevices>): Promise<DriverReadded> {
  return new Promise((resolve) => events.once('readded', resolve));
}

describe('followDevices: drivers over a removed card fail, and come back with it', () => {
  let fake: FakeSys;
  let watch: DeviceWatch;
  beforeEach(() => {
    fake = new FakeSys();
    watch = fake.watch(5);
  });
  afterEach(() => {
    watch.stop();
    fake.remove();
  });

  it('registers the failed driver again when its card is back, adopts it, once; drivers that failed nothing are not awaited', async () => {
    const { calls, hooks: h } = hooks([CBC]);
    const events = followDevices(watch, h);
    await watch.poll();
    fake.unbind('virtio', 'virtio_crypto', 'virtio2');
    await watch.poll();
    assert.deepEqual(
      calls,
      VIRTIO_DRIVERS.map((kd) => `fail ${kd}`),
    );
    // Nothing else asked the watch to poll: the awaited driver keeps it polling.
    await new Promise((r) => setImmediate(r));
    assert.ok(watch.active, 'the watch polls while a driver is awaited');
    const readded = nextReadded(events);
    fake.bind('virtio', 'virtio_crypto', 'virtio2', 'pci0000:00/0000:00:04.0/virtio2');
    // The watch's timers are unref'd: a poll now, rather than the event loop left empty.
    await watch.poll();
    assert.deepEqual(await readded, { kernelDriver: CBC, id: 10, adopted: 1 });
    assert.deepEqual(calls.slice(VIRTIO_DRIVERS.length), [`restore ${CBC}`, 'adopt 10']);
    // Nothing is awaited any more: the watch stops at its next tick.
    for (let i = 0; i < 500 && watch.active; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(watch.active, false, 'the watch stopped once nothing is awaited');
    fake.unbind('virtio', 'virtio_crypto', 'virtio3');
    fake.bind('virtio', 'virtio_crypto', 'virtio3', 'pci0000:00/0000:00:05.0/virtio3');
    await watch.poll();
    assert.equal(calls.filter((c) => c.startsWith('restore')).length, 1, 'a card returning whose drivers failed nothing restores nothing');
  });

  it('a driver the kernel does not offer yet stays awaited until it does', async () => {
    const { calls, hooks: h } = hooks([CBC]);
    let offered = false;
    const events = followDevices(watch, {
      ...h,
      restore: (kd) => (offered ? h.restore(kd) : Promise.resolve(undefined)),
    });
    await watch.poll();
    fake.unbind('virtio', 'virtio_crypto', 'virtio2');
    await watch.poll();
    fake.bind('virtio', 'virtio_crypto', 'virtio2', 'pci0000:00/0000:00:04.0/virtio2');
    await watch.poll();
    await new Promise((r) => setImmediate(r));
    assert.ok(!calls.some((c) => c.startsWith('adopt')), 'nothing adopted while the kernel does not offer the driver');
    offered = true;
    const readded = nextReadded(events);
    fake.unbind('virtio', 'virtio_crypto', 'virtio2');
    await watch.poll();
    fake.bind('virtio', 'virtio_crypto', 'virtio2', 'pci0000:00/0000:00:04.0/virtio2');
    await watch.poll();
    assert.equal((await readded).kernelDriver, CBC);
  });
});
