/**
 * Which drivers each algorithm runs on: every kernel driver the listing shows for it, the
 * generic template instances named by the family (which the listing shows only once bound),
 * and the software driver. On a machine without AF_ALG every kernel case is still declared,
 * and skipped with the reason, so the output says what did not run.
 */
import { before, describe } from 'node:test';

import { drivers, kernelReport, openSession, type DriverInfo, type Execution, type Session, type SessionSpec } from '../../src/index.js';
import { loadAddon } from '../../src/kernel/bridge/addon.js';
import { describeError } from './errors.js';
import { FAMILIES, randomKeys, specOf, type Family } from './families.js';

/** One driver an algorithm is tested on. */
export interface DriverCase {
  /** openSession's `driver` option. */
  readonly driver: string;
  /** The kcrypto driver name sessions must report (`software`, `afalg:<kernel driver>`). */
  readonly label: string;
  /** Served by an addon engine (AF_ALG, /dev/crypto, openssl), so execution policies apply. */
  readonly kernel: boolean;
  /** The kernel driver (cra_driver_name) asked for; undefined for the software driver. */
  readonly kernelDriver?: string;
  /** A generic instance the suite insists on: failing to create it is a failure, not a skip. */
  readonly required: boolean;
  /** The kernel algorithm names the listing says the driver implements; undefined when not listed. */
  readonly algorithms?: readonly string[];
  /** Why this case cannot run here; undefined when it runs. */
  readonly skip?: string;
}

export const SOFTWARE_CASE: DriverCase = { driver: 'software', label: 'software', kernel: false, required: false };

/** Execution policies a case runs under (the software driver has none). */
export function executionsOf(c: DriverCase): readonly Execution[] {
  return c.kernel ? ['auto', 'inline', 'threads'] : ['auto'];
}

/** Why AF_ALG cannot be used here, or undefined when it can. */
export function afAlgUnavailable(list: readonly DriverInfo[]): string | undefined {
  const entry = list.find((d) => d.name === 'afalg' && !d.available);
  return entry ? `AF_ALG unavailable on this machine: ${entry.reason ?? 'no reason given'}` : undefined;
}

/** Whether this process runs inside `kcrypto lab` (which sets KCRYPTO_LAB=1). */
export const IN_LAB = process.env['KCRYPTO_LAB'] === '1';

let listing: Promise<DriverInfo[]> | undefined;

/**
 * The driver listing after opening every family once with `{ driver: 'kernel' }`: binding a
 * generic name instantiates the kernel's preferred templates (gcm(aes) from its accelerated
 * parts, hmac(sha256) over the best sha256, …), which only then appear in /proc/crypto.
 * Failures here are not reported: drivers.test.ts opens each family and reports them.
 */
export function kernelListing(): Promise<DriverInfo[]> {
  listing ??= (async () => {
    const first = await drivers();
    if (afAlgUnavailable(first) !== undefined) return first;
    for (const f of FAMILIES) {
      try {
        await (await openSession(specOf(f, randomKeys(f)), { driver: 'kernel' })).close();
      } catch {
        // reported by drivers.test.ts
      }
    }
    return drivers({ refresh: true });
  })();
  return listing;
}

const SOCKET_TYPES: Record<Family['kind'], string> = { cipher: 'skcipher', aead: 'aead', hash: 'hash', mac: 'hash' };

