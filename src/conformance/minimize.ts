/**
 * Shrinks a failing differential case to a small one that still fails, so that a report hands
 * a driver author the shortest input that shows the bug rather than a megabyte of random bytes.
 */
import { Buffer } from 'node:buffer';

/** The inputs of one differential case: what a reproducer is made of. */
export interface Trial {
  key: Buffer;
  /** authenc's HMAC key. */
  authKey?: Buffer;
  iv: Buffer | null;
  aad: Buffer;
  data: Buffer;
}

/** What {@link minimize} is given besides the failing case. */
export interface MinimizeOptions<T extends Trial, R> {
  /**
   * Runs a candidate: its failure (whatever the caller reports, e.g. expected and got), or
   * undefined when the candidate passes. A throw counts as "does not reproduce": the candidate
   * is one the reference or the family cannot take (an XTS key of two equal halves), not the bug.
   */
  retry(t: T): R | undefined | Promise<R | undefined>;
  /** Whether the family (and driver) takes a message of `n` bytes with this case's other inputs. */
  accepts(n: number, t: T): boolean;
  /** Candidates run at most; about 40 keeps a broken driver's report quick even in the emulated lab. */
  maxTries?: number;
}

/** The smallest failing case found, its failure, and how many candidates it took. */
export interface Minimized<T extends Trial, R> {
  trial: T;
  failure: R;
  tries: number;
}

/** Default bound on the candidates tried. */
export const MAX_TRIES = 40;

/**
 * Shrinks `trial` (which failed with `failure`): first the message length, by binary search
 * over the lengths below it that the family accepts (the data keeps its prefix), then all-zero
 * data, all-zero keys and IV, no AAD. Each simplification is kept only if the case still fails;
 * at most `maxTries` candidates run. Binary search assumes failing is monotonic in the length,
 * which is the usual shape (a driver wrong from some size on); where it is not, the result is
 * still a failing case, only perhaps not the shortest.
 */
export async function minimize<T extends Trial, R>(trial: T, failure: R, options: MinimizeOptions<T, R>): Promise<Minimized<T, R>> {
  const maxTries = options.maxTries ?? MAX_TRIES;
  let best = { trial, failure };
  let tries = 0;
  const attempt = async (candidate: T): Promise<boolean> => {
    if (tries >= maxTries) return false;
    tries++;
    let r: R | undefined;
    try {
      r = await options.retry(candidate);
    } catch {
      return false;
    }
    if (r === undefined) return false;
    best = { trial: candidate, failure: r };
    return true;
  };

  // Lengths below the failing one that the family takes, ascending; the failing one is the upper bound.
  const n = trial.data.length;
  const lengths: number[] = [];
  for (let i = 0; i < n; i++) if (options.accepts(i, trial)) lengths.push(i);
  let lo = 0;
  let hi = lengths.length; // index `lengths.length` stands for the original, known to fail
  while (lo < hi && tries < maxTries) {
    const mid = (lo + hi) >> 1;
    const shorter = { ...best.trial, data: best.trial.data.subarray(0, lengths[mid]) };
    if (await attempt(shorter)) hi = mid;
    else lo = mid + 1;
  }

  const simplify = async (change: (t: T) => T | undefined): Promise<void> => {
    const candidate = change(best.trial);
    if (candidate !== undefined) await attempt(candidate);
  };
  const zero = (b: Buffer): Buffer | undefined => (b.some((x) => x !== 0) ? Buffer.alloc(b.length) : undefined);
  await simplify((t) => {
    const data = zero(t.data);
    return data && { ...t, data };
  });
  await simplify((t) => {
    const key = zero(t.key);
    const authKey = t.authKey && zero(t.authKey);
    if (!key && !authKey) return undefined;
    return { ...t, key: key ?? t.key, ...(t.authKey ? { authKey: authKey ?? t.authKey } : {}) };
  });
  await simplify((t) => {
    const iv = t.iv && zero(t.iv);
    return iv ? { ...t, iv } : undefined;
  });
  await simplify((t) => (t.aad.length > 0 ? { ...t, aad: Buffer.alloc(0) } : undefined));
  return { ...best, tries };
}
