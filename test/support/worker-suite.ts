/**
 * The tests of the worker and teardown scenarios (see worker-scenarios.ts) on one driver: the
 * unit tests declare them on the host's openssl driver, the lab on each device driver.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';

import {
  childFailure,
  droppedSessions,
  exitInFlight,
  reportOf,
  severalWorkers,
  terminatedWorkers,
  type ChildRun,
  type DroppedSessionsReport,
  type ScenarioTarget,
  type SeveralWorkersReport,
  type Tally,
  type TerminatedWorkersReport,
} from './worker-scenarios.js';

/** Every request settled once, with node:crypto's ciphertext. */
export function assertAllRight(tally: Tally, issued: number, what: string): void {
  assert.deepEqual(tally.failed, [], `${what}: requests failed`);
  assert.equal(tally.issued, issued, `${what}: requests issued`);
  assert.equal(tally.twice, 0, `${what}: requests that settled more than once`);
  assert.equal(tally.settled, issued, `${what}: requests settled`);
  assert.equal(tally.wrong, 0, `${what}: ciphertexts unlike node:crypto's`);
  assert.equal(tally.right, issued, `${what}: ciphertexts as node:crypto's`);
}

function assertExited(r: ChildRun): void {
  assert.equal(r.signal, null, childFailure(r));
  assert.equal(r.status, 0, childFailure(r));
}

/** Declares the four scenarios on `target`, skipped with `skip` when it cannot run here. */
export function workerScenarioTests(target: ScenarioTarget, skip?: string): void {
  const options = skip === undefined ? {} : { skip };
  const workers = 3;

  it(`${workers} workers at once, each request settled once with node:crypto's ciphertext, no descriptor left`, options, () => {
    const r = severalWorkers(target, workers);
    assertExited(r);
    const report = reportOf(r) as SeveralWorkersReport;
    assert.equal(report.workers.length, workers);
    report.workers.forEach((t, i) => assertAllRight(t, target.rounds * 4, `worker ${i}`));
    assert.deepEqual(report.leaked, [], 'descriptors left open once the workers exited');
  });

  it('workers terminated with requests in flight: no crash, no descriptor left, the main thread loses nothing and goes on', options, () => {
    const r = terminatedWorkers(target);
    assertExited(r);
    const report = reportOf(r) as TerminatedWorkersReport;
    assertAllRight(report.main, target.rounds * 8, 'main thread, while workers were terminated');
    assertAllRight(report.after, 4, 'a session opened after the last worker was terminated');
    assert.deepEqual(report.leaked, [], 'descriptors left open by the terminated workers');
  });

  it('the main thread exits with requests in flight: a clean exit', options, () => {
    const r = exitInFlight(target);
    assertExited(r);
    assert.equal(r.stdout.trim(), 'exiting');
  });

  it('sessions dropped without close() are collected and freed, with no descriptor left behind', options, () => {
    const r = droppedSessions(target);
    assertExited(r);
    const report = reportOf(r) as DroppedSessionsReport;
    assertAllRight(report.tally, target.sessions + 1, 'requests of the dropped sessions');
    assert.equal(report.held, 0, `framework sessions of the ${target.sessions + 1} dropped sessions still open`);
    assert.deepEqual(report.leaked, [], 'descriptors left open once the sessions were collected');
  });
}
