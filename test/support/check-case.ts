/**
 * One conformance check as a test of the lab suite: the suite and `kcrypto conformance` run
 * the same code, and a failure prints the check's failures with their reproducers.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';

import type { Check, Depth } from '../../src/conformance/check.js';
import { runCheck } from '../../src/conformance/runner.js';
import type { Family } from '../../src/conformance/families.js';
import type { CaseOptions, DriverCase } from './drivers.js';

/** The depth the suite runs the checks at: `quick`, or `KCRYPTO_CONFORMANCE_DEPTH=full`. */
export const SUITE_DEPTH: Depth = process.env['KCRYPTO_CONFORMANCE_DEPTH'] === 'full' ? 'full' : 'quick';

/**
 * `KCRYPTO_LAB_CHECKS` (comma list of check ids): the checks this kernel's run declares here;
 * the others are left to the kernels scripts/test.js runs them on, and say so. Unset: all.
 */
const listed = (process.env['KCRYPTO_LAB_CHECKS'] ?? '')
  .split(',')
  .map((id) => id.trim())
  .filter((id) => id !== '');
const ONLY = listed.length > 0 ? listed : undefined;

/**
 * Declares a test that runs `check` on `f` on the case's driver; skipped with the check's
 * reason where it does not apply, and with the case's where the case cannot run here.
 */
export function itCheck(check: Check, f: Family, c: DriverCase, options: CaseOptions, depth: Depth = SUITE_DEPTH): void {
  if (ONLY && !ONLY.includes(check.id)) {
    it(`conformance check '${check.id}'`, { skip: `left to another kernel's run (KCRYPTO_LAB_CHECKS=${ONLY.join(',')})` }, () => {});
    return;
  }
  const na = options.skip === undefined ? check.notApplicable(f, c, depth) : undefined;
  it(`conformance check '${check.id}' (${depth}): ${check.title}`, na === undefined ? options : { skip: na }, async (t) => {
    const r = await runCheck(check, f, c, depth);
    t.diagnostic(`${r.status} in ${r.ms} ms: ${JSON.stringify(r.counts)}`);
    if (r.status === 'fail') assert.fail(`${r.reason ?? 'failed'}\n${JSON.stringify(r.failures, null, 1)}`);
  });
}
