/**
 * The report's measured-routing sections (routing.ts): per-session figures, rounds and route tables.
 */
import type { Results } from './results.js';
import type { RoutingResult } from './routing.js';
import { esc, num, pct, sizeLabel, table } from './report-format.js';

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

/** One section per routing measurement of the run. */
export function renderRouting(md: string[], r: Results): void {
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
}
