/**
 * Applies the checks to drivers: one implementation, run by `kcrypto conformance` and by the
 * project's own lab suite alike.
 */
import { readFileSync } from 'node:fs';
import { machine, release } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import type { Execution } from '../kernel/bridge/engine/index.js';
import { openSession } from '../api/open-session.js';
import type { Session } from '../api/session.js';
import { findPackageRoot } from '../package-root.js';
import type {
  AlgorithmReport,
  Check,
  CheckContext,
  CheckResult,
  ConformanceReport,
  Depth,
  DriverReport,
  Failure,
  Progress,
  SessionClass,
  Target,
} from './check.js';
import { CHECKS } from './checks/index.js';
import { describeError } from './expect.js';
import { FAMILIES, randomKeys, specOf, type Family } from './families.js';
import { kernelListing, targetsOf } from './targets.js';

/** Failures kept per check: enough to see a pattern, not a flood. */
const MAX_FAILURES = 20;

/** Opens a session of `spec` on the target's driver (with `execution` on a kernel driver), whatever its class. */
export function openSessionOn(target: Target, spec: Parameters<typeof openSession>[0], execution?: Execution): Promise<Session> {
  return openSession(spec, target.kernel && execution !== undefined ? { driver: target.driver, execution } : { driver: target.driver });
}

/** Opens a session on the target's driver (and execution policy), checking its class. */
export async function openOn<S extends Session>(
  kind: SessionClass<S>,
  target: Target,
  spec: Parameters<typeof openSession>[0],
  execution?: Execution,
): Promise<S> {
  const s = await openSessionOn(target, spec, execution);
  if (s instanceof kind) return s;
  await s.close();
  throw new Error(`${target.label}: openSession returned a ${s.kind} session, expected a ${kind.name}`);
}

/**
 * Opens `f` once on the target and checks the session reports that driver; returns why not,
 * or undefined. A generic instance the kernel cannot create fails here with the kernel's answer.
 */
export async function openFailure(f: Family, target: Target): Promise<string | undefined> {
  let s: Session;
  try {
    s = await openSession(specOf(f, randomKeys(f)), { driver: target.driver });
  } catch (err) {
    const what = target.required
      ? `the kernel could not instantiate ${target.driver} (a ${f.kernelName} built from generic C drivers)`
      : `cannot open ${f.kernelName} on ${target.label}`;
    return `${what}: ${describeError(err)}`;
  }
  const driver = s.driver;
  await s.close();
  return driver === target.label
    ? undefined
    : `${f.kernelName} on ${target.driver}: the session reports driver ${driver}, expected ${target.label}`;
}

/** Runs one check on one algorithm of one driver. */
export async function runCheck(
  check: Check,
  family: Family,
  target: Target,
  depth: Depth,
  onProgress?: (p: Progress) => void,
): Promise<CheckResult> {
  const started = performance.now();
  const na = target.skip ?? check.notApplicable(family, target, depth);
  if (na !== undefined) return { check: check.id, status: 'n/a', reason: na, counts: {}, failures: [], ms: 0 };
  const counts: Record<string, number> = {};
  const failures: Failure[] = [];
  let failed = 0;
  const ctx: CheckContext = {
    family,
    target,
    depth,
    open: (kind, spec, execution) => openOn(kind, target, spec, execution),
    count: (outcome, n = 1) => {
      counts[outcome] = (counts[outcome] ?? 0) + n;
    },
    fail: (failure) => {
      failed++;
      if (failures.length < MAX_FAILURES) failures.push(failure);
    },
    progress: (done, total) => onProgress?.({ driver: target.label, algorithm: family.kernelName, check: check.id, done, total }),
  };
  try {
    await check.run(ctx);
  } catch (err) {
    ctx.fail({ message: describeError(err) });
  }
  const ms = Math.round(performance.now() - started);
  if (failed === 0) return { check: check.id, status: 'pass', counts, failures, ms };
  const more = failed > failures.length ? ` (the first ${failures.length} kept)` : '';
  return { check: check.id, status: 'fail', reason: `${failed} failure(s)${more}: ${failures[0]!.message}`, counts, failures, ms };
}

/** What to run. */
export interface ConformanceOptions {
  /** Drivers by kcrypto name (`afalg:cbc-aes-aesni`), kernel driver name, or framework driver name; default: every usable kernel driver. */
  drivers?: readonly string[];
  /** Kernel algorithm names (`cbc(aes)`); default: every algorithm the driver serves. */
  algorithms?: readonly string[];
  /** Check ids; default: all. */
  checks?: readonly string[];
  depth?: Depth;
  onProgress?: (p: Progress) => void;
  /**
   * The checks to choose from instead of the kit's own (for tests, and for extensions that
   * bring checks of their own); `checks` then selects among these.
   */
  checkList?: readonly Check[];
}

/** Whether a target is one the user named (by kcrypto name, kernel driver name, or the name asked for). */
function named(t: Target, names: readonly string[]): boolean {
  return names.some((n) => n === t.label || n === t.driver || n === t.kernelDriver);
}

