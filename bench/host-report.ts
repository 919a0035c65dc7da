/**
 * The host benchmark's markdown report (pure: renders a {@link HostResults}).
 */
import { esc, num, sizeLabel, table } from './report-format.js';
import { hostGoals, LAYER, medianRate, type HostResults, type SubjectResult } from './host-results.js';
import { judge, microsPerRequest, ruleText, spreadOf, type Goal } from './host-stats.js';
import { routingSection } from './report-routing.js';

/** `median (min–max)` of per-round figures, or a dash. */
export function spreadText(values: readonly number[]): string {
  const s = spreadOf(values);
  if (!s) return '–';
  return s.n === 1 ? num(s.median) : `${num(s.median)} (${num(s.min)}–${num(s.max)})`;
}

/** The goals, one line each: what, ratio, rule, status, figures. */
export function goalLines(goals: readonly Goal[]): string[] {
  return goals.map((g) => {
    const ratio = g.value === undefined ? 'no ratio' : `${g.value.toFixed(2)}×`;
    return `- ${judge(g)}: ${g.what}: ${ratio} (goal ${ruleText(g)}) — ${g.detail}`;
  });
}

/** Rows of one algorithm's throughput table: subjects grouped by path and mode, in run order. */
function throughputRows(r: HostResults, alg: 'aes' | 'sha', cell: (s: SubjectResult) => string): string[][] {
  const rows = new Map<string, SubjectResult[]>();
  for (const s of r.throughput.filter((x) => x.id.startsWith(`${alg}/`))) {
    const key = s.id.slice(0, s.id.lastIndexOf('/'));
    rows.set(key, [...(rows.get(key) ?? []), s]);
  }
  return [...rows.values()].map((subjects) => {
    const label = esc(subjects[0]!.label);
    if (subjects.every((s) => s.rates.length === 0)) {
      const reason = [...new Set(subjects.map((s) => s.reason ?? 'not measured'))].join('; ');
      return [label, `not measured: ${esc(reason)}`, ...r.sizes.slice(1).map(() => '')];
    }
    return [
      label,
      ...r.sizes.map((size) => {
        const s = subjects.find((x) => x.size === size);
        if (!s) return '–';
        return s.rates.length > 0 ? cell(s) : `not measured: ${esc(s.reason ?? 'unknown')}`;
      }),
    ];
  });
}

function throughputSection(r: HostResults, alg: 'aes' | 'sha', title: string): string[] {
  const head = ['path', ...r.sizes.map(sizeLabel)];
  const mb = (s: SubjectResult): string => spreadText(s.rates.map((x) => (x * s.size) / 1e6));
  return [
    `## ${title}: requests/s`,
    '',
    table(
      head,
      throughputRows(r, alg, (s) => spreadText(s.rates)),
    ),
    '',
    `## ${title}: MB/s`,
    '',
    table(head, throughputRows(r, alg, mb)),
    '',
  ];
}

function layerSection(r: HostResults): string[] {
  const stat = medianRate(r.layers, LAYER.libuvStat);
  const pbkdf2 = medianRate(r.layers, LAYER.libuvPbkdf2);
  const libuvRate = Math.max('rate' in stat ? stat.rate : 0, 'rate' in pbkdf2 ? pbkdf2.rate : 0);
  const rows = r.layers.map((s) => {
    if (s.rates.length === 0) return [esc(s.label), `not measured: ${esc(s.reason ?? 'unknown')}`, '', ''];
    const us = spreadText(microsPerRequest(s.rates));
    const rel = libuvRate > 0 ? `${(libuvRate / spreadOf(s.rates)!.median).toFixed(2)}×` : '–';
    return [esc(s.label), us, rel, esc(s.ran ?? '')];
  });
  return [
    `## Layer by layer: µs per request (${sizeLabel(r.layers[0]?.size ?? 64)}, the loopback engine)`,
    '',
    "The native loopback engine XORs its input: what is left is each layer's own cost. 'threads' requests",
    "go to the addon's threads and back; the batch row is the time per request with 64 outstanding.",
    "× libuv: the row's time ÷ the faster of libuv's two thread-pool round trips measured in the same run.",
    '',
    table(['layer', 'µs/request', '× libuv round trip', 'ran'], rows),
    '',
  ];
}

