/**
 * The text report of `kcrypto bench`: per algorithm and depth, a row per request size and a
 * column per subject, in MB/s with the ratio to node:crypto at the same size.
 */
import { machineLine } from './machine.js';
import { sizeLabel, type BenchPoint, type BenchReport } from './run.js';
import { NODE_CRYPTO } from './subjects.js';

function mbps(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** A cell: `412 1.85×`, node:crypto's plain MB/s, or `failed` for a point with an error. */
function cell(p: BenchPoint | undefined): string {
  if (!p) return '';
  if (p.error !== undefined) return 'failed';
  if (p.vsNodeCrypto === null) return mbps(p.mbPerSec);
  return `${mbps(p.mbPerSec)} ${p.vsNodeCrypto.toFixed(2)}×`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r
      .map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!)))
      .join('   ')
      .trimEnd(),
  );
}

/** The whole report as lines of text. */
export function formatTable(report: BenchReport): string {
  const out: string[] = [];
  out.push(`kcrypto bench: ${machineLine(report.machine)}`);
  out.push(
    `MB/s (10^6 bytes a second), the median of ${report.rounds} rounds of ${+(report.timeMs / report.rounds).toFixed(1)} ms, and × node:crypto at the same size`,
  );
  for (const algorithm of report.algorithms) {
    const names = report.subjects.filter((s) => s.algorithm === algorithm).map((s) => s.name);
    const points = report.points.filter((p) => p.algorithm === algorithm);
    for (const depth of report.depths) {
      out.push('', `${algorithm}, ${depth} request${depth === 1 ? '' : 's'} in flight`);
      const rows = [['size', ...names]];
      for (const size of report.sizes) {
        rows.push([
          sizeLabel(size),
          ...names.map((n) => cell(points.find((p) => p.subject === n && p.size === size && (p.depth === depth || n === NODE_CRYPTO)))),
        ]);
      }
      out.push(...table(rows));
    }
  }
  const notes: string[] = [];
  const drivers = report.subjects.filter((s) => s.kind === 'kcrypto' && s.driver !== undefined && s.driver !== s.name);
  for (const s of drivers) notes.push(`${s.name} (${s.algorithm}): served by ${s.driver}`);
  notes.push(`${NODE_CRYPTO}: one request at a time (synchronous), the same figures at every depth`);
  if ('reason' in report.baseline) notes.push(`C baseline: skipped, ${report.baseline.reason}`);
  else
    notes.push(
      `C baseline: compiled with ${report.baseline.compiler}; requests in flight are threads, each with one request (libcrypto: at most one a CPU)`,
    );
  for (const s of report.skipped) notes.push(`${s.name} (${s.algorithm}): skipped, ${s.reason}`);
  for (const p of report.points.filter((q) => q.error !== undefined))
    notes.push(`${p.subject} ${p.algorithm} ${sizeLabel(p.size)} × ${p.depth}: failed, ${p.error}`);
  out.push('', ...notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}
