/**
 * Synchronous random bytes from the kernel: getrandom(2) through the addon, or node:crypto's
 * randomFillSync (OpenSSL's DRBG, seeded from the kernel) where the addon cannot be loaded or
 * the system has no getrandom.
 */
import { randomFillSync } from 'node:crypto';

import { errnoName } from '../errno.js';
import { loadAddon } from './bridge/addon.js';

/** Which source fills random bytes: the kernel's getrandom(2), or node:crypto. */
export type RandomSource = 'getrandom' | 'node:crypto';

/** Where {@link fillRandom} takes its bytes, and why not from the kernel when it does not. */
export interface RandomSourceInfo {
  source: RandomSource;
  /** Why getrandom(2) is not used; undefined when it is. */
  reason?: string;
}

let chosen: RandomSourceInfo | undefined;
let getRandom: ((view: ArrayBufferView) => number) | undefined;

/** The source random bytes come from, chosen once (loading the addon if need be). */
export function randomSource(): RandomSourceInfo {
  if (chosen) return chosen;
  const load = loadAddon();
  if (!load.addon) {
    chosen = { source: 'node:crypto', reason: `native addon not loaded: ${load.error}` };
  } else if (typeof load.addon.getRandom !== 'function') {
    chosen = { source: 'node:crypto', reason: 'the loaded addon has no getRandom' };
  } else {
    const probe = load.addon.getRandom(new Uint8Array(1));
    if (probe === 0) {
      const addon = load.addon;
      getRandom = (view) => addon.getRandom!(view);
      chosen = { source: 'getrandom' };
    } else {
      chosen = { source: 'node:crypto', reason: `getrandom(2) failed: ${errnoName(probe)}` };
    }
  }
  return chosen;
}

/**
 * Fills `view` with random bytes from {@link randomSource}. A getrandom(2) failure after the
 * first (which the probe would have seen) fills from node:crypto instead: random bytes are
 * never withheld, and the source is the kernel's either way.
 */
export function fillRandom<T extends NodeJS.ArrayBufferView>(view: T): T {
  randomSource();
  if (getRandom && getRandom(view) === 0) return view;
  randomFillSync(view);
  return view;
}
