/**
 * The conformance report as plain text for a terminal: a table per driver (algorithms by
 * checks), then why each `n/a`, each failure with the bytes that replay it, and the totals.
 */
import type { ConformanceReport, DriverReport, Failure, Reproducer, Status } from './check.js';

/** The width the table and the prose are laid out for. */
const WIDTH = 100;
/** Bytes of hex on one line of a reproducer: whole 64-byte blocks, easy to count and copy. */
const HEX_BYTES_PER_LINE = 64;
/** Bytes of one field printed at most; the JSON report keeps every byte. */
const HEX_CAP_BYTES = 4096;

const CELL: Record<Status, string> = { pass: 'pass', fail: 'FAIL', 'n/a': 'n/a' };

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Words after `indent`, wrapped at {@link WIDTH} on `sep` boundaries. */
function wrap(items: readonly string[], indent: string, sep = ', '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const [i, item] of items.entries()) {
    const piece = item + (i < items.length - 1 ? sep.trimEnd() : '');
    if (line !== '' && indent.length + line.length + 1 + piece.length > WIDTH) {
      lines.push(indent + line);
      line = piece;
    } else {
      line = line === '' ? piece : `${line} ${piece}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

/** `label` then the items, wrapped; the lines after the first indented under the items. */
function labelled(label: string, items: readonly string[], indent: string): string[] {
  const inner = ' '.repeat(indent.length + label.length);
  return wrap(items, inner).map((l, i) => (i === 0 ? indent + label + l.slice(inner.length) : l));
}

/**
 * The table of one driver; when the check columns do not fit in {@link WIDTH}, they are split
 * over several tables, each repeating the algorithm column.
 */
function table(d: DriverReport): string[] {
  const checks = [...new Set(d.algorithms.flatMap((a) => a.checks.map((c) => c.check)))];
  const first = Math.max(9, ...d.algorithms.map((a) => a.algorithm.length)) + 2;
  const widths = checks.map((c) => Math.max(4, c.length) + 2);
  const blocks: number[][] = [[]];
  let used = first;
  for (const [i, w] of widths.entries()) {
    const block = blocks[blocks.length - 1]!;
    if (block.length > 0 && used + w > WIDTH) {
      blocks.push([i]);
      used = first + w;
    } else {
      block.push(i);
      used += w;
    }
  }
  const lines: string[] = [];
  for (const block of blocks) {
    if (lines.length > 0) lines.push('');
    lines.push(('  ' + pad('algorithm', first) + block.map((i) => pad(checks[i]!, widths[i]!)).join('')).trimEnd());
    for (const a of d.algorithms) {
      const cells = block.map((i) => {
        const r = a.checks.find((c) => c.check === checks[i]);
        return pad(r ? CELL[r.status] : '', widths[i]!);
      });
      lines.push(('  ' + pad(a.algorithm, first) + cells.join('')).trimEnd());
    }
  }
  return lines;
}

/** Each `n/a` reason once, with the cells it covers: by check, "every algorithm" where it is so. */
function notApplicable(d: DriverReport): string[] {
  const byReason = new Map<string, Map<string, string[]>>();
  for (const a of d.algorithms)
    for (const c of a.checks) {
      if (c.status !== 'n/a') continue;
      const reason = c.reason ?? 'no reason given';
      const byCheck = byReason.get(reason) ?? new Map<string, string[]>();
      byCheck.set(c.check, [...(byCheck.get(c.check) ?? []), a.algorithm]);
      byReason.set(reason, byCheck);
    }
  const lines: string[] = [];
  for (const [reason, byCheck] of byReason) {
    lines.push(...wrap(`n/a: ${reason}`.split(' '), '  ', ' '));
    for (const [check, algorithms] of byCheck) {
      const which = algorithms.length === d.algorithms.length && d.algorithms.length > 1 ? ['every algorithm'] : algorithms;
      lines.push(...labelled(`${check}: `, which, '      '));
    }
  }
  return lines;
}

/** A hex field as `name=…` lines, 64 bytes a line, capped at 4 KiB with a pointer to the JSON. */
function hexField(name: string, value: string, indent: string): string[] {
  const isHex = value.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(value);
  if (!isHex) return [`${indent}${name}=${value}`];
  const bytes = value.length / 2;
  const shown = value.slice(0, HEX_CAP_BYTES * 2);
  const lines: string[] = [];
  const step = HEX_BYTES_PER_LINE * 2;
  const cont = ' '.repeat(name.length + 1);
  for (let i = 0; i < shown.length || i === 0; i += step) lines.push(`${indent}${i === 0 ? `${name}=` : cont}${shown.slice(i, i + step)}`);
  if (bytes > HEX_CAP_BYTES)
    lines.push(`${indent}${cont}… ${bytes} bytes in all, the first ${HEX_CAP_BYTES} shown; --json keeps every byte for replay`);
  return lines;
}

/** A reproducer as the lines a driver author replays it from. */
export function reproducerLines(r: Reproducer, indent = '      '): string[] {
  const head = [`algorithm=${r.algorithm}`, `operation=${r.operation}`];
  if (r.tagLength !== undefined) head.push(`tagLength=${r.tagLength}`);
  const lines = [indent + head.join(' ')];
  const fields: [string, string | undefined][] = [
    ['key', r.key],
    ['authKey', r.authKey],
    ['iv', r.iv],
    ['aad', r.aad],
    ['tag', r.tag],
    ['data', r.data],
    ['expected', r.expected],
    ['got', r.got],
  ];
  for (const [name, value] of fields) if (value !== undefined) lines.push(...hexField(name, value, indent));
  return lines;
}

function failureLines(f: Failure): string[] {
  const [first = '', ...rest] = f.message.split('\n');
  return [`    - ${first}`, ...rest.map((l) => `      ${l}`), ...(f.reproducer ? reproducerLines(f.reproducer) : [])];
}

/** What one driver's section says under its table. */
function driverLines(d: DriverReport): string[] {
  const named = d.kernelDriver === undefined || d.driver === d.kernelDriver || d.driver.endsWith(`:${d.kernelDriver}`);
  const head = `${d.driver}${named ? '' : ` (kernel driver ${d.kernelDriver})`}`;
  const count: Record<Status, number> = { pass: 0, fail: 0, 'n/a': 0 };
  for (const a of d.algorithms) for (const c of a.checks) count[c.status]++;
  const summary = `  ${plural(d.algorithms.length, 'algorithm')}: ${count.pass} pass, ${count.fail} fail, ${count['n/a']} n/a in ${seconds(d.ms)}`;
  if (d.skip !== undefined && count.pass + count.fail === 0)
    return [
      head,
      ...wrap(`not tested: ${d.skip}`.split(' '), '  ', ' '),
      ...wrap(
        d.algorithms.map((a) => a.algorithm),
        '    ',
      ),
      summary,
    ];
  const lines = [head, ...table(d)];
  const na = notApplicable(d);
  if (na.length > 0) lines.push('', ...na);
  for (const a of d.algorithms)
    for (const c of a.checks) {
      if (c.status !== 'fail') continue;
      lines.push('', ...wrap(`FAIL ${a.algorithm} ${c.check}: ${c.reason ?? ''}`.split(' '), '  ', ' '));
      for (const f of c.failures) lines.push(...failureLines(f));
    }
  const cases = new Map<string, number>();
  for (const a of d.algorithms)
    for (const c of a.checks) for (const [k, n] of Object.entries(c.counts)) cases.set(k, (cases.get(k) ?? 0) + n);
  lines.push('');
  if (cases.size > 0)
    lines.push(
      ...labelled(
        'cases: ',
        [...cases].map(([k, n]) => `${k} ${n}`),
        '  ',
      ),
    );
  lines.push(summary);
  return lines;
}

/** The closing line: `N drivers, N algorithms: N pass, N fail, N n/a in X s`. */
export function summaryLine(report: ConformanceReport): string {
  const algorithms = new Set(report.drivers.flatMap((d) => d.algorithms.map((a) => a.algorithm)));
  const t = report.totals;
  return `${plural(report.drivers.length, 'driver')}, ${plural(algorithms.size, 'algorithm')}: ${t.pass} pass, ${t.fail} fail, ${t['n/a']} n/a in ${seconds(report.ms)}`;
}

/**
 * Control characters written as `\xNN`: a driver's error message reaches a terminal, where an
 * escape sequence would redraw the screen and a tab would break the columns.
 */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The whole report as text, laid out for {@link WIDTH} columns (hex lines of a reproducer run longer). */
export function formatTable(report: ConformanceReport): string {
  const lines: string[] = [];
  for (const d of report.drivers) lines.push(...driverLines(d), '');
  lines.push(summaryLine(report));
  return printable(lines.join('\n')) + '\n';
}
