/**
 * The host benchmark's timing: every subject runs for a fixed time per round, round-robin over
 * the subjects, for several rounds after uncounted warm-up rounds. Interleaving spreads a
 * slow period of the machine (another process, frequency changes) over all subjects instead
 * of charging it to whichever ran then; the per-round figures give the spread.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';

import type { SubjectResult } from './host-results.js';

/** Something timed: one request, made serially or with several outstanding. */
export interface Subject {
  id: string;
  label: string;
  /** Input bytes per request. */
  size: number;
  /** 0: serially (each awaited before the next); N: a closed loop keeping N outstanding. */
  inFlight: number;
  /** A synchronous request (serial only). */
  sync?: () => unknown;
  /** An asynchronous request. */
  async?: () => Promise<unknown>;
  /** Set when it cannot run here: the reason. */
  reason?: string;
  /** Where its requests ran, read once the rounds are over. */
  ran?: () => string | undefined;
}

/** How long and how often. */
export interface Rounds {
  rounds: number;
  warmupRounds: number;
  roundMs: number;
}

/**
 * Requests between two readings of the clock. A reading costs 25-40 ns on a KVM guest, as much
 * as a twentieth of a small request's whole path: read per request, it charged the harness's
 * own work to every subject, and most to the cheapest. A round overruns its time by at most
 * this many requests.
 */
const CLOCK_EVERY = 16;

/** Runs a synchronous request for `ms`; requests per second. */
function syncRound(op: () => unknown, ms: number): number {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  let t = start;
  do {
    op();
    if (++ops % CLOCK_EVERY === 0) t = performance.now();
  } while (t < end);
  return (ops * 1000) / (t - start);
}

/** Runs an asynchronous request serially for `ms`; requests per second. */
async function serialRound(op: () => Promise<unknown>, ms: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  let t = start;
  do {
    await op();
    if (++ops % CLOCK_EVERY === 0) t = performance.now();
  } while (t < end);
  return (ops * 1000) / (t - start);
}

/**
 * Keeps `n` requests outstanding for `ms`: `n` loops, each issuing its next request when its
 * last completes. Requests issued before the end are waited for and counted; the time runs
 * from the first request to the last completion.
 */
export async function closedLoopRound(op: () => Promise<unknown>, n: number, ms: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  let over = false;
  const worker = async (): Promise<void> => {
    do {
      await op();
      if (++ops % CLOCK_EVERY === 0 && performance.now() >= end) over = true;
    } while (!over);
  };
  await Promise.all(Array.from({ length: n }, worker));
  return (ops * 1000) / (performance.now() - start);
}

/** One round of one subject: requests per second. */
export async function roundOf(s: Subject, ms: number): Promise<number> {
  if (s.sync) {
    if (s.inFlight > 0) throw new Error(`${s.id}: a synchronous request cannot have others in flight`);
    return syncRound(s.sync, ms);
  }
  if (!s.async) throw new Error(`${s.id}: nothing to run`);
  return s.inFlight === 0 ? serialRound(s.async, ms) : closedLoopRound(s.async, s.inFlight, ms);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs the subjects round-robin; a subject that fails keeps the rounds it completed and its
 * reason, and is not run again.
 */
export async function interleave(subjects: readonly Subject[], r: Rounds, log: (msg: string) => void): Promise<SubjectResult[]> {
  const results: SubjectResult[] = subjects.map((s) => ({
    id: s.id,
    label: s.label,
    size: s.size,
    rates: [],
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
  }));
  const total = r.warmupRounds + r.rounds;
  for (let round = 0; round < total; round++) {
    const counted = round >= r.warmupRounds;
    log(
      `${counted ? `round ${round - r.warmupRounds + 1}/${r.rounds}` : `warm-up ${round + 1}/${r.warmupRounds}`}: ${subjects.length} subjects`,
    );
    for (const [i, s] of subjects.entries()) {
      const out = results[i]!;
      if (out.reason !== undefined) continue;
      try {
        const rate = await roundOf(s, r.roundMs);
        if (counted) out.rates.push(rate);
      } catch (err) {
        out.reason = errorText(err);
        log(`${s.label}: ${out.reason}`);
      }
      // Completions of the last subject (timers, callbacks) settle before the next starts. No
      // forced collection: tried, a full collection between subjects flushed the compiled code
      // and type feedback of every JavaScript path, and each subject then measured its warm-up
      // again (kcrypto's 64 B requests 30% slower, node:crypto's 1 MiB ones 2× slower).
      await turn();
    }
  }
  for (const [i, s] of subjects.entries()) {
    const ran = s.ran?.();
    if (ran !== undefined) results[i]!.ran = ran;
  }
  return results;
}