/** The kcrypto version, for the report. */
function version(): string {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (root === null) return 'unknown';
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The targets of each family under the options: the named drivers (a name the listing does
 * not show is tried as a framework driver, e.g. a TypeScript driver registered in
 * `framework`), or by default every kernel driver (not software, which is the reference).
 */
async function plan(options: ConformanceOptions): Promise<Map<string, { target: Target; families: Family[] }>> {
  const families = options.algorithms ? FAMILIES.filter((f) => options.algorithms!.includes(f.kernelName)) : FAMILIES;
  const unknownAlgorithms = (options.algorithms ?? []).filter((a) => !FAMILIES.some((f) => f.kernelName === a));
  if (unknownAlgorithms.length > 0)
    throw new RangeError(`unknown algorithm(s) ${unknownAlgorithms.join(', ')}; known: ${FAMILIES.map((f) => f.kernelName).join(', ')}`);
  const byDriver = new Map<string, { target: Target; families: Family[] }>();
  const add = (t: Target, f: Family): void => {
    const entry = byDriver.get(t.label) ?? { target: t, families: [] };
    entry.families.push(f);
    byDriver.set(t.label, entry);
  };
  const seen = new Set<string>();
  for (const f of families) {
    for (const t of await targetsOf(f)) {
      if (options.drivers ? !named(t, options.drivers) : t.label === 'software' || t.label === 'openssl') continue;
      seen.add(t.label);
      if (t.kernelDriver) seen.add(t.kernelDriver);
      seen.add(t.driver);
      add(t, f);
    }
  }
  // Names the listing does not show: framework drivers (a TypeScript driver registered by the
  // caller), tried with each family; a family the driver does not implement is not its.
  for (const name of options.drivers ?? []) {
    if (seen.has(name)) continue;
    const target: Target = { driver: name, label: name, kernel: false, required: false };
    for (const f of families) if ((await openFailure(f, target)) === undefined) add(target, f);
    if (!byDriver.has(name))
      throw new RangeError(
        `no driver ${name} serves ${options.algorithms ? options.algorithms.join(', ') : 'any algorithm the kit checks'}`,
      );
  }
  return byDriver;
}

/** The usable kernel drivers not among `planned`: they serve no algorithm the kit checks. */
async function unchecked(planned: ReadonlySet<string>): Promise<DriverReport[]> {
  return (await kernelListing())
    .filter(
      (d) =>
        d.available && d.kernelDriver !== undefined && (d.interface === 'afalg' || d.interface === 'devcrypto') && !planned.has(d.name),
    )
    .map((d) => ({
      driver: d.name,
      kernelDriver: d.kernelDriver!,
      skip: `serves no algorithm the kit checks (${d.algorithms.join(', ')})`,
      algorithms: [],
      ms: 0,
    }));
}

/** Runs the kit. */
export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const depth = options.depth ?? 'quick';
  const all = options.checkList ?? CHECKS;
  const checks = options.checks ? all.filter((c) => options.checks!.includes(c.id)) : all;
  const unknownChecks = (options.checks ?? []).filter((id) => !all.some((c) => c.id === id));
  if (unknownChecks.length > 0)
    throw new RangeError(`unknown check(s) ${unknownChecks.join(', ')}; known: ${all.map((c) => c.id).join(', ')}`);
  const started = new Date();
  const t0 = performance.now();
  const reports: DriverReport[] = [];
  const planned = await plan(options);
  for (const { target, families } of planned.values()) {
    const d0 = performance.now();
    const algorithms: AlgorithmReport[] = [];
    for (const f of families) {
      const broken = target.skip === undefined ? await openFailure(f, target) : undefined;
      const results: CheckResult[] = [];
      for (const check of checks) {
        if (broken !== undefined)
          results.push({ check: check.id, status: 'fail', reason: broken, counts: {}, failures: [{ message: broken }], ms: 0 });
        else results.push(await runCheck(check, f, target, depth, options.onProgress));
      }
      algorithms.push({ algorithm: f.kernelName, checks: results });
    }
    reports.push({
      driver: target.label,
      ...(target.kernelDriver ? { kernelDriver: target.kernelDriver } : {}),
      ...(target.skip ? { skip: target.skip } : {}),
      algorithms,
      ms: Math.round(performance.now() - d0),
    });
  }
  // Every kernel driver is reported, those the kit has nothing for too (with what they serve).
  if (options.drivers === undefined && options.algorithms === undefined) reports.push(...(await unchecked(new Set(planned.keys()))));
  const totals = { pass: 0, fail: 0, 'n/a': 0 };
  for (const d of reports) for (const a of d.algorithms) for (const c of a.checks) totals[c.status]++;
  return {
    format: 1,
    kcrypto: version(),
    host: { kernel: release(), machine: machine(), node: process.version },
    depth,
    started: started.toISOString(),
    ms: Math.round(performance.now() - t0),
    drivers: reports,
    totals,
  };
}
