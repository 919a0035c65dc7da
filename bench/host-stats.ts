/**
 * The host benchmark's arithmetic: the median and spread of per-round figures, and how a goal
 * is judged. Pure functions, so that the harness is tested without timing anything.
 */

/** Median and spread of one subject's per-round figures. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation between ranks). */
  q1: number;
  q3: number;
  /** Rounds behind the figures. */
  n: number;
}

/** The `p`-quantile (0..1) of sorted values, interpolating linearly between ranks. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const at = Math.min(1, Math.max(0, p)) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** Median, min–max and quartiles of `values`; undefined when there are none. */
export function spreadOf(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), min: s[0]!, max: s[s.length - 1]!, q1: quantile(s, 0.25), q3: quantile(s, 0.75), n: s.length };
}

/**
 * Per-round rates (requests/s) as microseconds per request. The reciprocal reverses the order,
 * so the median of the converted figures is the reciprocal of the median rate (for an odd
 * number of rounds) and min/max swap.
 */
export function microsPerRequest(rates: readonly number[]): number[] {
  return rates.filter((r) => r > 0).map((r) => 1e6 / r);
}

/**
 * A goal: `value` (a ratio) held against `threshold`. `atLeast`: met when value ≥ threshold;
 * `atMost`: met when value ≤ threshold; `below`: met when value < threshold; `above`: met when
 * value > threshold. `also`, where given, must hold too.
 */
export interface Goal {
  what: string;
  rule: 'atLeast' | 'atMost' | 'below' | 'above';
  threshold: number;
  /** The ratio, or undefined when a side of it was not measured. */
  value?: number;
  /** The figures behind the ratio, or why it is missing. */
  detail: string;
  /** A further condition of the goal beyond the ratio, and what it says (printed with the rule). */
  also?: { holds: boolean; text: string };
}

/** Outcome of a goal. */
export type GoalStatus = 'met' | 'not met' | 'not measured';

/** Judges a goal. */
export function judge(g: Goal): GoalStatus {
  if (g.value === undefined || !Number.isFinite(g.value)) return 'not measured';
  if (g.also && !g.also.holds) return 'not met';
  switch (g.rule) {
    case 'atLeast':
      return g.value >= g.threshold ? 'met' : 'not met';
    case 'atMost':
      return g.value <= g.threshold ? 'met' : 'not met';
    case 'below':
      return g.value < g.threshold ? 'met' : 'not met';
    case 'above':
      return g.value > g.threshold ? 'met' : 'not met';
  }
}

/** `≥ 0.95×`, `≤ 1.00×`, `< 1.00×`, `> 1.00×`, and the further condition where there is one. */
export function ruleText(g: Pick<Goal, 'rule' | 'threshold' | 'also'>): string {
  const sign = { atLeast: '≥', atMost: '≤', below: '<', above: '>' }[g.rule];
  return `${sign} ${g.threshold.toFixed(2)}×${g.also ? `, ${g.also.text}` : ''}`;
}
