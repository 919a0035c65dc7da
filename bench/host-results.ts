/**
 * What one host benchmark run measured, and the goals judged from it (pure: no timing here).
 */
import { sizeLabel } from './report-format.js';
import { median, type Goal } from './host-stats.js';
import { routingComparison, routingWon } from './report-routing.js';
import type { RoutingResult } from './routing.js';

/** One subject's per-round figures. */
export interface SubjectResult {
  /** Stable key: `aes/node/serial/64`, `sha/kcrypto/inflight-8/1024`, `layer/engine-threads`, … */
  id: string;
  label: string;
  /** Input bytes per request. */
  size: number;
  /** Requests per second, one figure per counted round. */
  rates: number[];
  /** Why it was not measured (or stopped being measured). */
  reason?: string;
  /** Where its requests ran (inline / on threads), when the session counts that. */
  ran?: string;
}

/** The machine and what kcrypto found on it. */
export interface MachineInfo {
  date: string;
  cpu: string;
  cores: number;
  kernel: string;
  node: string;
  openssl: string;
  afalg: string;
  devcrypto: string;
  /** The drivers `openSession()` picked with no driver option, per algorithm. */
  defaultDriver: string;
}

/** Event-loop lateness with many requests in flight. */
export interface LoopResult {
  requests: number;
  size: number;
  driver: string;
  p50?: number;
  p99?: number;
  max?: number;
  samples?: number;
  /** Requests/s meanwhile. */
  rate?: number;
  /** How long issuing the first `requests` held the loop (the caller's own burst, not counted). */
  burstMs?: number;
  reason?: string;
}

/** How the run was timed. */
export interface Settings {
  rounds: number;
  warmupRounds: number;
  roundMs: number;
  loopSeconds: number;
  quick: boolean;
  /** Wall time of the whole run, in seconds. */
  elapsedS?: number;
}

/** One run of the host benchmark. */
export interface HostResults {
  machine: MachineInfo;
  settings: Settings;
  sizes: number[];
  throughput: SubjectResult[];
  layers: SubjectResult[];
  batch: SubjectResult[];
  loop: LoopResult;
  /** The routed session against each single path on the 64 B / 1 MiB mix. */
  routing?: RoutingResult;
}

/** Ids of the throughput rows. */
export function throughputId(alg: 'aes' | 'sha', path: string, mode: string, size: number): string {
  return `${alg}/${path}/${mode}/${size}`;
}

export const LAYER = {
  nativeRun: 'layer/native-run',
  engineInline: 'layer/engine-inline',
  engineAuto: 'layer/engine-auto',
  engineThreads: 'layer/engine-threads',
  engineThreads64: 'layer/engine-threads-64',
  framework: 'layer/framework',
  api: 'layer/api-software',
  apiOpenssl: 'layer/api-openssl',
  libuvStat: 'layer/libuv-stat',
  libuvPbkdf2: 'layer/libuv-pbkdf2',
} as const;

export const BATCH = { kcrypto: 'batch/kcrypto', node: 'batch/node-serial' } as const;

/** The median rate of a subject, or why there is none. */
export function medianRate(list: readonly SubjectResult[], id: string): { rate: number } | { reason: string } {
  const s = list.find((x) => x.id === id);
  if (!s) return { reason: `${id} not measured` };
  if (s.rates.length === 0) return { reason: s.reason ?? `${id} not measured` };
  return { rate: median(s.rates) };
}

function fmt(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3);
}

/** A goal on the ratio a/b of two median rates. */
function rateGoal(
  what: string,
  rule: Goal['rule'],
  threshold: number,
  a: ReturnType<typeof medianRate>,
  b: ReturnType<typeof medianRate>,
  unit: string,
): Goal {
  if ('reason' in a) return { what, rule, threshold, detail: a.reason };
  if ('reason' in b) return { what, rule, threshold, detail: b.reason };
  return { what, rule, threshold, value: a.rate / b.rate, detail: `${fmt(a.rate)} vs ${fmt(b.rate)} ${unit}` };
}

