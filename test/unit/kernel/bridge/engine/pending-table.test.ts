// The table of requests on threads: ids find their request, a reused slot tells an old id from
// the new one, and the slot array does not grow beyond the most requests in flight at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PendingTable } from '../../../../../src/kernel/bridge/engine/pending-table.js';

interface Entry {
  id: number;
  tag: string;
}

function put(t: PendingTable<Entry>, tag: string): Entry {
  const e = { id: t.reserve(), tag };
  t.set(e);
  return e;
}

describe('PendingTable', () => {
  it('finds each entry by its id, and forgets it once deleted', () => {
    const t = new PendingTable<Entry>();
    const a = put(t, 'a');
    const b = put(t, 'b');
    assert.notEqual(a.id, b.id);
    assert.equal(t.size, 2);
    assert.equal(t.get(a.id), a);
    assert.equal(t.get(b.id), b);
    assert.equal(t.delete(a.id), true);
    assert.equal(t.delete(a.id), false, 'a second delete finds nothing');
    assert.equal(t.get(a.id), undefined);
    assert.equal(t.size, 1);
  });

  it('a late id of a reused slot finds nothing, and cannot delete the slot’s new entry', () => {
    const t = new PendingTable<Entry>();
    const old = put(t, 'old');
    t.delete(old.id);
    const now = put(t, 'new');
    assert.notEqual(now.id, old.id, 'the reused slot has a new generation');
    assert.equal(t.get(old.id), undefined);
    assert.equal(t.delete(old.id), false);
    assert.equal(t.get(now.id), now);
    assert.equal(t.size, 1);
  });

  it('ids are unique over a long churn, and slots are reused rather than grown', () => {
    const t = new PendingTable<Entry>();
    const live: Entry[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const e = put(t, String(i));
      assert.ok(!seen.has(e.id), `id ${e.id} given twice`);
      seen.add(e.id);
      live.push(e);
      // Requests leave out of order: a random one of those in flight completes.
      if (live.length > 64) {
        const [gone] = live.splice(Math.floor(Math.random() * live.length), 1);
        assert.equal(t.delete(gone!.id), true);
      }
    }
    assert.equal(t.size, 64);
    for (const e of live) assert.equal(t.get(e.id), e);
    assert.equal(t.filter(() => true).length, 64, 'no more slots hold entries than are in flight');
    assert.ok(Math.max(...[...seen].map((id) => id % 2 ** 24)) <= 64, 'the slot array stays at the most ever in flight');
  });

  it('filter() returns a copy the caller may delete from', () => {
    const t = new PendingTable<Entry>();
    for (const tag of ['x', 'y', 'x', 'z', 'x']) put(t, tag);
    const xs = t.filter((e) => e.tag === 'x');
    assert.equal(xs.length, 3);
    for (const e of xs) assert.equal(t.delete(e.id), true);
    assert.deepEqual(
      t.filter(() => true).map((e) => e.tag),
      ['y', 'z'],
    );
  });
});
