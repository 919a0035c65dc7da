/**
 * Synchronous work per event-loop turn for the API's requests. A driver that completes inside
 * dispatch() (the software driver, an inline kernel request) resolves its request in a
 * microtask, and a program that keeps requests in flight submits the next one from there: with
 * nothing to break the chain, timers and I/O would wait until the program stopped. So a turn
 * dispatches for a budget of time, counted from its first request; requests made later in the
 * turn wait, in order, for a later one. The budget counts the turn's whole time (the program's
 * own work between requests too): that is what holds timers and I/O up, and it costs one clock
 * reading per request.
 */
import { performance } from 'node:perf_hooks';

/** Dispatching per turn before requests wait for the next one (ms). */
const TURN_BUDGET_MS = 1;

/** performance.now() at the turn's first request; -1 before it. */
let turnStart = -1;
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
  if (waiting.length === 0 && withinBudget()) {
    try {
      dispatch();
    } catch (err) {
      fail(err);
    }
  } else waiting.push({ dispatch, fail });
  scheduleTurn();
}

function withinBudget(): boolean {
  const now = performance.now();
  if (turnStart < 0) turnStart = now;
  return now - turnStart < TURN_BUDGET_MS;
}

function run(job: Job): void {
  try {
    job.dispatch();
  } catch (err) {
    job.fail(err);
  }
}

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(nextTurn);
}

function nextTurn(): void {
  turnScheduled = false;
  turnStart = -1;
  while (waiting.length > 0 && withinBudget()) run(waiting.shift()!);
  if (waiting.length > 0) scheduleTurn();
}
