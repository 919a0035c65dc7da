/**
 * The report's measured-routing sections (routing.ts): per-session figures, rounds and route tables.
 */
import type { Results } from './results.js';
import type { RoutingResult, RoutingRow } from './routing.js';
import { esc, num, pct, sizeLabel, table } from './report-format.js';

/** The routed session's row and the single paths' rows. */
function split(rt: RoutingResult): { routed: RoutingRow | undefined; singles: RoutingRow[] } {
  const routed = rt.rows.find((x) => x.driver === 'fastest' || x.label.startsWith('routed'));
  return { routed, singles: rt.rows.filter((x) => x !== routed) };
}

/**
 * In how many rounds the routed session did more than every single driver in the same round.
 * The sessions take turns within a round, so a round's figures share what the machine was
 * doing meanwhile; undefined without the rounds of every row.
 */
export function roundsWon(rt: RoutingResult): { won: number; rounds: number } | undefined {
  const { routed, singles } = split(rt);
  const n = routed?.rounds?.length ?? 0;
  if (!routed?.rounds || n === 0 || singles.some((x) => x.rounds?.length !== n)) return undefined;
  let won = 0;
  for (let i = 0; i < n; i++) if (singles.every((x) => routed.rounds![i]! > x.rounds![i]!)) won++;
  return { won, rounds: n };
}

/** The routed session against the best single path (see {@link routingComparison}). */
export interface RoutingComparison {
  /** The routed session's median MB/s. */
  routed: number;
  best: { driver: string; mbps: number };
  won: { won: number; rounds: number } | undefined;
}

/**
 * The routed session against the best single path: medians, and the rounds in which it was
 * above every single path (medians alone can differ by less than neighbouring rounds do). A
 * reason where a row was not measured.
 */
export function routingComparison(rt: RoutingResult): RoutingComparison | { reason: string } {
  const { routed, singles } = split(rt);
  const missing = [routed, ...singles].find((x) => x?.mbps === undefined);
  if (!routed || singles.length === 0 || missing) return { reason: missing?.reason ?? 'no routed session' };
  const best = singles.reduce((b, x) => (x.mbps! > b.mbps! ? x : b));
  return { routed: routed.mbps!, best: { driver: best.driver, mbps: best.mbps! }, won: roundsWon(rt) };
}

/** Whether the comparison is a win: above the best single median, and above every single path in most rounds. */
export function routingWon(c: RoutingComparison): boolean {
  return c.routed > c.best.mbps && c.won !== undefined && c.won.won * 2 > c.won.rounds;
}

/** Where a routed session's requests went: the router's counts, and those sent straight to one path. */
function sentText(x: RoutingRow): string {
  const parts = Object.entries(x.sent ?? {})
    .filter(([, n]) => n > 0)
    .map(([d, n]) => `${d}: ${n}`);
  if (x.direct) {
    const upTo = Number.isFinite(x.direct.upTo) ? `up to ${sizeLabel(x.direct.upTo)}` : 'of every size';
    parts.push(`requests ${upTo} straight to ${x.direct.driver} (the cheapest there at every load)`);
  }
  return parts.join(', ');
}

/** One section per routing measurement of the run. */
export function renderRouting(md: string[], r: Results): void {
  for (const rt of r.routing ?? []) routingSection(md, rt);
}

/** The section of one routing measurement. */
export function routingSection(md: string[], rt: RoutingResult): void {
  md.push(
    `## Measured routing: AES-128-CBC, ${sizeLabel(rt.small)} and ${sizeLabel(rt.large)} mixed ${rt.smallPerLarge}:1, ${rt.inFlight} in flight`,
  );
  md.push('');
  md.push(`Every session warmed up, then they take turns for ${rt.rounds} rounds; MB/s and requests/s are the median round.`);
  md.push('');
  const best = Math.max(0, ...split(rt).singles.map((x) => x.mbps ?? 0));
  md.push(
    table(
      ['session', 'driver', 'MB/s', 'requests/s', 'vs best single path', 'rounds, MB/s', 'requests sent to'],
      rt.rows.map((x) => [
        esc(x.label),
        esc(x.driver),
        x.mbps !== undefined ? num(x.mbps) : esc(x.reason ?? '–'),
        x.requestsPerSecond !== undefined ? num(x.requestsPerSecond) : '–',
        x.mbps !== undefined && best > 0 ? pct(x.mbps / best) : '–',
        x.rounds ? x.rounds.map(num).join(', ') : '–',
        esc(sentText(x)),
      ]),
    ),
  );
  md.push('');
  const won = roundsWon(rt);
  if (won) {
    md.push(
      `Round by round (each round of the routed session against the same round of the others, run in turn): above every single path in ${won.won} of ${won.rounds}.`,
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
