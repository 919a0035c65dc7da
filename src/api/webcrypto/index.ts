/**
 * WebCrypto on kcrypto's drivers: `subtle`, `createSubtle()` and the `webcrypto` object.
 */
import { getRandomValues, randomUUID, randomValuesSource } from './random.js';
import { createSubtle, type KSubtle } from './subtle.js';

export { createSubtle, KSubtle, type AlgorithmArgument, type SubtleOptions } from './subtle.js';
export { KCryptoKey, type AesKeyAlgorithm, type HmacKeyAlgorithm, type SecretKeyAlgorithm } from './key.js';
export type { SecretJwk } from './keys.js';
export type { DigestData } from './digest.js';
export type { RandomSource, RandomSourceInfo } from '../../kernel/random.js';
export { getRandomValues, randomUUID, randomValuesSource };

/** A SubtleCrypto on the default driver choice (`'fastest'`). */
export const subtle: KSubtle = createSubtle();

/** A `crypto`-shaped object (`globalThis.crypto`'s members) on kcrypto: `subtle`, `getRandomValues`, `randomUUID`. */
export const webcrypto = {
  subtle,
  getRandomValues,
  randomUUID,
  /** Where getRandomValues() and randomUUID() take their bytes (see {@link randomValuesSource}). */
  get randomSource() {
    return randomValuesSource();
  },
};
