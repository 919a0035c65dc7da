/**
 * The checks of the kit, in the order they run and are reported.
 */
import type { Check } from '../check.js';
import { differentialCheck } from './differential.js';
import { vectorsCheck } from './vectors.js';

export const CHECKS: readonly Check[] = [vectorsCheck, differentialCheck];
