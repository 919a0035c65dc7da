/**
 * What the API knows of the running kernel: the discovery report, cached, and the rule that
 * turns a driver choice into the kernel implementation a session binds to.
 */
import { afalgTypeOf, algorithmsByKernelName, type Algorithm } from '../algorithms/catalog.js';
import type { AfAlgTarget } from '../drivers/afalg/sessions.js';
import { DEVICE_MAX_REQUEST } from '../drivers/kernel/backends.js';
import { errnoName, errnoOf } from '../errno.js';
import { loadAddon } from '../kernel/bridge/addon.js';
import { forbiddenError, isForbidden } from '../kernel/bridge/forbid.js';
import { discoverKernel, type KernelDriver, type KernelReport } from '../kernel/discovery/discover.js';
import { readProcCrypto } from '../kernel/discovery/proc-crypto.js';
import { invalid, systemError } from '../kernel/bridge/status.js';

let report: Promise<KernelReport | null> | undefined;

/**
 * The kernel names of every algorithm kcrypto serves, for discovery to try by generic name
 * where driver names are refused (templates are listed in /proc/crypto only once instantiated).
 */
function catalogNames(): { name: string; afalgType: ReturnType<typeof afalgTypeOf> }[] {
  return [...algorithmsByKernelName()].map(([name, [first]]) => ({ name, afalgType: afalgTypeOf(first!) }));
}

function discover(): Promise<KernelReport | null> {
  const { addon } = loadAddon();
  return addon ? discoverKernel(addon, { genericNames: catalogNames() }) : Promise.resolve(null);
}

/** The kernel report (null when the addon is unavailable), probed once and cached. */
export function kernelReport(refresh = false): Promise<KernelReport | null> {
  if (refresh || !report) report = discover();
  return report;
}

// A device driver completes from its queue, on another context; CPU implementations complete
// inside the system call even when flagged ASYNC (SIMD wrappers only defer when the FPU is
// unusable, which it is not in a system call from user space). A driver whose driver name is
// refused is bound by the generic name that reaches it.
export function targetOf(d: KernelDriver): AfAlgTarget {
  const device = d.kind === 'hardware';
  return { bindName: d.bindName ?? d.driver, kernelDriver: d.driver, synchronous: !device, maxRequest: device ? DEVICE_MAX_REQUEST : 0 };
}

function best(ds: KernelDriver[]): KernelDriver | undefined {
  return [...ds].sort((a, b) => b.priority - a.priority)[0];
}

const KCRYPTO_PREFIX = 'afalg:';

/**
 * The kernel implementation for `alg` under `choice` ('hardware', 'kernel', or a driver name).
 * Throws a KCryptoError saying why when there is none.
 */
