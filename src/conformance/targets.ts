/**
 * Which drivers an algorithm is checked on: every kernel driver the listing shows for it, the
 * generic template instances named by its family (which the listing shows only once bound),
 * the drivers behind /dev/crypto, OpenSSL through the addon, and the software driver (the
 * reference). A driver the kernel's AF_ALG policy refuses is not a target: `kcrypto drivers`
 * says why it is unusable.
 */
import { drivers, type DriverInfo } from '../api/drivers.js';
import { kernelReport } from '../api/kernel-view.js';
import { openSession } from '../api/open-session.js';
import { loadAddon } from '../kernel/bridge/addon.js';
import type { Target } from './check.js';
import { FAMILIES, randomKeys, specOf, type Family } from './families.js';

/** The software driver: node:crypto, the reference every other driver is compared with. */
export const SOFTWARE_TARGET: Target = { driver: 'software', label: 'software', kernel: false, required: false };

/** Why AF_ALG cannot be used here, or undefined when it can. */
export function afAlgUnavailable(list: readonly DriverInfo[]): string | undefined {
  const entry = list.find((d) => d.name === 'afalg' && !d.available);
  return entry ? `AF_ALG unavailable on this machine: ${entry.reason ?? 'no reason given'}` : undefined;
}

let listing: Promise<DriverInfo[]> | undefined;

/**
 * The driver listing after opening every family once with `{ driver: 'kernel' }`: binding a
 * generic name instantiates the kernel's preferred templates (gcm(aes) from its accelerated
 * parts, hmac(sha256) over the best sha256, …), which only then appear in /proc/crypto.
 * A family that cannot be opened so is left out of the listing, not reported here: its
 * required generic instance fails on its own.
 */
export function kernelListing(): Promise<DriverInfo[]> {
  listing ??= (async () => {
    const first = await drivers();
    if (afAlgUnavailable(first) !== undefined) return first;
    for (const f of FAMILIES) {
      try {
        await (await openSession(specOf(f, randomKeys(f)), { driver: 'kernel' })).close();
      } catch {
        // the family's generic instance reports it
      }
    }
    return drivers({ refresh: true });
  })();
  return listing;
}

const SOCKET_TYPES: Record<Family['kind'], string> = { cipher: 'skcipher', aead: 'aead', hash: 'hash', mac: 'hash' };

/**
 * The generic instances insisted on for `f`: of the spellings the family lists, the first
 * that binds here (one per kernel generation); the first spelling when none binds, so that
 * opening it fails with the kernel's own answer. None where `crypto.af_alg_restrict=1`
 * refuses every driver name.
 */
export async function requiredGeneric(f: Family): Promise<string[]> {
  const first = f.generic[0];
  if (first === undefined) return [];
  const k = await kernelReport();
  const { addon } = loadAddon();
  if (!k || !addon || !k.afalg.available) return [first];
  if (k.afalg.restriction?.value === 1) return [];
  const bound = f.generic.find((name) => addon.probeBind(SOCKET_TYPES[f.kind], name) === 0);
  return [bound ?? first];
}

/** The AF_ALG listing entries implementing `kernelName` (available or not). */
export function listedKernelDrivers(list: readonly DriverInfo[], kernelName: string): DriverInfo[] {
  return list.filter((d) => d.interface === 'afalg' && d.kernelDriver !== undefined && d.algorithms.includes(kernelName));
}

/** Every driver `f` is checked on: software first, then OpenSSL, the listed kernel drivers, the generic instances not listed yet, /dev/crypto. */
export async function targetsOf(f: Family): Promise<Target[]> {
  const list = await kernelListing();
  const noAfAlg = afAlgUnavailable(list);
  const targets: Target[] = [SOFTWARE_TARGET];
  // OpenSSL through the addon: an engine driver (execution policies apply) with no kernel.
  const openssl = list.find((d) => d.interface === 'openssl');
  if (openssl?.algorithms.includes(f.kernelName))
    targets.push({ driver: openssl.name, label: openssl.name, kernel: true, required: false, algorithms: openssl.algorithms });
  // A kernel may register one template instance twice under the same driver name (each failed
  // bind of xts(aes-generic) adds an xts(ecb(aes-generic))); bind reaches one of them, so
  // each name is one target.
  const listed = listedKernelDrivers(list, f.kernelName).filter(
    (d, i, all) => all.findIndex((x) => x.kernelDriver === d.kernelDriver) === i,
  );
  const generic = await requiredGeneric(f);
  for (const d of listed) {
    const kernelDriver = d.kernelDriver!;
    const required = generic.includes(kernelDriver);
    // Refused by the kernel's AF_ALG policy (af_alg_restrict, or asynchronous since 7.2): a
    // refusal `kcrypto drivers` explains, not a driver to check.
    if (d.refusal !== undefined && !required) continue;
    // A required instance listed as unusable still runs where AF_ALG works: opening it then
    // fails with the kernel's own answer.
    const skip = d.available || (required && noAfAlg === undefined) ? undefined : (noAfAlg ?? d.reason ?? 'listed as unavailable');
    targets.push({
      driver: d.name,
      label: d.name,
      kernel: true,
      kernelDriver,
      required,
      algorithms: d.algorithms,
      ...(skip === undefined ? {} : { skip }),
    });
  }
  for (const g of generic) {
    if (listed.some((d) => d.kernelDriver === g)) continue;
    targets.push({
      driver: g,
      label: `afalg:${g}`,
      kernel: true,
      kernelDriver: g,
      required: true,
      ...(noAfAlg === undefined ? {} : { skip: noAfAlg }),
    });
  }
  // Drivers behind /dev/crypto (the real module, or the lab's fixture for each ABI).
  for (const d of list.filter((x) => x.interface === 'devcrypto' && x.available && x.algorithms.includes(f.kernelName))) {
    targets.push({
      driver: d.name,
      label: d.name,
      kernel: true,
      ...(d.kernelDriver ? { kernelDriver: d.kernelDriver } : {}),
      required: false,
      algorithms: d.algorithms,
    });
  }
  return targets;
}

/** Whether a target is a /dev/crypto driver, and which ABI it speaks. */
export function devCryptoAbiOf(t: Target): string | undefined {
  return /^devcrypto:([^:]+)/.exec(t.label)?.[1];
}

/**
 * Why a target's hash sessions have no incremental state (update/final/copy), or undefined
 * when they have one: the BSDs' /dev/crypto digests whole messages only (no update flag in
 * crypt_op, no state copy), so kcrypto refuses those calls there with ENOTSUP.
 */
export function noHashState(t: Target): string | undefined {
  const abi = devCryptoAbiOf(t);
  return abi === 'freebsd' || abi === 'netbsd' ? `${abi}'s /dev/crypto hashes whole messages only: no state to update or copy` : undefined;
}
