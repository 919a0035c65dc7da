/**
 * `algorithmSupport()`: for each algorithm kcrypto serves, which way it is reachable here —
 * an AF_ALG kernel driver (by driver name or by generic name), a /dev/crypto driver, or the
 * software driver — and, for each interface that cannot serve it, why not.
 */
import { getCiphers, getHashes } from 'node:crypto';

import { afalgTypeOf, algorithmsByKernelName, type Algorithm } from '../algorithms/catalog.js';
import { loadAddon } from '../kernel/bridge/addon.js';
import type { KernelReport } from '../kernel/discovery/discover.js';
import { devCryptoDriverName } from '../kernel/bridge/devcrypto.js';
import { idsOfKernelName } from '../algorithms/crypto-ids.js';
import { framework, openSslDriver, registerDevCryptoDrivers } from './framework-instance.js';
import { kernelReport } from './kernel-view.js';

/** How one algorithm is reached through AF_ALG. */
export interface AfAlgRoute {
  /** kcrypto driver name, `afalg:<kernel driver>`. */
  driver: string;
  /** The kernel driver (`cra_driver_name`) that runs it. */
  kernelDriver: string;
  /** The name bound: the driver name, or the generic name where driver names are refused. */
  bindName: string;
  /** Where `bindName` is a generic name: how the driver behind it was found. */
  reachedBy?: 'observed' | 'priority';
  kind: 'hardware' | 'accelerated' | 'software';
}

/** One algorithm and every way to it. */
export interface AlgorithmSupport {
  /** Kernel name, e.g. `cbc(aes)`. */
  algorithm: string;
  /** node:crypto-style names kcrypto accepts for it (`aes-128-cbc`, …). */
  names: string[];
  /** The AF_ALG driver a `driver: 'kernel'` session takes, or null. */
  afalg: AfAlgRoute | null;
  /** Why AF_ALG cannot serve it, when `afalg` is null. */
  afalgReason?: string;
  /** /dev/crypto drivers that serve it. */
  devcrypto: string[];
  /** The openssl driver (OpenSSL's EVP through the addon) serves it. */
  openssl: boolean;
  /** The software driver serves it (node:crypto has it, or kcrypto's own code does). */
  software: boolean;
}

/** Why AF_ALG has no driver for `name`, from the discovery report. */
function afalgReasonOf(k: KernelReport | null, name: string, alg: Algorithm): string {
  if (!k) return 'native addon unavailable';
  if (!k.afalg.available) return k.afalg.reason ?? 'AF_ALG unavailable';
  const type = afalgTypeOf(alg);
  const t = k.afalg.types[type];
  if (!t.available) return `AF_ALG ${type} sockets unavailable: ${t.reason ?? 'unknown reason'}`;
  const g = k.afalg.generic.find((x) => x.name === name);
  if (g && !g.bound) return g.reason ?? `${name} refused`;
  const listed = k.drivers.filter((d) => d.name === name && !d.internal);
  if (listed.length > 0) return listed.map((d) => `${d.driver}: ${d.reason ?? 'unreachable'}`).join('; ');
  return 'no kernel driver registers it';
}

/**
 * For each algorithm kcrypto serves: its AF_ALG route or why there is none, its /dev/crypto
 * drivers, and whether software serves it. Never throws.
 */
export async function algorithmSupport(): Promise<AlgorithmSupport[]> {
  const { addon } = loadAddon();
  const k = addon ? await kernelReport() : null;
  const dev = registerDevCryptoDrivers();
  const ossl = openSslDriver();
  const have = new Set([...getCiphers(), ...getHashes()]);
  const out: AlgorithmSupport[] = [];
  for (const [name, algs] of algorithmsByKernelName()) {
    const alg = algs[0]!;
    const names = algs.map((a) => a.name);
    const reachable = (k?.afalg.available ? k.drivers : [])
      .filter((d) => d.name === name && d.reachable)
      .sort((a, b) => b.priority - a.priority);
    const pick = reachable[0];
    const afalg: AfAlgRoute | null = pick
      ? {
          driver: `afalg:${pick.driver}`,
          kernelDriver: pick.driver,
          bindName: pick.bindName ?? pick.driver,
          ...(pick.reachedBy ? { reachedBy: pick.reachedBy } : {}),
          kind: pick.kind,
        }
      : null;
    const ids = idsOfKernelName(name);
    const devcrypto = (dev?.discovery.drivers ?? [])
      .filter((d) => ids.length > 0 && ids.every((id) => d.algorithms.includes(id)))
      .map((d) => devCryptoDriverName(d.abi, d.kernelDriver));
    // kcrypto's software driver: node:crypto's ciphers and hashes, plus its own HMAC, CMAC,
    // authenc and DRBG.
    const software = names.some((n) => have.has(n)) || (alg.kind !== 'cipher' && alg.kind !== 'hash');
    const openssl = 'id' in ossl && ids.length > 0 && ids.every((id) => framework.algorithmsOf(ossl.id).includes(id));
    const entry: AlgorithmSupport = { algorithm: name, names, afalg, devcrypto, openssl, software };
    if (!afalg) entry.afalgReason = afalgReasonOf(k, name, alg);
    out.push(entry);
  }
  return out;
}
