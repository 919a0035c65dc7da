/**
 * The benchmark's goals, judged from a run's results, and the report's table of them.
 */
import { opsPerSecond, type Sample } from './measure.js';
import type { Results } from './results.js';
import { esc, num, pct, sizeLabel, table } from './report-format.js';
import { routingComparison, routingWon } from './report-routing.js';

/** kcrypto/C throughput ratio of a group at a size, when both were measured. */
export function ratio(results: Results, group: string, size: number): { k: Sample; c: Sample; r: number } | undefined {
  const k = results.rows.find((r) => r.path === 'kcrypto' && r.group === group)?.cells.get(size)?.sample;
  const c = results.rows.find((r) => r.path === 'c' && r.group === group)?.cells.get(size)?.sample;
  if (!k || !c || opsPerSecond(c) === 0) return undefined;
  return { k, c, r: opsPerSecond(k) / opsPerSecond(c) };
}

interface Goal {
  what: string;
  status: 'met' | 'not met' | 'not measured';
  detail: string;
}

function goals(r: Results): Goal[] {
  const out: Goal[] = [];
  const thresholds: [number, number][] = [
    [64, 0.7],
    [16 * 1024, 0.9],
    [64 * 1024, 0.9],
  ];
  // The goals are AF_ALG's; /dev/crypto rows are reported without them.
  for (const g of r.groups.filter((x) => x.interface !== 'devcrypto')) {
    for (const [size, min] of thresholds) {
      if (!r.sizes.includes(size)) continue;
      const what = `serial ${g.title} on ${g.driver ?? g.requested}, ${sizeLabel(size)}: kcrypto ≥ ${pct(min)} of C`;
      const x = ratio(r, g.key, size);
      if (!x) {
        const k = r.rows.find((row) => row.path === 'kcrypto' && row.group === g.key)?.cells.get(size);
        const c = r.rows.find((row) => row.path === 'c' && row.group === g.key)?.cells.get(size);
        out.push({ what, status: 'not measured', detail: esc(k?.reason ?? c?.reason ?? 'no data') });
        continue;
      }
      out.push({
        what,
        status: x.r >= min ? 'met' : 'not met',
        detail: `${pct(x.r)}: kcrypto ${num(opsPerSecond(x.k))} ops/s, C ${num(opsPerSecond(x.c))} ops/s`,
      });
    }
  }
  for (const row of r.smallInFlight) {
    const what = `${row.inFlight} in flight at ${sizeLabel(row.size)} (${row.label}): kcrypto ops/s ≥ serial C ops/s`;
    const c = r.rows.find((x) => x.path === 'c' && x.group === 'cbc-aesni')?.cells.get(row.size)?.sample;
    if (!row.cell.sample || !c) {
      out.push({ what, status: 'not measured', detail: esc(row.cell.reason ?? 'no serial C figure') });
      continue;
    }
    const k = opsPerSecond(row.cell.sample);
    const cs = opsPerSecond(c);
    out.push({ what, status: k >= cs ? 'met' : 'not met', detail: `kcrypto ${num(k)} ops/s vs C ${num(cs)} ops/s (${pct(k / cs)})` });
  }
  for (const row of r.loop) {
    const what = `event-loop p99 lateness < 10 ms with ${row.inFlight} × ${sizeLabel(row.size)} in flight (${row.label})`;
    if (!row.delay) {
      out.push({ what, status: 'not measured', detail: esc(row.cell.reason ?? 'no data') });
      continue;
    }
    const detail = `p99 ${row.delay.p99.toFixed(2)} ms (p50 ${row.delay.p50.toFixed(2)}, max ${row.delay.max.toFixed(2)}, ${row.delay.samples} timer samples)`;
    if (row.delay.samples < 20 && row.delay.max < 10) {
      out.push({ what, status: 'not measured', detail: `too few timer samples for a p99: ${detail}` });
      continue;
    }
    out.push({ what, status: row.delay.p99 < 10 ? 'met' : 'not met', detail });
  }
  for (const rt of r.routing ?? []) {
    const what = `routed session above every single driver, AES-128-CBC ${sizeLabel(rt.small)} / ${sizeLabel(rt.large)} mixed ${rt.smallPerLarge}:1, ${rt.inFlight} in flight (median rounds)`;
    const c = routingComparison(rt);
    if ('reason' in c) {
      out.push({ what, status: 'not measured', detail: esc(c.reason) });
      continue;
    }
    const rounds = c.won ? `; above every single driver in ${c.won.won} of ${c.won.rounds} rounds` : '';
    out.push({
      what,
      status: routingWon(c) ? 'met' : 'not met',
      detail: `routed ${num(c.routed)} MB/s, best single driver ${esc(c.best.driver)} ${num(c.best.mbps)} MB/s (${pct(c.routed / c.best.mbps)})${rounds}`,
    });
  }
  return out;
}

/** The goals section: a table of every goal and a count of each status. */
export function renderGoals(md: string[], r: Results): void {
  md.push('## Goals');
  md.push('');
  const gs = goals(r);
  md.push(
    table(
      ['goal', 'status', 'measured'],
      gs.map((g) => [esc(g.what), g.status === 'met' ? 'met' : `**${g.status}**`, g.detail]),
    ),
  );
  md.push('');
  const met = gs.filter((g) => g.status === 'met').length;
  const missed = gs.filter((g) => g.status === 'not met').length;
  md.push(`${met} met, ${missed} not met, ${gs.length - met - missed} not measured.`);
}
