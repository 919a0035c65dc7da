/**
 * Synchronous work per event-loop turn for the API's requests. A driver that completes inside
 * dispatch() (the software driver, an inline kernel request) resolves its request in a
 * microtask, and a program that keeps requests in flight submits the next one from there: with
 * nothing to break the chain, timers and I/O would wait until the program stopped. So each
 * turn may spend a budget on dispatching; past it, requests wait, in order, for a later turn.
 */
import { performance } from 'node:perf_hooks';

/** Dispatching per turn before requests wait for the next one (ms). */
const TURN_BUDGET_MS = 1;

let spentMs = 0;
let turnScheduled = false;
interface Job {
  dispatch: () => void;
  /** Where a throw from `dispatch` goes (the request's rejection). */
  fail: (err: unknown) => void;
}
const waiting: Job[] = [];

/**
 * Runs `dispatch` now when this turn has budget left and nothing waits; otherwise in a later
 * turn, after those already waiting (so requests keep the order they were made in).
 */
export function dispatchInTurn(dispatch: () => void, fail: (err: unknown) => void): void {
  const job = { dispatch, fail };
  if (waiting.length === 0 && spentMs < TURN_BUDGET_MS) run(job);
  else waiting.push(job);
  scheduleTurn();
}

function run(job: Job): void {
  const start = performance.now();
  try {
    job.dispatch();
  } catch (err) {
    job.fail(err);
  } finally {
    spentMs += performance.now() - start;
  }
}

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(nextTurn);
}

function nextTurn(): void {
  turnScheduled = false;
  spentMs = 0;
  while (waiting.length > 0 && spentMs < TURN_BUDGET_MS) run(waiting.shift()!);
  if (waiting.length > 0) scheduleTurn();
}