function batchSection(r: HostResults): string[] {
  const rows = r.batch.map((s) => {
    if (s.rates.length === 0) return [esc(s.label), `not measured: ${esc(s.reason ?? 'unknown')}`, '', ''];
    const ms = s.rates.map((x) => 1000 / x);
    return [esc(s.label), spreadText(ms), num((8 * s.size * spreadOf(s.rates)!.median) / 1e6), esc(s.ran ?? '')];
  });
  return ['## 8 × 1 MiB AES-128-CBC: wall time', '', table(['path', 'ms per 8 requests', 'MB/s', 'ran'], rows), ''];
}

function loopSection(r: HostResults): string[] {
  const l = r.loop;
  const head = ['in flight', 'size', 'driver', 'p50 ms', 'p99 ms', 'max ms', 'timer samples', 'requests/s', 'initial burst ms'];
  const base = [String(l.requests), sizeLabel(l.size), esc(l.driver)];
  const row =
    l.p99 === undefined
      ? [...base, `not measured: ${esc(l.reason ?? 'unknown')}`, '', '', '', '', '']
      : [
          ...base,
          l.p50!.toFixed(2),
          l.p99.toFixed(2),
          l.max!.toFixed(2),
          String(l.samples ?? '–'),
          l.rate !== undefined ? num(l.rate) : '–',
          l.burstMs !== undefined ? l.burstMs.toFixed(1) : '–',
        ];
  return [
    '## Event loop under load',
    '',
    `Lateness of a 1 ms repeating timer over ${r.settings.loopSeconds} s while ${l.requests} requests are kept in flight on the default`,
    'session. The synchronous burst that issues the first ones is the caller’s own loop and is reported apart.',
    '',
    table(head, [row]),
    '',
  ];
}

/** Measured routing on the mix, as the lab reports it. */
function routingLines(r: HostResults): string[] {
  if (!r.routing) return [];
  const md: string[] = [];
  routingSection(md, r.routing);
  return md;
}

/** The whole report. */
export function renderHostReport(r: HostResults): string {
  const m = r.machine;
  const s = r.settings;
  const goals = hostGoals(r);
  const met = goals.filter((g) => judge(g) === 'met').length;
  const lines = [
    '# kcrypto on the host CPU',
    '',
    `- date: ${m.date}`,
    `- CPU: ${m.cpu}, ${m.cores} cores`,
    `- kernel: ${m.kernel}; Node ${m.node}; OpenSSL ${m.openssl}`,
    `- AF_ALG: ${m.afalg}`,
    `- /dev/crypto: ${m.devcrypto}`,
    `- default driver (\`openSession()\` with no driver option): ${m.defaultDriver}`,
    `- timing: ${s.warmupRounds} warm-up round then ${s.rounds} counted rounds of ${s.roundMs} ms per subject, round-robin over` +
      ` the subjects in one process${s.quick ? ' (--quick: a smoke run, not figures to quote)' : ''};` +
      ` each figure is the median over rounds with the min–max in brackets` +
      (s.elapsedS !== undefined ? `; the run took ${s.elapsedS.toFixed(0)} s` : ''),
    '',
    `## Goals (${met} of ${goals.length} met)`,
    '',
    ...goalLines(goals),
    '',
    ...throughputSection(r, 'aes', 'AES-128-CBC encrypt'),
    ...throughputSection(r, 'sha', 'SHA-256 digest'),
    ...layerSection(r),
    ...batchSection(r),
    ...routingLines(r),
    ...loopSection(r),
  ];
  return `${lines.join('\n')}\n`;
}