/**
 * The generic instances the suite insists on for `f`: of the spellings the family lists, the
 * first that binds here (one per kernel generation); the first spelling when none binds, so
 * that opening it fails with the kernel's own answer. None where `crypto.af_alg_restrict=1`
 * refuses every driver name: afalg-policy.test.ts asserts those refusals instead.
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

/** Every driver `f` is tested on: software first, then the listed kernel drivers, then the generic instances not listed yet. */
export async function driverCases(f: Family): Promise<DriverCase[]> {
  const list = await kernelListing();
  const noAfAlg = afAlgUnavailable(list);
  const cases: DriverCase[] = [SOFTWARE_CASE];
  // OpenSSL through the addon: an engine driver (execution policies apply) with no kernel.
  const openssl = list.find((d) => d.interface === 'openssl');
  if (openssl?.algorithms.includes(f.kernelName))
    cases.push({ driver: openssl.name, label: openssl.name, kernel: true, required: false, algorithms: openssl.algorithms });
  // A kernel may register one template instance twice under the same driver name (each failed
  // bind of xts(aes-generic) adds an xts(ecb(aes-generic))); bind reaches one of them, so
  // each name is one case.
  const listed = listedKernelDrivers(list, f.kernelName).filter(
    (d, i, all) => all.findIndex((x) => x.kernelDriver === d.kernelDriver) === i,
  );
  const generic = await requiredGeneric(f);
  for (const d of listed) {
    const kernelDriver = d.kernelDriver!;
    const required = generic.includes(kernelDriver);
    // Refused by the kernel's AF_ALG policy (af_alg_restrict, or asynchronous since 7.2): not a
    // case to skip but a refusal, which afalg-policy.test.ts and drivers.test.ts assert.
    if (d.refusal !== undefined && !required) continue;
    // A required instance listed as unusable still runs where AF_ALG works: opening it then
    // fails with the kernel's own answer.
    const skip = d.available || (required && noAfAlg === undefined) ? undefined : (noAfAlg ?? d.reason ?? 'listed as unavailable');
    cases.push({
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
    cases.push({
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
    cases.push({
      driver: d.name,
      label: d.name,
      kernel: true,
      ...(d.kernelDriver ? { kernelDriver: d.kernelDriver } : {}),
      required: false,
      algorithms: d.algorithms,
    });
  }
  return onlyDrivers(cases);
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

/** Whether a case is a /dev/crypto driver, and which ABI it speaks. */
export function devCryptoAbiOf(c: DriverCase): string | undefined {
  return /^devcrypto:([^:]+)/.exec(c.label)?.[1];
}

/**
 * Why a case's hash sessions have no incremental state (update/final/copy), or undefined when
 * they have one: the BSDs' /dev/crypto digests whole messages only (no update flag in
 * crypt_op, no state copy), so kcrypto refuses those calls there with ENOTSUP.
 */
export function noHashState(c: DriverCase): string | undefined {
  const abi = devCryptoAbiOf(c);
  return abi === 'freebsd' || abi === 'netbsd' ? `${abi}'s /dev/crypto hashes whole messages only: no state to update or copy` : undefined;
}

/** Opens a session of `f` on a case's driver with this spec (and execution policy, for kernel drivers). */
export function openOn(c: DriverCase, spec: SessionSpec, execution?: Execution): Promise<Session> {
  return openSession(spec, c.kernel && execution !== undefined ? { driver: c.driver, execution } : { driver: c.driver });
}

/** A session class (CipherSession, AeadSession, …), for {@link openAs}. */
export type SessionClass<S extends Session> = abstract new (...args: never[]) => S;

/** Opens a session on the case's driver and checks it has the expected class. */
export async function openAs<S extends Session>(
  kind: SessionClass<S>,
  c: DriverCase,
  spec: SessionSpec,
  execution?: Execution,
): Promise<S> {
  const s = await openOn(c, spec, execution);
  if (s instanceof kind) return s;
  await s.close();
  throw new Error(`${c.label}: openSession returned a ${s.kind} session, expected a ${kind.name}`);
}

/**
 * Opens `f` once on the case's driver and checks the session reports that driver. A generic
 * instance the kernel cannot create fails here, loudly and with the kernel's answer, before
 * any test of the case runs.
 */
export async function assertOpens(f: Family, c: DriverCase): Promise<void> {
  let s: Session;
  try {
    s = await openOn(c, specOf(f, randomKeys(f)));
  } catch (err) {
    const what = c.required
      ? `the kernel could not instantiate ${c.driver} (a ${f.kernelName} built from generic C drivers)`
      : `cannot open ${f.kernelName} on ${c.label}`;
    throw new Error(`${what}: ${describeError(err)}`, { cause: err });
  }
  const driver = s.driver;
  await s.close();
  if (driver !== c.label) throw new Error(`${f.kernelName} on ${c.driver}: the session reports driver ${driver}, expected ${c.label}`);
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
