// The host benchmark's pure parts: median and spread of per-round figures, how goals are judged
// from a run's results, and the report rendered from them. Nothing here is timed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { renderHostReport, spreadText } from '../../../bench/host-report.js';
import { BATCH, hostGoals, LAYER, throughputId, type HostResults, type SubjectResult } from '../../../bench/host-results.js';
import { judge, median, microsPerRequest, quantile, ruleText, spreadOf, type Goal } from '../../../bench/host-stats.js';
import type { RoutingResult, RoutingRow } from '../../../bench/routing.js';

const SIZES = [64, 1024, 16 * 1024, 64 * 1024, 1 << 20];

function subject(id: string, rates: number[], extra: Partial<SubjectResult> = {}): SubjectResult {
  return { id, label: id, size: 64, rates, ...extra };
}

/** A run where kcrypto does `k` requests/s and node:crypto `n`, everywhere. */
function results(k: number, n: number, more: Partial<HostResults> = {}): HostResults {
  const throughput: SubjectResult[] = [];
  for (const size of SIZES)
    for (const alg of ['aes', 'sha'] as const) {
      throughput.push({ ...subject(throughputId(alg, 'node', 'serial', size), [n, n * 1.1, n * 0.9]), size, label: `node ${alg}` });
      throughput.push({ ...subject(throughputId(alg, 'kcrypto', 'serial', size), [k, k, k]), size, label: `kcrypto ${alg} serial` });
    }
  return {
    machine: {
      date: '2026-12-06T05:00:00Z',
      cpu: 'Test CPU 9000',
      cores: 2,
      kernel: 'linux 6.18.0-test',
      node: '20.20.2',
      openssl: '3.0.19',
      afalg: 'unavailable — no AF_ALG here',
      devcrypto: '/dev/crypto does not exist',
      defaultDriver: 'AES-128-CBC → software, SHA-256 → software',
    },
    settings: { rounds: 3, warmupRounds: 1, roundMs: 100, loopSeconds: 1, quick: false, elapsedS: 42 },
    sizes: SIZES,
    throughput,
    layers: [
      subject(LAYER.engineThreads, [20_000]),
      subject(LAYER.engineThreads64, [150_000]),
      subject(LAYER.libuvStat, [40_000]),
      subject(LAYER.libuvPbkdf2, [25_000]),
    ],
    batch: [subject(BATCH.kcrypto, [100], { size: 1 << 20 }), subject(BATCH.node, [100], { size: 1 << 20 })],
    loop: { requests: 1000, size: 16384, driver: 'software', p50: 0.1, p99: 12, max: 30, samples: 900, rate: 50_000, burstMs: 4 },
    ...more,
  };
}

describe('host benchmark statistics', () => {
  it('median, quartiles and min–max of per-round figures', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
    assert.equal(quantile([1, 2, 3, 4, 5], 0.25), 2);
    assert.equal(quantile([10, 20], 0.5), 15);
    assert.deepEqual(spreadOf([5, 1, 9, 3, 7]), { median: 5, min: 1, max: 9, q1: 3, q3: 7, n: 5 });
    assert.equal(spreadOf([]), undefined);
  });

  it('rates become µs per request, reciprocal, dropping empty rounds', () => {
    assert.deepEqual(microsPerRequest([1e6, 500_000, 0]), [1, 2]);
    assert.equal(spreadText([]), '–');
    assert.equal(spreadText([12.5]), '12.5');
    assert.equal(spreadText([2000, 1000, 3000]), '2,000 (1,000–3,000)');
  });

  it('judges a goal by its rule, and a missing ratio as not measured', () => {
    const g = { what: 'x', detail: '' };
    assert.equal(judge({ ...g, rule: 'atLeast', threshold: 1, value: 1 }), 'met');
    assert.equal(judge({ ...g, rule: 'atLeast', threshold: 1, value: 0.99 }), 'not met');
    assert.equal(judge({ ...g, rule: 'atMost', threshold: 1, value: 1 }), 'met');
    assert.equal(judge({ ...g, rule: 'below', threshold: 1, value: 1 }), 'not met');
    assert.equal(judge({ ...g, rule: 'below', threshold: 1, value: 0.5 }), 'met');
    assert.equal(judge({ ...g, rule: 'atLeast', threshold: 1 }), 'not measured');
    assert.equal(judge({ ...g, rule: 'atLeast', threshold: 1, value: NaN }), 'not measured');
    assert.equal(ruleText({ rule: 'atLeast', threshold: 0.95 }), '≥ 0.95×');
  });
});

