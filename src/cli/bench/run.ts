/**
 * One `kcrypto bench` run: for each algorithm, every subject (kcrypto drivers, node:crypto, the
 * C baseline) at every size and depth, and the report the table, the chart and `--json` print.
 */
import { machineInfo, type MachineInfo } from './machine.js';
import { mbPerSecond, type Measured } from './measure.js';
import { baselineSubjects, type CompiledBaseline } from './native-baseline.js';
import type { BenchAlgorithm, BenchOptions } from './options.js';
import type { Progress } from './progress.js';
import { kcryptoSubjects, nodeCryptoSubject, type Skipped, type Subject, type SubjectKind } from './subjects.js';

/** One measured point. */
export interface BenchPoint {
  algorithm: string;
  subject: string;
  kind: SubjectKind;
  /** Bytes per request. */
  size: number;
  /** Requests in flight (C: threads each with one request, libcrypto at most one a CPU; node:crypto: always one). */
  depth: number;
  ops: number;
  bytes: number;
  seconds: number;
  /** Megabytes (10⁶ bytes) a second. */
  mbPerSec: number;
  /** This point's throughput over node:crypto's at the same size; null for node:crypto itself or a failed point. */
  vsNodeCrypto: number | null;
  /** MB/s of each round, in the order measured; ops, bytes and seconds are the median round's. */
  roundsMbPerSec: number[];
  /** Why the point has no figures (a request failed). */
  error?: string;
}

/** A subject of one algorithm as the report lists it. */
export interface SubjectInfo {
  algorithm: string;
  name: string;
  kind: SubjectKind;
  /** kcrypto: the driver the session reported serving it. */
  driver?: string;
  synchronous: boolean;
}

/** Everything one run measured, and what it could not. */
export interface BenchReport {
  machine: MachineInfo;
  /** Measuring time of each point, all rounds together. */
  timeMs: number;
  rounds: number;
  algorithms: string[];
  sizes: number[];
  depths: number[];
  /** How the C baseline was built, or why it is missing. */
  baseline: { compiler: string; libcrypto: boolean } | { reason: string };
  subjects: SubjectInfo[];
  skipped: (Skipped & { algorithm: string })[];
  points: BenchPoint[];
}

/** Rounds each point is measured in; the median is reported. */
export const ROUNDS = 3;

/** Where the C baseline comes from: compiled, declined (`--no-native`), or missing and why. */
export type BaselineSource = CompiledBaseline | { reason: string };

/** Human size: 64 B, 16 KiB, 1 MiB. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

async function subjectsOf(
  alg: BenchAlgorithm,
  options: BenchOptions,
  baseline: BaselineSource,
): Promise<{ subjects: Subject[]; skipped: Skipped[] }> {
  const k = await kcryptoSubjects(alg, options.drivers);
  const c = 'binary' in baseline ? await baselineSubjects(baseline, alg) : { subjects: [], skipped: [] };
  return { subjects: [nodeCryptoSubject(alg), ...k.subjects, ...c.subjects], skipped: [...k.skipped, ...c.skipped] };
}

/**
 * Measures `subjects` at one size and depth in ROUNDS rounds of `ms` each, the subjects taking
 * turns within a round, so that a drift or a stall of the machine (another program, a page
 * cache flush) spreads over all of them rather than landing on one; each point is the median round.
 */
async function measureRounds(
  subjects: readonly Subject[],
  algorithm: string,
  size: number,
  depth: number,
  ms: number,
  progress: Progress,
): Promise<BenchPoint[]> {
  const rounds = subjects.map(() => [] as Measured[]);
  const errors = subjects.map((): string | undefined => undefined);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, s] of subjects.entries()) {
      const d = s.synchronous ? 1 : depth;
      progress.step(`${algorithm} ${sizeLabel(size)} × ${d}: ${s.name}${ROUNDS > 1 ? ` (round ${r + 1}/${ROUNDS})` : ''}`);
      if (errors[i] !== undefined) continue;
      try {
        rounds[i]!.push(await s.measure(size, d, ms));
      } catch (err) {
        errors[i] = err instanceof Error ? err.message : String(err);
      }
    }
  }
  return subjects.map((s, i) => {
    const byRate = rounds[i]!.map((m) => ({ m, rate: mbPerSecond(m) })).sort((a, b) => a.rate - b.rate);
    const median = byRate[Math.floor((byRate.length - 1) / 2)];
    const point: BenchPoint = {
      algorithm,
      subject: s.name,
      kind: s.kind,
      size,
      depth: s.synchronous ? 1 : depth,
      ops: 0,
      bytes: 0,
      seconds: 0,
      mbPerSec: 0,
      vsNodeCrypto: null,
      roundsMbPerSec: rounds[i]!.map(mbPerSecond),
    };
    if (errors[i] !== undefined) point.error = errors[i];
    else if (median) Object.assign(point, median.m, { mbPerSec: median.rate });
    return point;
  });
}

/** Runs the benchmark; `progress` hears of every point before it is measured. */
export async function runBench(options: BenchOptions, baseline: BaselineSource, progress: Progress): Promise<BenchReport> {
  const report: BenchReport = {
    machine: machineInfo(),
    timeMs: options.timeMs,
    rounds: ROUNDS,
    algorithms: options.algorithms.map((a) => a.name),
    sizes: options.sizes,
    depths: options.depths,
    baseline: 'binary' in baseline ? { compiler: baseline.compiler, libcrypto: baseline.libcrypto } : { reason: baseline.reason },
    subjects: [],
    skipped: [],
    points: [],
  };
  // One at a time: opening a 'fastest' session measures its drivers, which others would disturb.
  const perAlgorithm: { alg: BenchAlgorithm; subjects: Subject[]; skipped: Skipped[] }[] = [];
  for (const alg of options.algorithms) perAlgorithm.push({ alg, ...(await subjectsOf(alg, options, baseline)) });
  const total = perAlgorithm.reduce(
    (sum, { subjects }) => sum + options.sizes.length * subjects.reduce((n, s) => n + (s.synchronous ? 1 : options.depths.length), 0),
    0,
  );
  for (const { alg, subjects, skipped } of perAlgorithm) {
    report.subjects.push(
      ...subjects.map((s) => ({
        algorithm: alg.name,
        name: s.name,
        kind: s.kind,
        synchronous: s.synchronous,
        ...(s.driver ? { driver: s.driver } : {}),
      })),
    );
    report.skipped.push(...skipped.map((s) => ({ algorithm: alg.name, ...s })));
  }
  progress.start(total * ROUNDS);
  try {
    for (const { alg, subjects } of perAlgorithm) {
      for (const size of options.sizes) {
        let nodeMbps = 0;
        for (const depth of options.depths) {
          const here = subjects.filter((s) => !s.synchronous || depth === options.depths[0]);
          const points = await measureRounds(here, alg.name, size, depth, options.timeMs / ROUNDS, progress);
          for (const point of points) {
            if (point.kind === 'node') nodeMbps = point.mbPerSec;
            else if (nodeMbps > 0 && point.error === undefined) point.vsNodeCrypto = point.mbPerSec / nodeMbps;
          }
          report.points.push(...points);
        }
      }
    }
  } finally {
    progress.done();
    await Promise.all(perAlgorithm.flatMap(({ subjects }) => subjects.map((s) => s.close().catch(() => undefined))));
  }
  return report;
}
