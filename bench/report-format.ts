/**
 * The building blocks of the benchmark report's markdown: number formats and tables.
 */
import { mbPerSecond, opsPerSecond, type Sample } from './measure.js';
import type { Cell, ExecDelta, LoadRow, Row } from './results.js';

/** `64 B`, `1 KiB`, `16 KiB`. */
export function sizeLabel(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}

export function num(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}

export function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function cellText(c: Cell | undefined, f: (s: Sample) => string): string {
  if (!c) return '–';
  if (c.sample) return f(c.sample);
  return `unavailable: ${esc(c.reason ?? 'unknown')}`;
}

export function table(head: string[], rows: string[][]): string {
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

export function serialTable(rows: Row[], sizes: number[], f: (s: Sample) => string): string {
  return table(
    ['path', ...sizes.map(sizeLabel)],
    rows.map((r) => {
      const all = rowReason(r);
      if (all !== undefined) return [esc(r.label), `unavailable: ${esc(all)}`, ...sizes.slice(1).map(() => '')];
      return [esc(r.label), ...sizes.map((s) => cellText(r.cells.get(s), f))];
    }),
  );
}

export function execText(e: ExecDelta | undefined): string {
  if (!e) return '–';
  const queued = e.queued ? `; ${e.queued} to the kernel's queue in ${e.queueBatches} submissions` : '';
  return `${e.inline} / ${e.threaded} (${e.wakeups} wake-ups, ${e.deliveries} batches${queued})`;
}

/** Rows of requests in flight, with the event-loop delay columns when `withDelay`. */
export function loadTable(rows: LoadRow[], withDelay: boolean): string {
  return table(
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
}
