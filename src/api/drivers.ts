/**
 * `drivers()`: every driver kcrypto can see, and those it could not use with the reason.
 */
import { getCiphers, getHashes } from 'node:crypto';

import { ciphers, hashes } from '../algorithms/catalog.js';
import { OPENSSL_DRIVER } from '../drivers/openssl/sessions.js';
import { SOFTWARE_DRIVER } from '../drivers/software/node-crypto.js';
import { loadAddon } from '../kernel/bridge/addon.js';
import { kernelReport } from './kernel-view.js';
import { framework, openSslDriver, registerDevCryptoDrivers } from './framework-instance.js';
import { devCryptoDriverName } from '../kernel/bridge/devcrypto.js';
import { catalogOf, idsOfKernelName } from '../algorithms/crypto-ids.js';
import { CRYPTO_AES_XTS, CRYPTO_CHACHA20_POLY1305 } from '../framework/constants.js';

/** Kernel algorithm names (`cbc(aes)`, `hmac(sha256)`) of crypto(9) ids, as AF_ALG entries list them. */
function kernelNamesOf(ids: readonly number[]): string[] {
  const names = new Set<string>();
  for (const id of ids) {
    const alg = catalogOf(id, id === CRYPTO_AES_XTS || id === CRYPTO_CHACHA20_POLY1305 ? 32 : 16);
    if (alg) names.add(alg.kernelName);
  }
  return [...names];
}

/** The interface through which a driver is reached. */
export type DriverInterface = 'afalg' | 'devcrypto' | 'keyctl' | 'openssl' | 'software';

/** One driver as `drivers()` reports it. */
export interface DriverInfo {
  /** Position in this listing. */
  id: number;
  /** kcrypto driver name: `software`, `afalg:<kernel driver>`, or an interface name when the whole interface is unusable. */
  name: string;
  interface: DriverInterface;
  /** The kernel driver (cra_driver_name) behind it. */
  kernelDriver?: string;
  /**
   * AF_ALG: the name a session binds — the driver name, or the generic name (`cbc(aes)`) that
   * reaches this driver where driver names are refused (`crypto.af_alg_restrict=1`).
   */
  bindName?: string;
  /** A device, CPU instructions (accelerated), or plain software. */
  kind: 'hardware' | 'accelerated' | 'software';
  /** Why it was classified so. */
  kindReason?: string;
  /** Algorithms it serves: node:crypto names for `software`, kernel names (`cbc(aes)`) for the others. */
  algorithms: string[];
  priority?: number;
  /** Kernel drivers: completes asynchronously (a device queue). */
  async?: boolean;
  available: boolean;
  /** Why it is not available. */
  reason?: string;
  /**
   * Unavailable by the kernel's AF_ALG policy rather than for want of a driver:
   * `af_alg_restrict` (the sysctl refuses its name) or `asynchronous` (refused since 7.2).
   */
  refusal?: 'af_alg_restrict' | 'asynchronous';
}

function softwareAlgorithms(): string[] {
  const have = new Set([...getCiphers(), ...getHashes()]);
  const names = [...ciphers().map((c) => c.name), ...hashes().map((h) => h.name)].filter((n) => have.has(n));
  return [
    ...names,
    ...hashes()
      .filter((h) => have.has(h.name))
      .map((h) => `hmac-${h.name}`),
    'cmac-aes',
    'authenc-hmac-*-aes-cbc',
    'stdrng',
  ];
}

