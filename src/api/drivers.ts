/**
 * `drivers()`: every driver kcrypto can see, and those it could not use with the reason.
 */
import { existsSync } from 'node:fs';
import { getCiphers, getHashes } from 'node:crypto';

import { ciphers, hashes } from '../algorithms/catalog.js';
import { SOFTWARE_DRIVER } from '../drivers/software.js';
import { loadAddon } from '../kernel/addon.js';
import { kernelReport } from './kernel-view.js';

/** The interface through which a driver is reached. */
export type DriverInterface = 'afalg' | 'devcrypto' | 'keyctl' | 'software';

/** One driver as `drivers()` reports it. */
export interface DriverInfo {
  /** Position in this listing. */
  id: number;
  /** kcrypto driver name: `software`, `afalg:<kernel driver>`, or an interface name when the whole interface is unusable. */
  name: string;
  interface: DriverInterface;
  /** The kernel driver (cra_driver_name) behind it. */
  kernelDriver?: string;
  /** A device, CPU instructions (accelerated), or plain software. */
  kind: 'hardware' | 'accelerated' | 'software';
  /** Why it was classified so. */
  kindReason?: string;
  /** Algorithms it serves: node:crypto names for software, kernel names (cbc(aes)) for kernel drivers. */
  algorithms: string[];
  priority?: number;
  /** Kernel drivers: completes asynchronously (a device queue). */
  async?: boolean;
  available: boolean;
  /** Why it is not available. */
  reason?: string;
}

function softwareAlgorithms(): string[] {
  const have = new Set([...getCiphers(), ...getHashes()]);
  const names = [...ciphers().map((c) => c.name), ...hashes().map((h) => h.name)].filter((n) => have.has(n));
  return [...names, ...hashes().filter((h) => have.has(h.name)).map((h) => `hmac-${h.name}`), 'cmac-aes', 'authenc-hmac-*-aes-cbc', 'stdrng'];
}

/** Lists the drivers. Never throws: what cannot be used is listed with the reason. */
export async function drivers(options: { refresh?: boolean } = {}): Promise<DriverInfo[]> {
  const out: DriverInfo[] = [];
  const add = (d: Omit<DriverInfo, 'id'>): void => {
    out.push({ id: out.length, ...d });
  };
  add({ name: SOFTWARE_DRIVER, interface: 'software', kind: 'software', kindReason: `node:crypto (OpenSSL ${process.versions.openssl})`, algorithms: softwareAlgorithms(), available: true });

  const { addon, error } = loadAddon();
  const k = addon ? await kernelReport(options.refresh ?? false) : null;
  if (!k) {
    add({ name: 'afalg', interface: 'afalg', kind: 'software', algorithms: [], available: false, reason: `native addon unavailable: ${error ?? 'unknown'}` });
  } else {
    if (!k.afalg.available) {
      add({ name: 'afalg', interface: 'afalg', kind: 'software', algorithms: [], available: false, reason: k.afalg.reason ?? 'AF_ALG unavailable' });
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
      add(entry);
    }
  }
  add({
    name: 'devcrypto',
    interface: 'devcrypto',
    kind: 'hardware',
    algorithms: [],
    available: false,
    reason: existsSync('/dev/crypto') ? '/dev/crypto exists, but this kcrypto version has no /dev/crypto engine yet' : '/dev/crypto not present (FreeBSD cryptodev, or the cryptodev-linux module, not loaded)',
  });
  return out;
}
