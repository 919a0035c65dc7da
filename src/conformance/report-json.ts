/**
 * The conformance report as JSON: fields always in the same order (so that two runs diff
 * line by line), and the reverse, which checks a document's shape before trusting it.
 */
import type { AlgorithmReport, CheckResult, ConformanceReport, DriverReport, Failure, Reproducer, Status } from './check.js';

const REPRODUCER_FIELDS = ['algorithm', 'operation', 'key', 'authKey', 'iv', 'aad', 'tag', 'tagLength', 'data', 'expected', 'got'] as const;
const OPERATIONS: readonly Reproducer['operation'][] = ['encrypt', 'decrypt', 'digest', 'update-final', 'copy'];
const STATUSES: readonly Status[] = ['pass', 'fail', 'n/a'];

function reproducer(r: Reproducer): Reproducer {
  const out: Record<string, unknown> = {};
  for (const k of REPRODUCER_FIELDS) if (r[k] !== undefined) out[k] = r[k];
  return out as unknown as Reproducer;
}

function failure(f: Failure): Failure {
  return { message: f.message, ...(f.reproducer ? { reproducer: reproducer(f.reproducer) } : {}) };
}

function result(c: CheckResult): CheckResult {
  return {
    check: c.check,
    status: c.status,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    // Sorted: the order a check happened to count in is not worth a diff.
    counts: Object.fromEntries(Object.entries(c.counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    failures: c.failures.map(failure),
    ms: c.ms,
  };
}

function algorithm(a: AlgorithmReport): AlgorithmReport {
  return { algorithm: a.algorithm, checks: a.checks.map(result) };
}

function driver(d: DriverReport): DriverReport {
  return {
    driver: d.driver,
    ...(d.kernelDriver !== undefined ? { kernelDriver: d.kernelDriver } : {}),
    ...(d.skip !== undefined ? { skip: d.skip } : {}),
    algorithms: d.algorithms.map(algorithm),
    ms: d.ms,
  };
}

/** The report in its canonical field order. */
export function canonicalReport(r: ConformanceReport): ConformanceReport {
  return {
    format: r.format,
    kcrypto: r.kcrypto,
    host: { kernel: r.host.kernel, machine: r.host.machine, node: r.host.node },
    depth: r.depth,
    started: r.started,
    ms: r.ms,
    drivers: r.drivers.map(driver),
    totals: { pass: r.totals.pass, fail: r.totals.fail, 'n/a': r.totals['n/a'] },
  };
}

/** The report as pretty JSON (two-space indent, newline-terminated), fields in a fixed order. */
export function formatJson(report: ConformanceReport): string {
  return JSON.stringify(canonicalReport(report), null, 2) + '\n';
}

type Json = Record<string, unknown>;

function object(v: unknown, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${at}: expected an object`);
  return v as Json;
}

function string(o: Json, k: string, at: string, optional = false): void {
  if (optional && o[k] === undefined) return;
  if (typeof o[k] !== 'string') throw new TypeError(`${at}.${k}: expected a string`);
}

function count(o: Json, k: string, at: string, optional = false): void {
  if (optional && o[k] === undefined) return;
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TypeError(`${at}.${k}: expected a count (an integer ≥ 0)`);
}

function array(o: Json, k: string, at: string): unknown[] {
  if (!Array.isArray(o[k])) throw new TypeError(`${at}.${k}: expected an array`);
  return o[k] as unknown[];
}

function checkReproducer(v: unknown, at: string): void {
  const r = object(v, at);
  string(r, 'algorithm', at);
  if (!OPERATIONS.includes(r['operation'] as Reproducer['operation']))
    throw new TypeError(`${at}.operation: expected one of ${OPERATIONS.join(', ')}`);
  for (const k of ['key', 'authKey', 'iv', 'aad', 'tag', 'expected', 'got']) string(r, k, at, true);
  string(r, 'data', at);
  count(r, 'tagLength', at, true);
}

function checkResult(v: unknown, at: string): void {
  const c = object(v, at);
  string(c, 'check', at);
  if (!STATUSES.includes(c['status'] as Status)) throw new TypeError(`${at}.status: expected pass, fail or n/a`);
  string(c, 'reason', at, c['status'] === 'pass');
  const counts = object(c['counts'], `${at}.counts`);
  for (const k of Object.keys(counts)) count(counts, k, `${at}.counts`);
  array(c, 'failures', at).forEach((f, i) => {
    const fo = object(f, `${at}.failures[${i}]`);
    string(fo, 'message', `${at}.failures[${i}]`);
    if (fo['reproducer'] !== undefined) checkReproducer(fo['reproducer'], `${at}.failures[${i}].reproducer`);
  });
  count(c, 'ms', at);
}

/**
 * Parses a JSON report and checks its shape (format 1); throws a SyntaxError for text that is
 * not JSON and a TypeError naming the first field that is wrong.
 */
export function parseReport(text: string): ConformanceReport {
  const r = object(JSON.parse(text) as unknown, 'report');
  if (r['format'] !== 1) throw new TypeError(`report.format: expected 1, got ${JSON.stringify(r['format'])}`);
  string(r, 'kcrypto', 'report');
  const host = object(r['host'], 'report.host');
  for (const k of ['kernel', 'machine', 'node']) string(host, k, 'report.host');
  if (r['depth'] !== 'quick' && r['depth'] !== 'full') throw new TypeError('report.depth: expected quick or full');
  string(r, 'started', 'report');
  count(r, 'ms', 'report');
  array(r, 'drivers', 'report').forEach((dv, i) => {
    const at = `report.drivers[${i}]`;
    const d = object(dv, at);
    string(d, 'driver', at);
    string(d, 'kernelDriver', at, true);
    string(d, 'skip', at, true);
    array(d, 'algorithms', at).forEach((av, j) => {
      const aAt = `${at}.algorithms[${j}]`;
      const a = object(av, aAt);
      string(a, 'algorithm', aAt);
      array(a, 'checks', aAt).forEach((c, k) => checkResult(c, `${aAt}.checks[${k}]`));
    });
    count(d, 'ms', at);
  });
  const totals = object(r['totals'], 'report.totals');
  for (const s of STATUSES) count(totals, s, 'report.totals');
  return canonicalReport(r as unknown as ConformanceReport);
}
