/**
 * The benchmark's markdown report, goals included, from a run's results (results.ts).
 */
import { mbPerSecond, opsPerSecond, type Sample } from './measure.js';
import type { RoutingResult } from './routing.js';
import type { Cell, ExecDelta, LoadRow, Results, Row } from './results.js';

export type { Cell, CostRow, DevCryptoReport, ExecDelta, Group, LoadRow, Results, Row } from './results.js';

/** `64 B`, `1 KiB`, `16 KiB`. */
export function sizeLabel(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}

function num(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function cellText(c: Cell | undefined, f: (s: Sample) => string): string {
  if (!c) return '–';
  if (c.sample) return f(c.sample);
  return `unavailable: ${esc(c.reason ?? 'unknown')}`;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The first reason among cells that are unavailable, when all of them are. */
function rowReason(r: Row): string | undefined {
  const cells = [...r.cells.values()];
  if (cells.length === 0 || cells.some((c) => c.sample)) return undefined;
  const reasons = [...new Set(cells.map((c) => c.reason ?? 'unknown'))];
  return reasons.join('; ');
}

function serialTable(rows: Row[], sizes: number[], f: (s: Sample) => string): string {
  return table(
    ['path', ...sizes.map(sizeLabel)],
    rows.map((r) => {
      const all = rowReason(r);
      if (all !== undefined) return [esc(r.label), `unavailable: ${esc(all)}`, ...sizes.slice(1).map(() => '')];
      return [esc(r.label), ...sizes.map((s) => cellText(r.cells.get(s), f))];
    }),
  );
}

/** kcrypto/C throughput ratio of a group at a size, when both were measured. */
export function ratio(results: Results, group: string, size: number): { k: Sample; c: Sample; r: number } | undefined {
  const k = results.rows.find((r) => r.path === 'kcrypto' && r.group === group)?.cells.get(size)?.sample;
  const c = results.rows.find((r) => r.path === 'c' && r.group === group)?.cells.get(size)?.sample;
  if (!k || !c || opsPerSecond(c) === 0) return undefined;
  return { k, c, r: opsPerSecond(k) / opsPerSecond(c) };
}

function execText(e: ExecDelta | undefined): string {
  if (!e) return '–';
  return `${e.inline} / ${e.threaded} (${e.wakeups} wake-ups, ${e.deliveries} batches)`;
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
    const routed = rt.rows.find((x) => x.driver === 'fastest' || x.label.startsWith('routed'));
    const singles = rt.rows.filter((x) => x !== routed);
    if (routed?.mbps === undefined || singles.some((x) => x.mbps === undefined)) {
      out.push({
        what,
        status: 'not measured',
        detail: esc(routed?.reason ?? singles.find((x) => x.mbps === undefined)?.reason ?? 'no routed session'),
      });
      continue;
    }
    const best = singles.reduce((b, x) => (x.mbps! > b.mbps! ? x : b));
    const won = roundsWon(rt);
    // Medians alone can beat by less than neighbouring rounds differ: the goal also needs the
    // routed session above every single driver in most rounds, each against the same round.
    const met = routed.mbps > best.mbps! && won !== undefined && won.won * 2 > won.rounds;
    const rounds = won ? `; above every single driver in ${won.won} of ${won.rounds} rounds` : '';
    out.push({
      what,
      status: met ? 'met' : 'not met',
      detail: `routed ${num(routed.mbps)} MB/s, best single driver ${esc(best.driver)} ${num(best.mbps!)} MB/s (${pct(routed.mbps / best.mbps!)})${rounds}`,
    });
  }
  return out;
}

/**
 * In how many rounds the routed session did more than every single driver in the same round.
 * The sessions take turns within a round, so a round's figures share what the machine was
 * doing meanwhile; undefined without the rounds of every row.
 */
export function roundsWon(rt: RoutingResult): { won: number; rounds: number } | undefined {
  const routed = rt.rows.find((x) => x.driver === 'fastest' || x.label.startsWith('routed'));
  const singles = rt.rows.filter((x) => x !== routed);
  const n = routed?.rounds?.length ?? 0;
  if (!routed?.rounds || n === 0 || singles.some((x) => x.rounds?.length !== n)) return undefined;
  let won = 0;
  for (let i = 0; i < n; i++) if (singles.every((x) => routed.rounds![i]! > x.rounds![i]!)) won++;
  return { won, rounds: n };
}

/** The markdown report. */
export function renderReport(r: Results): string {
  const md: string[] = [];
  md.push(`# kcrypto benchmark`);
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

  const loadTable = (rows: LoadRow[], withDelay: boolean): string =>
    table(
      [
        'path',
        'in flight',
        'size',
        'ops/s',
        'MB/s',
        ...(withDelay ? ['loop p50 ms', 'loop p99 ms', 'loop max ms', 'samples', 'initial burst ms'] : []),
        'inline / threaded (wake-ups, batches)',
      ],
      rows.map((x) => {
        const s = x.cell.sample;
        const base = [esc(x.label), String(x.inFlight), sizeLabel(x.size)];
        if (!s) return [...base, `unavailable: ${esc(x.cell.reason ?? 'unknown')}`, '', ...(withDelay ? ['', '', '', '', ''] : []), ''];
        const d = x.delay;
        return [
          ...base,
          num(opsPerSecond(s)),
          num(mbPerSecond(s)),
          ...(withDelay
            ? [
                d ? d.p50.toFixed(2) : '–',
                d ? d.p99.toFixed(2) : '–',
                d ? d.max.toFixed(2) : '–',
                d ? String(d.samples) : '–',
                x.burstMs !== undefined ? x.burstMs.toFixed(1) : '–',
              ]
            : []),
          execText(x.cell.exec),
        ];
      }),
    );

  md.push('## Requests in flight');
  md.push('');
  md.push(loadTable([...r.inFlight, ...r.smallInFlight], false));
  md.push('');
  const cref = (group: string, size: number): string => {
    const c = r.rows.find((x) => x.path === 'c' && x.group === group)?.cells.get(size)?.sample;
    return c ? `${num(opsPerSecond(c))} ops/s, ${num(mbPerSecond(c))} MB/s` : 'not measured';
  };
  md.push(
    `Serial C for reference: virtio_crypto_aes_cbc at 64 KiB ${cref('cbc-virtio', 65536)}; cbc-aes-aesni at 64 B ${cref('cbc-aesni', 64)}.`,
  );
  md.push('');
  // kcrypto against C with as many threads as requests in flight, where the run has both.
  const loadRatios: string[] = [];
  for (const bind of ['virtio_crypto_aes_cbc', 'cbc-aes-aesni']) {
    for (const n of [1, 4, 16]) {
      const k = r.inFlight.find((x) => x.label.startsWith('kcrypto') && x.label.includes(bind) && x.inFlight === n && x.size === 65536)
        ?.cell.sample;
      const c = r.inFlight.find((x) => x.label.startsWith(`C AF_ALG ${bind},`) && x.inFlight === n && x.size === 65536)?.cell.sample;
      if (k && c) loadRatios.push(`${bind} ${n} in flight ${pct(opsPerSecond(k) / opsPerSecond(c))}`);
    }
  }
  if (loadRatios.length > 0) {
    md.push(`kcrypto / C with as many C threads as requests in flight, 64 KiB: ${loadRatios.join('; ')}.`);
    md.push('');
  }
  if (r.devcrypto) {
    const d = r.devcrypto;
    md.push(`### /dev/crypto, AES-128-CBC at 64 KiB${d.fixture ? ' [CUSE fixture]' : ''}`);
    md.push('');
    md.push(
      "`encrypt()` rows: the public API, N calls outstanding; each request is one blocking CIOCCRYPT on one of the addon's device threads. `devCryptoRunBatch()` rows: the engine's request queue, one call of N requests at a time, submitted to the kernel's queue together and collected as they complete (a batch of one is a plain CIOCCRYPT: the engine queues two or more). C rows: bench/devcrypto-baseline.c keeping N requests in the module's queue (CIOCASYNCCRYPT, poll, CIOCASYNCFETCH), each completion replaced by a new request. Without a queue the queue rows say why.",
    );
    md.push('');
    md.push(
      d.inFlight.length > 0
        ? loadTable(d.inFlight, false)
        : `Not measured: ${esc(d.inFlightReason ?? 'no /dev/crypto driver serves AES-128-CBC')}.`,
    );
    md.push('');
    const serial = r.groups.filter((g) => g.interface === 'devcrypto' && g.title === 'AES-128-CBC');
    if (serial.length > 0)
      md.push(`Serial C for reference: ${serial.map((g) => `${g.driver ?? g.requested} at 64 KiB ${cref(g.key, 65536)}`).join('; ')}.`);
    md.push('');
  }

  md.push('## Event-loop delay under load');
  md.push('');
  md.push(
    'Lateness of a 1 ms `setInterval` timer (time between runs minus the period; the gap until the load ends counts as a sample), from the moment all requests are issued until the last completes; "samples" ≈ 1 per ms when the loop is free. "initial burst" is how long the benchmark\'s own synchronous loop that issues the first N requests held the event loop (N calls of `encrypt()`), reported apart because the caller chose to issue them at once.',
  );
  if (r.idleDelay)
    md.push(
      `Idle, for reference: p50 ${r.idleDelay.p50.toFixed(2)} ms, p99 ${r.idleDelay.p99.toFixed(2)} ms, max ${r.idleDelay.max.toFixed(2)} ms, ${r.idleDelay.samples} samples.`,
    );
  md.push('');
  md.push(loadTable(r.loop, true));
  md.push('');

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

  for (const rt of r.routing ?? []) {
    md.push(
      `## Measured routing: AES-128-CBC, ${sizeLabel(rt.small)} and ${sizeLabel(rt.large)} mixed ${rt.smallPerLarge}:1, ${rt.inFlight} in flight`,
    );
    md.push('');
    md.push(`Every session warmed up, then the four take turns for ${rt.rounds} rounds; MB/s and requests/s are the median round.`);
    md.push('');
    const best = Math.max(0, ...rt.rows.filter((x) => x.driver !== 'fastest' && !x.label.startsWith('routed')).map((x) => x.mbps ?? 0));
    md.push(
      table(
        ['session', 'driver', 'MB/s', 'requests/s', 'vs best single driver', 'rounds, MB/s', 'requests sent to'],
        rt.rows.map((x) => [
          esc(x.label),
          esc(x.driver),
          x.mbps !== undefined ? num(x.mbps) : esc(x.reason ?? '–'),
          x.requestsPerSecond !== undefined ? num(x.requestsPerSecond) : '–',
          x.mbps !== undefined && best > 0 ? pct(x.mbps / best) : '–',
          x.rounds ? x.rounds.map(num).join(', ') : '–',
          x.sent
            ? esc(
                Object.entries(x.sent)
                  .filter(([, n]) => n > 0)
                  .map(([d, n]) => `${d}: ${n}`)
                  .join(', '),
              )
            : '',
        ]),
      ),
    );
    md.push('');
    const won = roundsWon(rt);
    if (won) {
      md.push(
        `Round by round (each round of the routed session against the same round of the others, run in turn): above every single driver in ${won.won} of ${won.rounds}.`,
      );
      md.push('');
    }
    if (rt.routes.length > 0) {
      md.push(
        `Route table of the routed session (the cheapest driver per size when idle, and its cost per request with ${rt.depth} in flight: measured, or interpolated between the sizes measured and extended past the largest):`,
      );
      md.push('');
      md.push(
        table(
          ['size', 'routed to', 'time µs', 'CPU µs'],
          rt.routes.map((x) => [
            `${sizeLabel(x.size)}${x.measured ? '' : ' (from the measured sizes)'}`,
            esc(x.driver),
            num(x.timeUs),
            num(x.cpuUs),
          ]),
        ),
      );
      md.push('');
    }
  }

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
  if (r.notes.length > 0) {
    md.push('');
    md.push('## Notes');
    md.push('');
    for (const n of new Set(r.notes)) md.push(`- ${esc(n)}`);
  }
  md.push('');
  return md.join('\n');
}