/** The host goals, judged on one run. */
export function hostGoals(r: HostResults): Goal[] {
  const goals: Goal[] = [];
  const vsNode: [alg: 'aes' | 'sha', size: number, min: number][] = [
    ['aes', 64, 1.0],
    ['aes', 1024, 1.0],
    ['sha', 64, 0.9],
    ['aes', 64 * 1024, 0.95],
    ['sha', 64 * 1024, 0.95],
  ];
  for (const [alg, size, min] of vsNode) {
    const name = alg === 'aes' ? 'AES-128-CBC' : 'SHA-256';
    const form = alg === 'aes' ? 'createCipheriv' : 'createHash';
    goals.push(
      rateGoal(
        `${name} ${sizeLabel(size)}: default session serial requests/s ÷ node:crypto ${form}`,
        'atLeast',
        min,
        medianRate(r.throughput, throughputId(alg, 'kcrypto', 'serial', size)),
        medianRate(r.throughput, throughputId(alg, 'node', 'serial', size)),
        'requests/s',
      ),
    );
  }
  // A round trip in µs is 1/rate: kcrypto µs ÷ libuv µs is libuv's rate ÷ kcrypto's. The
  // faster of libuv's two round trips is the bar.
  const stat = medianRate(r.layers, LAYER.libuvStat);
  const pbkdf2 = medianRate(r.layers, LAYER.libuvPbkdf2);
  const libuv = 'rate' in stat && 'rate' in pbkdf2 ? (stat.rate >= pbkdf2.rate ? stat : pbkdf2) : 'rate' in stat ? stat : pbkdf2;
  const libuvName = libuv === stat ? 'fs.promises.stat' : 'pbkdf2 (1 iteration, callback)';
  const threads = medianRate(r.layers, LAYER.engineThreads);
  const trip: Goal = {
    what: `one threaded request round trip (loopback) µs ÷ libuv's thread-pool round trip µs (${libuvName})`,
    rule: 'atMost',
    threshold: 1.0,
    detail: '',
  };
  if ('reason' in threads) trip.detail = threads.reason;
  else if ('reason' in libuv) trip.detail = libuv.reason;
  else {
    trip.value = libuv.rate / threads.rate;
    trip.detail = `${fmt(1e6 / threads.rate)} µs vs ${fmt(1e6 / libuv.rate)} µs`;
  }
  goals.push(trip);
  goals.push(
    rateGoal(
      '64 in flight on threads (loopback) requests/s ÷ serial threaded requests/s',
      'atLeast',
      5,
      medianRate(r.layers, LAYER.engineThreads64),
      threads,
      'requests/s',
    ),
  );
  // Batches per second: the ratio of rates is node's wall time ÷ kcrypto's.
  const batch = rateGoal(
    '8 × 1 MiB AES-128-CBC: node:crypto serial wall time ÷ default session 8 in flight wall time',
    'atLeast',
    1.7,
    medianRate(r.batch, BATCH.kcrypto),
    medianRate(r.batch, BATCH.node),
    '',
  );
  if (batch.value !== undefined) {
    const k = medianRate(r.batch, BATCH.kcrypto) as { rate: number };
    const n = medianRate(r.batch, BATCH.node) as { rate: number };
    batch.detail = `${fmt(1000 / k.rate)} ms vs ${fmt(1000 / n.rate)} ms`;
  }
  goals.push(batch);
  const l = r.loop;
  const loopWhat = `event-loop p99 lateness with ${l.requests} × ${sizeLabel(l.size)} in flight ÷ 5 ms`;
  goals.push(
    l.p99 === undefined
      ? { what: loopWhat, rule: 'below', threshold: 1, detail: l.reason ?? 'not measured' }
      : { what: loopWhat, rule: 'below', threshold: 1, value: l.p99 / 5, detail: `p99 ${l.p99.toFixed(2)} ms` },
  );
  if (r.routing) goals.push(routingGoal(r.routing));
  return goals;
}

/** The routed session above every single path on a mix: median MB/s, and in most rounds. */
function routingGoal(rt: RoutingResult): Goal {
  const what = `routed (fastest) MB/s ÷ the best single path's, AES-128-CBC ${sizeLabel(rt.small)} / ${sizeLabel(rt.large)} mixed ${rt.smallPerLarge}:1, ${rt.inFlight} in flight`;
  const c = routingComparison(rt);
  if ('reason' in c) return { what, rule: 'above', threshold: 1, detail: c.reason };
  return {
    what,
    rule: 'above',
    threshold: 1,
    value: c.routed / c.best.mbps,
    also: { holds: routingWon(c), text: 'and above every single path in most rounds' },
    detail: `${fmt(c.routed)} vs ${fmt(c.best.mbps)} MB/s (${c.best.driver})${c.won ? `; above every single path in ${c.won.won} of ${c.won.rounds} rounds` : ''}`,
  };
}
