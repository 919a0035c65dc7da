/**
 * Which drivers each algorithm runs on: every kernel driver the listing shows for it, the
 * generic template instances named by the family (which the listing shows only once bound),
 * and the software driver. On a machine without AF_ALG every kernel case is still declared,
 * and skipped with the reason, so the output says what did not run.
 */
import { before, describe } from 'node:test';

import type { Execution, Session, SessionSpec } from '../../src/index.js';
import type { SessionClass, Target } from '../../src/conformance/check.js';
import { openFailure, openOn as openTarget, openSessionOn } from '../../src/conformance/runner.js';
import { SOFTWARE_TARGET, targetsOf } from '../../src/conformance/targets.js';
import type { Family } from './families.js';

export {
  afAlgUnavailable,
  devCryptoAbiOf,
  kernelListing,
  listedKernelDrivers,
  noHashState,
  requiredGeneric,
} from '../../src/conformance/targets.js';
export type { SessionClass } from '../../src/conformance/check.js';

/** One driver an algorithm is tested on: a conformance target. */
export type DriverCase = Target;

export const SOFTWARE_CASE: DriverCase = SOFTWARE_TARGET;

/** Execution policies a case runs under (the software driver has none). */
export function executionsOf(c: DriverCase): readonly Execution[] {
  return c.kernel ? ['auto', 'inline', 'threads'] : ['auto'];
}

/** Whether this process runs inside `kcrypto lab` (which sets KCRYPTO_LAB=1). */
export const IN_LAB = process.env['KCRYPTO_LAB'] === '1';

/** Every driver `f` is tested on (the conformance targets), narrowed by `KCRYPTO_TEST_DRIVERS`. */
export async function driverCases(f: Family): Promise<DriverCase[]> {
  return onlyDrivers(await targetsOf(f));
}

/**
 * `KCRYPTO_TEST_DRIVERS` (comma-separated name prefixes, e.g. `devcrypto:`) restricts the
 * suite to those drivers: the lab runs the whole conformance suite once more against each
 * /dev/crypto ABI without repeating every other driver. Whether `name` is one of them.
 */
export function selectedDriver(name: string): boolean {
  const only = process.env['KCRYPTO_TEST_DRIVERS'];
  if (!only) return true;
  return only
    .split(',')
    .map((p) => p.trim())
    .some((p) => p !== '' && name.startsWith(p));
}

function onlyDrivers(cases: DriverCase[]): DriverCase[] {
  return cases.filter((c) => selectedDriver(c.label));
}

/** Opens a session on a case's driver with this spec (and execution policy, for kernel drivers): the kit's opener. */
export { openSessionOn as openOn };

/** Opens a session on the case's driver and checks it has the expected class (the kit's own opener). */
export function openAs<S extends Session>(kind: SessionClass<S>, c: DriverCase, spec: SessionSpec, execution?: Execution): Promise<S> {
  return openTarget(kind, c, spec, execution);
}

/**
 * Opens `f` once on the case's driver and checks the session reports that driver. A generic
 * instance the kernel cannot create fails here, loudly and with the kernel's answer, before
 * any test of the case runs (the kit's own check, `openFailure`).
 */
export async function assertOpens(f: Family, c: DriverCase): Promise<void> {
  const failure = await openFailure(f, c);
  if (failure !== undefined) throw new Error(failure);
}

/** Options for the tests of a case: skipped, with the reason, when the case cannot run here. */
export interface CaseOptions {
  skip?: string;
}

/**
 * Declares one suite per driver of `f`, named "<algorithm> on <driver>". The body declares
 * its tests with the options it is given, so that on a machine where a case cannot run every
 * test is reported skipped with the reason (a skipped suite would report none). A case that
 * can run is first opened in a `before` hook (see {@link assertOpens}).
 */
export function describeDrivers(f: Family, cases: readonly DriverCase[], body: (c: DriverCase, options: CaseOptions) => void): void {
  for (const c of cases) {
    describe(`${f.kernelName} on ${c.label}`, () => {
      if (c.skip === undefined) before(() => assertOpens(f, c));
      body(c, c.skip === undefined ? {} : { skip: c.skip });
    });
  }
}
