/**
 * The benchmark's markdown report, goals included, from a run's results (results.ts). The
 * sections on load, routing and goals are in report-load.ts, report-routing.ts, report-goals.ts.
 */
import { mbPerSecond, opsPerSecond } from './measure.js';
import type { Results, Row } from './results.js';
import { esc, execText, num, pct, serialTable, sizeLabel, table } from './report-format.js';
import { ratio, renderGoals } from './report-goals.js';
import { renderLoad } from './report-load.js';
import { renderRouting } from './report-routing.js';

export type { Cell, CostRow, DevCryptoReport, ExecDelta, Group, LoadRow, Results, Row } from './results.js';

/** The markdown report. */
export function renderReport(r: Results): string {
  const md: string[] = [];
  md.push(`# kcrypto in the lab`);
  md.push('');
  if (r.harnessTest) md.push('> **HARNESS TEST**: the kernel rows below ran on the *software* driver; these are not kernel figures.\n');
  md.push(`- date: ${r.date}`);
  md.push(`- kernel: ${r.kernel}`);
  md.push(`- CPU: ${r.cpu} (${r.cpus} CPU${r.cpus === 1 ? '' : 's'})`);
  md.push(`- node ${r.node}, kcrypto ${r.kcrypto}`);
  md.push(`- AF_ALG: ${r.afalg}`);
  md.push(`- C baseline: ${r.baseline}`);
  if (r.devcrypto) {
    md.push(`- /dev/crypto: ${r.devcrypto.summary}`);
    md.push(`- C /dev/crypto baseline: ${r.devcrypto.baseline}`);
  }
  md.push(
    `- ${r.seconds} s per point${r.quick ? ' (--quick)' : ''}, after an uncounted warm-up of half that (at least 0.3 s); MB = 10^6 bytes`,
  );
  md.push('');
  if (r.devcrypto?.fixture) {
    md.push(
      "> **[CUSE fixture]**: the /dev/crypto rows so marked ran against the project's test fixture, a user-space CUSE server that answers the /dev/crypto ioctls by doing the work through AF_ALG. Every request crosses into user space and back before AF_ALG sees it: these figures measure the fixture, not the speed of a /dev/crypto module or of any hardware.",
    );
    md.push('');
  }

  const order = (rows: Row[]): Row[] => rows;
  md.push('## Serial: one request at a time, MB/s');
  md.push('');
  md.push(serialTable(order(r.rows), r.sizes, (s) => num(mbPerSecond(s))));
  md.push('');
  md.push('## Serial: ops/s');
  md.push('');
  md.push(serialTable(order(r.rows), r.sizes, (s) => num(opsPerSecond(s))));
  md.push('');

  md.push('## kcrypto / C (serial, same kernel driver)');
  md.push('');
  md.push(
    table(
      ['algorithm, driver', ...r.sizes.map(sizeLabel)],
      r.groups.map((g) => [
        esc(`${g.title}, ${g.driver ?? g.requested}${g.mark ?? ''}`),
        ...r.sizes.map((s) => {
          const x = ratio(r, g.key, s);
          return x ? pct(x.r) : '–';
        }),
      ]),
    ),
  );
  md.push('');
  md.push('kcrypto execution per point, inline / threaded requests (dispatcher wake-ups, completion batches):');
  md.push('');
  const krows = r.rows.filter((x) => x.path === 'kcrypto');
  md.push(
    table(
      ['path', ...r.sizes.map(sizeLabel)],
      krows.map((x) => [esc(x.label), ...r.sizes.map((s) => execText(x.cells.get(s)?.exec))]),
    ),
  );
  md.push('');

  renderLoad(md, r);

  if (r.policy.length > 0) {
    md.push('## Where the time goes: layers and execution policy (cbc-aes-aesni, serial, ops/s)');
    md.push('');
    md.push('The engine rows reuse one output buffer; the API rows allocate one per request, as encrypt() does.');
    md.push('');
    const psizes = [...new Set(r.policy.flatMap((p) => [...p.cells.keys()]))];
    md.push(serialTable(r.policy, psizes, (s) => `${num(opsPerSecond(s))} (${num(1e6 / Math.max(opsPerSecond(s), 1e-9))} µs/op)`));
    md.push('');
    md.push('inline / threaded requests per point:');
    md.push('');
    md.push(
      table(
        ['path', ...psizes.map(sizeLabel)],
        r.policy.filter((p) => p.path === 'kcrypto').map((p) => [esc(p.label), ...psizes.map((sz) => execText(p.cells.get(sz)?.exec))]),
      ),
    );
    md.push('');
  }

  renderRouting(md, r);

  md.push('## kcrypto engine figures');
  md.push('');
  if (r.engine)
    md.push(
      r.engine.hopSamples > 0
        ? `- measured thread-hop cost (engineStats): ${(r.engine.hopNs / 1000).toFixed(1)} µs (EWMA over ${r.engine.hopSamples} idle hops)`
        : '- thread-hop cost: not measured (no request went through the dispatcher)',
    );
  if (r.dispatcher)
    md.push(
      `- dispatcher, CPU lane: ${Object.entries(r.dispatcher)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  if (r.deviceDispatcher)
    md.push(
      `- dispatcher, device lane: ${Object.entries(r.deviceDispatcher)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  md.push('');
  if (r.costs.length > 0) {
    md.push(
      table(
        ['session', 'synchronous driver', 'execution', 'fixed µs', 'per byte ns', 'requests', 'inline', 'threaded'],
        r.costs.map((c) => [
          esc(c.label),
          c.synchronous ? 'yes' : 'no',
          c.execution,
          (c.fixedNs / 1000).toFixed(1),
          c.perByteNs.toFixed(2),
          String(c.requests),
          String(c.inline),
          String(c.threaded),
        ]),
      ),
    );
    md.push('');
  }

  renderGoals(md, r);
  if (r.notes.length > 0) {
    md.push('');
    md.push('## Notes');
    md.push('');
    for (const n of new Set(r.notes)) md.push(`- ${esc(n)}`);
  }
  md.push('');
  return md.join('\n');
}
