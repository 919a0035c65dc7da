// The lane chooser: where one request runs, from what it is predicted to cost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { chooseLane, initialCostModel, inlineLimitNs, timesInline, type LaneInputs } from '../../../../../src/kernel/bridge/engine/cost.js';

const base: LaneInputs = { synchronous: true, execution: 'auto', alone: true, predictedNs: 500, hopNs: 30_000, budgetLeft: true };
const lane = (o: Partial<LaneInputs>): string => chooseLane({ ...base, ...o });

describe('chooseLane', () => {
  it('a device request, or execution threads, runs on a thread whatever it costs', () => {
    assert.equal(lane({ synchronous: false }), 'threads');
    assert.equal(lane({ execution: 'threads' }), 'threads');
    assert.equal(lane({ execution: 'inline', predictedNs: 10_000_000 }), 'inline');
  });

  it('a request cheaper than a hop runs inline, alone or with company, while the turn has budget', () => {
    assert.equal(lane({}), 'inline');
    assert.equal(lane({ alone: false }), 'inline');
  });

  it('out of budget: a lone request waits for the next turn, one with company goes to a thread', () => {
    assert.equal(lane({ budgetLeft: false }), 'defer');
    assert.equal(lane({ budgetLeft: false, alone: false }), 'threads');
  });

  it('a lone request dearer than a hop waits a microtask for company; past the stall ceiling it goes to a thread', () => {
    assert.equal(lane({ predictedNs: 150_000 }), 'gather');
    assert.equal(lane({ predictedNs: 5_000_000 }), 'threads');
  });

  it('a lone request below 100 µs never waits for company, however cheap the hop', () => {
    assert.equal(lane({ predictedNs: 60_000, hopNs: 5_000 }), 'inline');
    assert.equal(lane({ predictedNs: 120_000, hopNs: 5_000 }), 'gather');
  });

  it('with company, a request dearer than a hop runs on a thread, beside the others', () => {
    assert.equal(lane({ alone: false, predictedNs: 31_000 }), 'threads');
    assert.equal(lane({ alone: false, predictedNs: 29_000 }), 'inline');
  });

  it('the inline limit with company is the hop, capped at 4 ms', () => {
    assert.equal(inlineLimitNs(30_000), 30_000);
    assert.equal(inlineLimitNs(50_000_000), 4_000_000);
  });
});

describe('timesInline', () => {
  it("times each of a session's first 64 requests, then one in eight", () => {
    const m = initialCostModel();
    assert.ok(Array.from({ length: 64 }, (_, i) => i).every((i) => timesInline(m, i)));
    m.samples = 64;
    const timed = Array.from({ length: 64 }, (_, i) => 64 + i).filter((i) => timesInline(m, i));
    assert.deepEqual(timed, [64, 72, 80, 88, 96, 104, 112, 120]);
  });
});
