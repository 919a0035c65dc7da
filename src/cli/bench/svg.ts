/**
 * The chart of `kcrypto bench --svg`: throughput (MB/s, log scale) against request size (log
 * scale), one line per subject, a panel per algorithm (rows) and depth (columns), one legend,
 * and a title naming the machine's CPU and kernel. Plain SVG 1.1 with no scripts or fonts to
 * fetch, so browsers and converters (rsvg-convert, ImageMagick) draw it alike.
 */
import { machineLine } from './machine.js';
import { sizeLabel, type BenchReport } from './run.js';

const PANEL_W = 400;
const PANEL_H = 290;
/** Inside a panel: room for the y labels on the left, the x labels below, the panel title above. */
const PAD = { left: 62, right: 16, top: 30, bottom: 50 };
const MARGIN = 20;
const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';
/** Line colours, distinct on white and for the common colour-vision deficiencies (Okabe–Ito, then more). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#7A5195', '#8C564B', '#1B9E77', '#E7298A'];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const fmt = (v: number): string => (Math.round(v * 10) / 10).toString();

/** How a subject's line looks: node:crypto black, the C baseline grey and dashed, kcrypto coloured. */
interface LineStyle {
  color: string;
  dash: string | null;
}

function styles(names: readonly string[], kinds: ReadonlyMap<string, string>): Map<string, LineStyle> {
  const out = new Map<string, LineStyle>();
  let colour = 0;
  let grey = 0;
  for (const n of names) {
    const kind = kinds.get(n);
    if (kind === 'node') out.set(n, { color: '#000000', dash: '6 4' });
    else if (kind === 'c') out.set(n, { color: ['#666666', '#999999', '#444444'][grey++ % 3]!, dash: '2 3' });
    else out.set(n, { color: PALETTE[colour++ % PALETTE.length]!, dash: null });
  }
  return out;
}

/** Ticks of a log axis over [lo, hi]: 1-2-5 steps over few decades, powers of ten over many. */
function logTicks(lo: number, hi: number): number[] {
  const decades = Math.log10(hi / lo);
  const steps = decades <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const s of steps) {
      const v = s * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  return ticks;
}

function mbLabel(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return v >= 1 ? String(v) : String(Number(v.toPrecision(2)));
}

/** Y range of an algorithm's panels: whole decades around every figure, at least one decade. */
function yRange(values: number[]): [number, number] {
  if (values.length === 0) return [1, 10];
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  if (hi <= lo) hi = lo * 10;
  return [lo, hi];
}

/** Legend entries laid out in rows across `width`; returns the SVG and its height. */
function legend(
  names: readonly string[],
  style: ReadonlyMap<string, LineStyle>,
  x0: number,
  y0: number,
  width: number,
): { svg: string; height: number } {
  const parts: string[] = [];
  let x = x0;
  let y = y0 + 10;
  for (const n of names) {
    const w = 40 + n.length * 7.5;
    if (x + w > x0 + width && x > x0) {
      x = x0;
      y += 20;
    }
    const s = style.get(n)!;
    parts.push(
      `<line x1="${fmt(x)}" y1="${fmt(y)}" x2="${fmt(x + 24)}" y2="${fmt(y)}" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<circle cx="${fmt(x + 12)}" cy="${fmt(y)}" r="3" fill="${s.color}"/>`,
      `<text x="${fmt(x + 30)}" y="${fmt(y + 4)}" font-size="12">${esc(n)}</text>`,
    );
    x += w + 14;
  }
  return { svg: `<g class="legend" ${FONT}>${parts.join('')}</g>`, height: y - y0 + 14 };
}