/** Lists the drivers. Never throws: what cannot be used is listed with the reason. */
export async function drivers(options: { refresh?: boolean } = {}): Promise<DriverInfo[]> {
  const out: DriverInfo[] = [];
  const add = (d: Omit<DriverInfo, 'id'>): void => {
    out.push({ id: out.length, ...d });
  };
  add({
    name: SOFTWARE_DRIVER,
    interface: 'software',
    kind: 'software',
    kindReason: `node:crypto (OpenSSL ${process.versions.openssl})`,
    algorithms: softwareAlgorithms(),
    available: true,
  });

  const openssl = openSslDriver();
  add({
    name: OPENSSL_DRIVER,
    interface: 'openssl',
    kind: 'software',
    kindReason: `OpenSSL ${process.versions.openssl ?? ''} through the addon: keyed once per session, large requests on the CPU lane's threads`,
    algorithms: 'id' in openssl ? kernelNamesOf(framework.algorithmsOf(openssl.id)) : [],
    available: 'id' in openssl,
    ...('reason' in openssl ? { reason: openssl.reason } : {}),
  });

  const { addon, error } = loadAddon();
  const k = addon ? await kernelReport(options.refresh ?? false) : null;
  if (!k) {
    add({
      name: 'afalg',
      interface: 'afalg',
      kind: 'software',
      algorithms: [],
      available: false,
      reason: error ?? 'native addon not loaded',
    });
  } else {
    if (!k.afalg.available) {
      add({
        name: 'afalg',
        interface: 'afalg',
        kind: 'software',
        algorithms: [],
        available: false,
        reason: k.afalg.reason ?? 'AF_ALG unavailable',
      });
    }
    // /proc/crypto can list one driver name twice (a template instance created again by a
    // later bind); list each driver once.
    const seen = new Set<string>();
    for (const d of k.drivers) {
      if (d.internal || seen.has(d.driver)) continue;
      seen.add(d.driver);
      const entry: Omit<DriverInfo, 'id'> = {
        name: `afalg:${d.driver}`,
        interface: 'afalg',
        kernelDriver: d.driver,
        kind: d.kind,
        kindReason: d.kindReason,
        algorithms: [d.name],
        priority: d.priority,
        async: d.async,
        available: k.afalg.available && d.reachable,
      };
      const reason = !k.afalg.available ? k.afalg.reason : d.reachable ? undefined : d.reason;
      if (reason !== undefined) entry.reason = reason;
      if (entry.available && d.bindName !== undefined) entry.bindName = d.bindName;
      const typeRestricted = d.afalgType !== null && k.afalg.types[d.afalgType].restricted === true;
      if (!entry.available && d.asyncRefused === true) entry.refusal = 'asynchronous';
      else if (!entry.available && (d.restricted === true || typeRestricted || k.afalg.restriction?.value === 2))
        entry.refusal = 'af_alg_restrict';
      add(entry);
    }
  }
  const dev = registerDevCryptoDrivers();
  // A device driver AF_ALG refuses: say whether /dev/crypto reaches it here. cryptodev-linux
  // binds generic names, so it reaches a device only where the device has the highest priority.
  for (const e of out) {
    if (e.refusal !== 'asynchronous' || e.kernelDriver === undefined || !dev || dev.discovery.reason !== undefined) continue;
    const via = dev.discovery.drivers.find((d) => d.kernelDriver === e.kernelDriver);
    const ids = e.algorithms.flatMap((a) => idsOfKernelName(a));
    const other = dev.discovery.drivers.filter(
      (d) => d.kernelDriver !== e.kernelDriver && ids.length > 0 && ids.every((id) => d.algorithms.includes(id)),
    );
    if (via) e.reason = `${e.reason ?? ''}; reachable here through ${devCryptoDriverName(via.abi, via.kernelDriver)}`;
    else if (other.length > 0)
      e.reason = `${e.reason ?? ''}; ${dev.discovery.target.path} here gives ${e.algorithms.join(', ')} to ${other.map((d) => d.kernelDriver).join(', ')} instead (the kernel's highest-priority implementation)`;
  }
  if (!dev) {
    add({
      name: 'devcrypto',
      interface: 'devcrypto',
      kind: 'hardware',
      algorithms: [],
      available: false,
      reason: `no /dev/crypto ABI on ${process.platform}`,
    });
  } else if (dev.discovery.reason !== undefined) {
    add({ name: 'devcrypto', interface: 'devcrypto', kind: 'hardware', algorithms: [], available: false, reason: dev.discovery.reason });
  } else {
    for (const d of dev.discovery.drivers) {
      add({
        name: devCryptoDriverName(d.abi, d.kernelDriver),
        interface: 'devcrypto',
        ...(d.kernelDriver ? { kernelDriver: d.kernelDriver } : {}),
        kind: d.hardware ? 'hardware' : 'software',
        kindReason: `${d.path} (${d.abi}) reports it as ${d.hardware ? 'hardware' : 'not hardware'}`,
        algorithms: kernelNamesOf(d.algorithms),
        available: true,
      });
    }
  }
  return out;
}
