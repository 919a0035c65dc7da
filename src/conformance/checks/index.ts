/**
 * The checks of the kit, in the order they run and are reported.
 */
import type { Check } from '../check.js';
import { concurrencyCheck } from './concurrency.js';
import { differentialCheck } from './differential.js';
import { hashCopyCheck } from './hash-copy.js';
import { parametersCheck } from './parameters.js';
import { teardownCheck } from './teardown.js';
import { vectorsCheck } from './vectors.js';

export const CHECKS: readonly Check[] = [vectorsCheck, differentialCheck, parametersCheck, concurrencyCheck, hashCopyCheck, teardownCheck];