/** The chart of `report` as an SVG document. */
export function renderSvg(report: BenchReport): string {
  const cols = Math.max(1, report.depths.length);
  const rows = Math.max(1, report.algorithms.length);
  const width = MARGIN * 2 + cols * PANEL_W;
  const names = [...new Set(report.subjects.map((s) => s.name))];
  const kinds = new Map(report.subjects.map((s) => [s.name, s.kind]));
  const style = styles(names, kinds);
  const head = [
    `<text x="${MARGIN}" y="${MARGIN + 16}" font-size="18" font-weight="bold">${esc('kcrypto bench: throughput by request size')}</text>`,
    `<text x="${MARGIN}" y="${MARGIN + 36}" font-size="12.5">${esc(machineLine(report.machine))}</text>`,
    `<text x="${MARGIN}" y="${MARGIN + 53}" font-size="11" fill="#555555">${esc(`median of ${report.rounds} rounds of ${+(report.timeMs / report.rounds).toFixed(1)} ms, ${report.machine.date.slice(0, 16).replace('T', ' ')} UTC; both axes log scale; node:crypto is one request at a time at every depth`)}</text>`,
  ];
  const leg = legend(names, style, MARGIN, MARGIN + 66, width - 2 * MARGIN);
  const top = MARGIN + 66 + leg.height + 8;
  const height = top + rows * PANEL_H + MARGIN;

  const sizes = report.sizes;
  const [xLo, xHi] = sizes.length > 1 ? [sizes[0]!, sizes[sizes.length - 1]!] : [sizes[0]! / 2, sizes[0]! * 2];
  const panels: string[] = [];
  report.algorithms.forEach((algorithm, r) => {
    const points = report.points.filter((p) => p.algorithm === algorithm && p.error === undefined && p.mbPerSec > 0);
    const [yLo, yHi] = yRange(points.map((p) => p.mbPerSec));
    report.depths.forEach((depth, c) => {
      const px = MARGIN + c * PANEL_W + PAD.left;
      const py = top + r * PANEL_H + PAD.top;
      const pw = PANEL_W - PAD.left - PAD.right;
      const ph = PANEL_H - PAD.top - PAD.bottom;
      const xOf = (size: number): number => px + (pw * Math.log(size / xLo)) / Math.log(xHi / xLo);
      const yOf = (v: number): number => py + ph - (ph * Math.log(v / yLo)) / Math.log(yHi / yLo);
      const g: string[] = [];
      g.push(`<rect class="plot" x="${fmt(px)}" y="${fmt(py)}" width="${fmt(pw)}" height="${fmt(ph)}" fill="#ffffff" stroke="#333333"/>`);
      g.push(
        `<text x="${fmt(px + pw / 2)}" y="${fmt(py - 10)}" font-size="13" font-weight="bold" text-anchor="middle">${esc(`${algorithm}, ${depth} in flight`)}</text>`,
      );
      for (const v of logTicks(yLo, yHi)) {
        const y = yOf(v);
        g.push(`<line x1="${fmt(px)}" y1="${fmt(y)}" x2="${fmt(px + pw)}" y2="${fmt(y)}" stroke="#dddddd"/>`);
        g.push(`<text x="${fmt(px - 6)}" y="${fmt(y + 4)}" font-size="11" text-anchor="end">${esc(mbLabel(v))}</text>`);
      }
      // Size labels only where they do not run into the previous one.
      let lastLabel = -Infinity;
      for (const size of sizes) {
        const x = xOf(size);
        g.push(`<line x1="${fmt(x)}" y1="${fmt(py)}" x2="${fmt(x)}" y2="${fmt(py + ph)}" stroke="#eeeeee"/>`);
        g.push(`<line x1="${fmt(x)}" y1="${fmt(py + ph)}" x2="${fmt(x)}" y2="${fmt(py + ph + 4)}" stroke="#333333"/>`);
        if (x - lastLabel >= 44) {
          g.push(`<text x="${fmt(x)}" y="${fmt(py + ph + 17)}" font-size="11" text-anchor="middle">${esc(sizeLabel(size))}</text>`);
          lastLabel = x;
        }
      }
      g.push(`<text x="${fmt(px + pw / 2)}" y="${fmt(py + ph + 38)}" font-size="11.5" text-anchor="middle">request size</text>`);
      g.push(
        `<text x="${fmt(px - 46)}" y="${fmt(py + ph / 2)}" font-size="11.5" text-anchor="middle" transform="rotate(-90 ${fmt(px - 46)} ${fmt(py + ph / 2)})">MB/s</text>`,
      );
      for (const name of names) {
        const line = points
          .filter((p) => p.subject === name && (p.depth === depth || kinds.get(name) === 'node'))
          .sort((a, b) => a.size - b.size);
        if (line.length === 0) continue;
        const s = style.get(name)!;
        const coords = line.map((p) => `${fmt(xOf(p.size))},${fmt(yOf(p.mbPerSec))}`);
        g.push(
          `<polyline class="series" data-subject="${esc(name)}" points="${coords.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
        );
        for (const xy of coords) {
          const [x, y] = xy.split(',');
          g.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${s.color}"/>`);
        }
      }
      panels.push(`<g class="panel" data-algorithm="${esc(algorithm)}" data-depth="${depth}" ${FONT}>${g.join('')}</g>`);
    });
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${fmt(height)}" viewBox="0 0 ${width} ${fmt(height)}">`,
    `<title>${esc(`kcrypto bench: ${machineLine(report.machine)}`)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${fmt(height)}" fill="#ffffff"/>`,
    `<g ${FONT}>${head.join('')}</g>`,
    leg.svg,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