export async function resolveKernelTarget(alg: Algorithm, choice: string): Promise<AfAlgTarget> {
  const k = await kernelReport();
  const { addon, error } = loadAddon();
  if (!k || !addon) throw invalid('ENOENT', `no kernel driver can be used: ${error ?? 'native addon unavailable'}`, choice);
  const named = choice !== 'hardware' && choice !== 'kernel';
  const bare = choice.startsWith(KCRYPTO_PREFIX) ? choice.slice(KCRYPTO_PREFIX.length) : choice;
  // A name the kernel does not list and that is no template over a listed driver is unknown,
  // whether or not AF_ALG works here.
  if (named && !k.drivers.some((d) => d.driver === bare) && !/\(.*\)/.test(bare))
    throw invalid('ENOENT', `unknown driver ${choice}`, choice);
  if (isForbidden('afalg')) throw forbiddenError('afalg', choice);
  if (!k.afalg.available) {
    const errno = k.afalg.errno ?? errnoOf('EAFNOSUPPORT');
    throw systemError(errno, 'socket', choice, `AF_ALG unavailable: ${k.afalg.reason ?? errnoName(errno)}`);
  }
  const type = afalgTypeOf(alg);
  const typeInfo = k.afalg.types[type];
  if (!typeInfo.available) throw invalid('ENOENT', `AF_ALG ${type} sockets unavailable: ${typeInfo.reason ?? 'unknown reason'}`, choice);

  if (choice === 'hardware') {
    const hw = k.drivers.filter((d) => d.name === alg.kernelName && d.kind === 'hardware');
    const usable = hw.filter((d) => d.reachable);
    const pick = best(usable);
    if (pick) return targetOf(pick);
    const why = hw.length > 0 ? hw.map((d) => `${d.driver}: ${d.reason ?? 'unreachable'}`).join('; ') : 'no device driver registers it';
    throw invalid('ENOENT', `no hardware driver for ${alg.kernelName} (${why})`, 'hardware');
  }

  if (choice === 'kernel') {
    // Binding the generic name instantiates templates (gcm(aes) from ctr and ghash) so they
    // appear in /proc/crypto; the kernel's pick is then the highest-priority entry it lets
    // user space bind.
    addon.probeBind(type, alg.kernelName);
    const fresh = await refreshDrivers(k);
    const pick = best(fresh.filter((d) => d.name === alg.kernelName && d.reachable));
    if (pick) return targetOf(pick);
    const generic = k.afalg.generic.find((g) => g.name === alg.kernelName && !g.bound);
    throw invalid(
      'ENOENT',
      `the kernel has no ${alg.kernelName} reachable through AF_ALG${generic?.reason ? `: ${generic.reason}` : ''}`,
      'kernel',
    );
  }

  const name = choice.startsWith(KCRYPTO_PREFIX) ? choice.slice(KCRYPTO_PREFIX.length) : choice;
  let d = k.drivers.find((x) => x.driver === name);
  d ??= (await refreshDrivers(k)).find((x) => x.driver === name);
  if (d) {
    if (d.name !== alg.kernelName)
      throw invalid('EINVAL', `kernel driver ${name} implements ${d.name}, not ${alg.kernelName}`, `${KCRYPTO_PREFIX}${name}`);
    if (!d.reachable)
      throw invalid(
        'ENOENT',
        `kernel driver ${name} cannot be used through AF_ALG: ${d.reason ?? 'bind refused'}`,
        `${KCRYPTO_PREFIX}${name}`,
      );
    return targetOf(d);
  }
  // A generic name discovery bound: the driver it reaches.
  const generic = k.afalg.generic.find((g) => g.name === name && g.bound && g.reached !== undefined);
  const reached = generic && k.drivers.find((x) => x.driver === generic.reached && x.name === name);
  if (reached) return { ...targetOf(reached), bindName: name };
  // Not listed: perhaps a template over a named driver (cbc(aes-generic)), which bind creates.
  // Since 5.x the xts template wraps an ecb() instance: xts(aes-generic) is spelled
  // xts(ecb(aes-generic)) (and binding the old spelling leaves a stray instance behind).
  if (/^xts\((?!ecb\()/.test(name)) return resolveKernelTarget(alg, name.replace(/^xts\((.*)\)$/, 'xts(ecb($1))'));
  const rc = addon.probeBind(type, name);
  if (rc === 0) {
    const created = (await refreshDrivers(k)).find((x) => x.driver === name);
    if (created && created.name !== alg.kernelName)
      throw invalid('EINVAL', `kernel driver ${name} implements ${created.name}, not ${alg.kernelName}`, `${KCRYPTO_PREFIX}${name}`);
    const device = !created || created.kind === 'hardware';
    return { bindName: name, kernelDriver: name, synchronous: !device, maxRequest: device ? DEVICE_MAX_REQUEST : 0 };
  }
  throw invalid('ENOENT', `unknown driver ${choice}`, choice);
}

/** Re-reads /proc/crypto into the cached report (new template instances appear on first bind). */
async function refreshDrivers(k: KernelReport): Promise<KernelDriver[]> {
  const entries = await readProcCrypto();
  if (!entries) return k.drivers;
  const known = new Set(k.drivers.map((d) => d.driver));
  if (entries.every((e) => known.has(e.driver))) return k.drivers;
  const fresh = await discover();
  if (!fresh) return k.drivers;
  k.drivers.splice(0, k.drivers.length, ...fresh.drivers);
  k.afalg.generic = fresh.afalg.generic;
  return k.drivers;
}
