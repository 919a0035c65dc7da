/**
 * The process-wide framework: the software driver (cryptosoft, under the name `software`) and
 * the splitter are registered at once; AF_ALG drivers register as the kernel is discovered, one
 * per kernel driver.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';

import { registerAfAlgDriver } from '../drivers/afalg/driver.js';
import { kernelDriverDevicesChanged, markKernelDriverGone } from '../drivers/kernel/driver.js';
import { forbiddenReason, isForbidden } from '../kernel/bridge/forbid.js';
import { deviceWatch } from '../kernel/discovery/device-watch.js';
import { followDevices, type DriverReadded } from './device-returns.js';
import { discoverDevCrypto, registerDevCryptoDriver, type DevCryptoDiscovery, type DevCryptoTarget } from '../drivers/devcrypto/driver.js';
import { DEVCRYPTO_ABIS, DEVCRYPTO_PATH, devCryptoDriverName, nativeDevCryptoAbi, type DevCryptoAbi } from '../kernel/bridge/devcrypto.js';
import { afalgDriverName, type AfAlgTarget } from '../drivers/afalg/sessions.js';
import { registerOpenSslDriver } from '../drivers/openssl/driver.js';
import { registerCryptosoft } from '../drivers/software/cryptosoft.js';
import { SOFTWARE_DRIVER } from '../drivers/software/node-crypto.js';
import { Framework } from '../framework/framework.js';
import { registerRouter } from '../framework/router.js';
import { registerSplitter } from '../framework/splitter.js';
import { idsOfKernelName } from '../algorithms/crypto-ids.js';
import { kernelReport, targetOf } from './kernel-view.js';

/** The process-wide crypto(9) framework. */
export const framework = new Framework();
/** The software driver's id. */
export const softwareDriverId = registerCryptosoft(framework, SOFTWARE_DRIVER);
registerSplitter(framework);
/** Routed sessions (`driver: 'fastest'`) and the measured route table behind them. */
export const router = registerRouter(framework, undefined, 'fastest');

/** The AF_ALG framework drivers registered. */
const afalgIds = new Set<number>();

/**
 * The framework driver for a kernel driver reached through AF_ALG, registered on first need.
 * `craName` is the algorithm it implements (`cbc(aes)`).
 */
export function afalgDriverFor(target: AfAlgTarget, craName: string): number {
  const name = afalgDriverName(target.kernelDriver);
  const known = framework.findDriver(name);
  if (known >= 0) return known;
  if (!target.synchronous) followRemovals();
  const id = registerAfAlgDriver(framework, { craName, target, hardware: !target.synchronous });
  afalgIds.add(id);
  return id;
}

let following: ReturnType<typeof followDevices> | undefined;

/**
 * Has the device watch's removals fail the framework drivers over the removed devices' kernel
 * drivers, so that their sessions migrate before a request has to time out on a card that is
 * gone. A failed driver stays gone; the next openSession() that names its kernel driver
 * registers a new one, whose sessions bind to the devices that remain. When a device of a
 * failed AF_ALG driver comes back, its driver is registered again at once and the routed
 * (`fastest`) sessions open gain it (see device-returns.ts).
 */
function followRemovals(): void {
  if (following) return;
  following = followDevices(deviceWatch, {
    fail: (kd, reason) => markKernelDriverGone(framework, kd, reason).some((id) => afalgIds.has(id)),
    restore: async (kd) => {
      const d = (await kernelReport(true))?.drivers.find((x) => x.driver === kd && x.reachable);
      if (!d) return undefined;
      // A driver registered while the card was out (a session named it) counted one card fewer.
      kernelDriverDevicesChanged(framework, kd);
      return afalgDriverFor(targetOf(d), d.name);
    },
    adopt: (id) => router.adopt(id),
  });
  following.on('readded', (r) => driverReadded.emit('readded', r));
}

/** Emits `readded` ({@link DriverReadded}) once a returning device's AF_ALG driver is registered again and adopted by the routed sessions. */
export const driverReadded = new EventEmitter<{ readded: [DriverReadded] }>();

/**
 * The /dev/crypto device kcrypto uses: `KCRYPTO_DEVCRYPTO` (a path) and `KCRYPTO_DEVCRYPTO_ABI`
 * (`cryptodev-linux`, `freebsd`, `netbsd`), by default /dev/crypto with this system's ABI.
 * Null where this system has no /dev/crypto ABI.
 */
export function devCryptoTarget(): DevCryptoTarget | null {
  const abi = (process.env['KCRYPTO_DEVCRYPTO_ABI'] as DevCryptoAbi | undefined) || nativeDevCryptoAbi();
  if (!abi || !DEVCRYPTO_ABIS.includes(abi)) return null;
  return { path: process.env['KCRYPTO_DEVCRYPTO'] || DEVCRYPTO_PATH, abi };
}

const devCrypto = new Map<string, { discovery: DevCryptoDiscovery; ids: number[] }>();

/**
 * Probes the /dev/crypto device (once per path and ABI) and registers a framework driver per
 * kernel driver behind it. Where there is no device node, nothing is probed.
 */
export function registerDevCryptoDrivers(
  target: DevCryptoTarget | null = devCryptoTarget(),
): { discovery: DevCryptoDiscovery; ids: number[] } | null {
  if (!target) return null;
  // Before the cache: a forbid given after a look that opened nothing (no device node) wins.
  if (isForbidden('devcrypto')) return { discovery: { target, reason: forbiddenReason('devcrypto'), drivers: [] }, ids: [] };
  const key = `${target.abi}|${target.path}`;
  let r = devCrypto.get(key);
  if (!r) {
    const discovery: DevCryptoDiscovery = existsSync(target.path)
      ? discoverDevCrypto(target)
      : { target, reason: `${target.path} not present (FreeBSD cryptodev, or the cryptodev-linux module, not loaded)`, drivers: [] };
    const ids = discovery.drivers.map((d) => {
      const known = framework.findDriver(devCryptoDriverName(d.abi, d.kernelDriver));
      if (known >= 0) return known;
      if (d.hardware) followRemovals();
      return registerDevCryptoDriver(framework, d);
    });
    devCrypto.set(key, (r = { discovery, ids }));
  }
  return r;
}

let openssl: { id: number } | { reason: string } | undefined;

/**
 * The `openssl` driver (OpenSSL's EVP through the addon), registered on first need: its id, or
 * why it cannot be used in this process.
 */
export function openSslDriver(): { id: number } | { reason: string } {
  openssl ??= registerOpenSslDriver(framework);
  return openssl;
}

let registered: Promise<number[]> | undefined;

/**
 * Registers a framework driver for every kernel driver reachable through AF_ALG whose
 * algorithm kcrypto knows, and for every driver behind /dev/crypto; resolves with their ids.
 * Idempotent.
 */
export function registerKernelDrivers(): Promise<number[]> {
  registered ??= (async () => {
    const k = await kernelReport();
    const dev = registerDevCryptoDrivers()?.ids ?? [];
    if (!k?.afalg.available) return dev;
    return [
      ...k.drivers
        .filter((d) => !d.internal && d.reachable && idsOfKernelName(d.name).length > 0)
        .map((d) => afalgDriverFor(targetOf(d), d.name)),
      ...dev,
    ];
  })();
  return registered;
}
