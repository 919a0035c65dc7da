/**
 * The requests on the addon's threads, by id: an array of slots, not a Map.
 *
 * Why not a Map: requests come and go in the millions with ever-growing ids, and a Map with
 * that churn rehashes into a new backing table every few dozen deletions. Measured on a 2-core
 * host (Node 20), such a Map was twice as slow per request after any long allocating phase of
 * the program: 3–4 MB survived every young-generation scavenge and a full collection ran every
 * few scavenges, where a slot array kept 45 KB. (V8 links each rehashed table to its successor
 * for live iterators; once one table is promoted, it holds every later one alive until a full
 * collection.) A slot array is one long-lived object whose slots are cleared as requests leave.
 *
 * An id is `generation * SLOTS + slot`: the slot finds the request without hashing, and the
 * generation, bumped each time the slot is reused, tells a late completion of an earlier
 * request in that slot from the current one's.
 */

/** Slots at most: requests in flight at once (each slot holds one). */
const SLOTS = 1 << 24;
/** Generations per slot before they wrap (ids stay exact doubles: below 2^53). */
const GENERATIONS = 2 ** 29;

/** What the table holds: anything with the id it was given. */
export interface Identified {
  id: number;
}

export class PendingTable<T extends Identified> {
  private readonly slots: (T | undefined)[] = [];
  /** Generation of each slot's current (or last) id. */
  private readonly generations: number[] = [];
  /**
   * Free slots: a stack in `free[0, freeCount)`. Never popped: V8 shrinks an array's backing
   * store when pop() leaves it mostly empty and grows it again on the next push, and with every
   * slot taken and given back on each round of requests that cost a copy each time.
   */
  private readonly free: number[] = [];
  private freeCount = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** A fresh id, its slot reserved: {@link set} the entry with it at once. */
  reserve(): number {
    let slot: number;
    if (this.freeCount > 0) slot = this.free[--this.freeCount]!;
    else {
      slot = this.slots.length;
      if (slot >= SLOTS) throw new RangeError(`more than ${SLOTS} requests in flight`);
      this.slots.push(undefined);
      this.generations.push(0);
    }
    const generation = (this.generations[slot]! + 1) % GENERATIONS;
    this.generations[slot] = generation;
    return generation * SLOTS + slot;
  }

  /** Stores `entry` under its id, which {@link reserve} gave. */
  set(entry: T): void {
    const slot = entry.id % SLOTS;
    if (this.slots[slot] === undefined) this.count++;
    this.slots[slot] = entry;
  }

  get(id: number): T | undefined {
    const entry = this.slots[id % SLOTS];
    return entry?.id === id ? entry : undefined;
  }

  /** Removes the entry with `id` and frees its slot; false when it is not here (any more). */
  delete(id: number): boolean {
    const slot = id % SLOTS;
    const entry = this.slots[slot];
    if (entry?.id !== id) return false;
    this.slots[slot] = undefined;
    this.free[this.freeCount++] = slot;
    this.count--;
    return true;
  }

  /** The entries for which `pick` holds, in slot order (a copy: the caller may delete them). */
  filter(pick: (entry: T) => boolean): T[] {
    const out: T[] = [];
    for (const entry of this.slots) if (entry !== undefined && pick(entry)) out.push(entry);
    return out;
  }
}
