/**
 * Synchronous work per event-loop turn for the API's requests. A driver that completes inside
 * dispatch() (the software driver, an inline kernel request) resolves its request in a
 * microtask, and a program that keeps requests in flight submits the next one from there: with
 * nothing to break the chain, timers and I/O would wait until the program stopped. So a turn
 * dispatches for a budget of time, counted from its first request; requests made later in the
 * turn wait, in order, for a later one. The budget counts the turn's whole time (the program's
 * own work between requests too): that is what holds timers and I/O up. The clock is read at a
 * turn's first request and then once per CHECK_EVERY requests or CHECK_BYTES bytes, whichever
 * comes first: a reading costs about as much as a small request's dispatch.
 */
import { performance } from 'node:perf_hooks';

import type { Framework } from '../framework/framework.js';
import type { CryptoOp } from '../framework/structures.js';

/** Dispatching per turn before requests wait for the next one (ms). */
const TURN_BUDGET_MS = 1;

const CHECK_EVERY = 8;
const CHECK_BYTES = 64 * 1024;

/** performance.now() at the turn's first request; -1 before it. */
let turnStart = -1;
/** Requests and bytes dispatched since the clock was last read, and whether the budget was left then. */
let sinceCheck = 0;
let bytesSinceCheck = 0;
let left = true;
let turnScheduled = false;
interface Job {
  fw: Framework;
  crp: CryptoOp;
}
const waiting: Job[] = [];
/** close()s waiting for their session's requests to leave {@link waiting}. */
const drains: { match: (crp: CryptoOp) => boolean; resolve: () => void }[] = [];

/** What an API request's `opaque` is: where a throw from dispatch() goes (its rejection). */
export interface Failing {
  fail(err: unknown): void;
  /** Why `crp` must not be dispatched now (its data was detached meanwhile), or undefined. */
  refusal(crp: CryptoOp): unknown;
}

/**
 * Dispatches `crp` (its `opaque` a {@link Failing}) on `fw` now when this turn has budget left and nothing waits; otherwise in a
 * later turn, after those already waiting (so requests keep the order they were made in).
 */
export function dispatchInTurn(fw: Framework, crp: CryptoOp, bytes = 0): void {
  if (waiting.length === 0 && withinBudget(bytes)) run(fw, crp);
  else waiting.push({ fw, crp });
  scheduleTurn();
}

/** Takes `crp` out of the requests waiting for a later turn; true if it was there (never dispatched). */
export function withdraw(crp: CryptoOp): boolean {
  const i = waiting.findIndex((job) => job.crp === crp);
  if (i < 0) return false;
  waiting.splice(i, 1);
  return true;
}

/**
 * Resolves once no request `match` picks waits for a later turn (they have been dispatched, or
 * withdrawn); null when none waits now. A session's close() waits so: it frees the framework
 * session, which its requests still waiting would otherwise reach freed.
 */
export function dispatched(match: (crp: CryptoOp) => boolean): Promise<void> | null {
  if (!waiting.some((job) => match(job.crp))) return null;
  return new Promise((resolve) => drains.push({ match, resolve }));
}

function withinBudget(bytes: number): boolean {
  bytesSinceCheck += bytes;
  if (turnStart >= 0 && ++sinceCheck < CHECK_EVERY && bytesSinceCheck < CHECK_BYTES) return left;
  const now = performance.now();
  if (turnStart < 0) turnStart = now;
  sinceCheck = 0;
  bytesSinceCheck = 0;
  left = now - turnStart < TURN_BUDGET_MS;
  return left;
}

function run(fw: Framework, crp: CryptoOp): void {
  const refused = (crp.opaque as Failing).refusal(crp);
  if (refused !== undefined) {
    (crp.opaque as Failing).fail(refused);
    return;
  }
  try {
    fw.dispatch(crp);
  } catch (err) {
    (crp.opaque as Failing).fail(err);
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
  while (waiting.length > 0 && withinBudget(0)) {
    const job = waiting.shift()!;
    run(job.fw, job.crp);
  }
  if (waiting.length > 0) scheduleTurn();
  for (let i = drains.length - 1; i >= 0; i--) {
    const d = drains[i]!;
    if (waiting.some((job) => d.match(job.crp))) continue;
    drains.splice(i, 1);
    d.resolve();
  }
}
