/**
 * What the process-wide framework does when the device watch sees devices go and come back:
 * on a removal, the framework drivers over the removed devices' kernel drivers fail (their
 * sessions migrate); when a device of such a kernel driver is bound again (a card plugged
 * back), its driver is registered again and offered to the routed sessions already open. The
 * watch keeps polling while a kernel driver is awaited, so that the return is seen even when
 * no session on a device is left to keep it polling.
 */
import { EventEmitter } from 'node:events';

import type { DeviceAddition, DeviceRemoval, DeviceWatch } from '../kernel/discovery/device-watch.js';

/** What a driver registered again after its device came back is. */
export interface DriverReadded {
  /** The kernel's driver name (cra_driver_name). */
  kernelDriver: string;
  /** The framework driver's id. */
  id: number;
  /** Routed sessions that gained it as an alternative. */
  adopted: number;
}

/** What {@link followDevices} does to the framework. */
export interface DeviceReturnHooks {
  /** Fails the framework drivers over `kernelDriver`; says whether one that can be registered again failed. */
  fail(kernelDriver: string, reason: string): boolean;
  /** Registers `kernelDriver`'s framework driver again; its id, or undefined while the kernel does not offer it yet. */
  restore(kernelDriver: string): Promise<number | undefined>;
  /** Offers driver `id` to the sessions already open (router.adopt); how many took it. */
  adopt(id: number): Promise<number>;
}

/** Subscribes to `watch`; the emitter says `readded` once a returning driver is registered and adopted. */
export function followDevices(watch: DeviceWatch, hooks: DeviceReturnHooks): EventEmitter<{ readded: [DriverReadded] }> {
  const events = new EventEmitter<{ readded: [DriverReadded] }>();
  const awaited = new Set<string>();
  const demand = (): boolean => awaited.size > 0;
  watch.on('removed', (r: DeviceRemoval) => {
    const names = r.devices.map((d) => d.name + (d.pciAddress ? ` (${d.pciAddress})` : '')).join(', ');
    for (const kd of r.kernelDrivers) {
      const reason = r.vanished.includes(kd) ? `${kd} is no longer registered` : `a device of ${kd} was removed: ${names}`;
      if (hooks.fail(kd, reason)) awaited.add(kd);
    }
    if (awaited.size > 0) watch.watchWhile(demand);
  });
  watch.on('added', (a: DeviceAddition) => {
    void (async () => {
      for (const kd of a.kernelDrivers) {
        if (!awaited.has(kd)) continue;
        const id = await hooks.restore(kd).catch(() => undefined);
        if (id === undefined) continue;
        awaited.delete(kd);
        const adopted = await hooks.adopt(id).catch(() => 0);
        events.emit('readded', { kernelDriver: kd, id, adopted });
      }
    })();
  });
  return events;
}