describe('host benchmark goals', () => {
  it('kcrypto against node:crypto: ratios of median rates, each against its own threshold', () => {
    const goals = hostGoals(results(92, 100));
    const byWhat = (s: string): (typeof goals)[number] => goals.find((g) => g.what.startsWith(s))!;
    assert.equal(goals.length, 9);
    assert.equal(byWhat('AES-128-CBC 64 B').value, 0.92);
    assert.equal(judge(byWhat('AES-128-CBC 64 B')), 'not met', 'needs 1.0×');
    assert.equal(judge(byWhat('SHA-256 64 B')), 'met', 'needs 0.9×');
    assert.equal(judge(byWhat('AES-128-CBC 64 KiB')), 'not met', 'needs 0.95×');
    assert.equal(judge(hostGoals(results(100, 100)).find((g) => g.what.startsWith('AES-128-CBC 1 KiB'))!), 'met');
  });

  it('the thread round trip against the faster libuv round trip; 64 in flight against serial; batch; event loop', () => {
    const goals = hostGoals(results(1, 1));
    const trip = goals.find((g) => g.what.startsWith('one threaded request'))!;
    // 50 µs against stat's 25 µs (faster than pbkdf2's 40 µs).
    assert.equal(trip.value, 2);
    assert.match(trip.what, /fs\.promises\.stat/);
    assert.equal(judge(trip), 'not met');
    const batch = goals.find((g) => g.what.startsWith('64 in flight'))!;
    assert.equal(batch.value, 7.5);
    assert.equal(judge(batch), 'met');
    const mib = goals.find((g) => g.what.startsWith('8 × 1 MiB'))!;
    assert.equal(mib.value, 1);
    assert.equal(judge(mib), 'not met');
    const loop = goals.find((g) => g.what.startsWith('event-loop'))!;
    assert.equal(loop.value, 12 / 5);
    assert.equal(judge(loop), 'not met');
  });

  it('routing: above the best single path in median and in most rounds, each round against the same round', () => {
    const row = (label: string, driver: string, rounds: number[]): RoutingRow => ({ label, driver, mbps: median(rounds), rounds });
    const routing = (routed: number[]): RoutingResult => ({
      small: 64,
      large: 1 << 20,
      smallPerLarge: 15,
      inFlight: 16,
      depth: 8,
      rounds: 3,
      routes: [],
      rows: [
        row('software', 'software', [900, 900, 900]),
        row('threads', "openssl (execution 'threads')", [1700, 1600, 1800]),
        row('routed', 'fastest', routed),
      ],
    });
    const goalOf = (routed: number[]): Goal =>
      hostGoals(results(1, 1, { routing: routing(routed) })).find((g) => g.what.startsWith('routed'))!;
    const won = goalOf([2000, 2100, 1900]);
    assert.equal(won.value, 2000 / 1700);
    assert.equal(judge(won), 'met');
    assert.match(won.detail, /openssl \(execution 'threads'\)\); above every single path in 3 of 3 rounds/);
    // The median is above, but two of three rounds are below the same rounds of threads.
    const lucky = goalOf([1750, 1550, 1790]);
    assert.ok(lucky.value! > 1);
    assert.equal(judge(lucky), 'not met');
    assert.match(ruleText(lucky), /> 1\.00×, and above every single path in most rounds/);
    assert.equal(judge(goalOf([1600, 1650, 1700])), 'not met');
    const missing = routing([2000, 2000, 2000]);
    missing.rows[0] = { label: 'software', driver: 'software', reason: 'no software driver' };
    const notMeasured = hostGoals(results(1, 1, { routing: missing })).find((g) => g.what.startsWith('routed'))!;
    assert.equal(judge(notMeasured), 'not measured');
    assert.equal(notMeasured.detail, 'no software driver');
  });

  it('a side not measured makes its goal not measured, with the reason', () => {
    const r = results(1, 1, {
      layers: [subject(LAYER.engineThreads, [], { reason: 'no loopback engine' }), subject(LAYER.libuvStat, [1000])],
      loop: { requests: 1000, size: 16384, driver: 'software', reason: 'it broke' },
    });
    const goals = hostGoals(r);
    const trip = goals.find((g) => g.what.startsWith('one threaded request'))!;
    assert.equal(judge(trip), 'not measured');
    assert.equal(trip.detail, 'no loopback engine');
    const loop = goals.find((g) => g.what.startsWith('event-loop'))!;
    assert.equal(judge(loop), 'not measured');
    assert.equal(loop.detail, 'it broke');
  });
});

describe('host benchmark report', () => {
  it('heads with the machine, lists the goals with ratio and status, and every table', () => {
    const md = renderHostReport(results(92, 100));
    assert.match(md, /^# kcrypto on the host CPU\n/);
    for (const s of [
      'Test CPU 9000, 2 cores',
      'linux 6.18.0-test',
      'Node 20.20.2',
      'OpenSSL 3.0.19',
      'AF_ALG: unavailable',
      '/dev/crypto does not exist',
    ])
      assert.ok(md.includes(s), s);
    assert.match(md, /default driver .*: AES-128-CBC → software/);
    assert.match(md, /## Goals \(\d of 9 met\)/);
    assert.match(md, /^- not met: AES-128-CBC 64 B: .*: 0\.92× \(goal ≥ 1\.00×\)/m);
    assert.match(md, /^- met: SHA-256 64 B: .*: 0\.92× \(goal ≥ 0\.90×\)/m);
    for (const h of [
      '## AES-128-CBC encrypt: requests/s',
      '## SHA-256 digest: MB/s',
      '## Layer by layer',
      '## 8 × 1 MiB',
      '## Event loop under load',
    ])
      assert.ok(md.includes(h), h);
    assert.match(md, /\| node aes \| 100 \(90\.0–110\) \|/, 'median with min–max');
    assert.match(md, /\| 1000 \| 16 KiB \| software \| 0\.10 \| 12\.00 \| 30\.00 \|/);
  });

  it('shows why a subject was not measured', () => {
    const r = results(1, 1);
    r.throughput.push({ ...subject(throughputId('sha', 'node-oneshot', 'serial', 64), [], { reason: 'crypto.hash() is absent' }) });
    const md = renderHostReport(r);
    assert.match(md, /\| sha\/node-oneshot\/serial\/64 \| not measured: crypto\.hash\(\) is absent \|/);
  });
});
