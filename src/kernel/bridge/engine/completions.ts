/**
 * Completion delivery and the per-turn inline budget. Routes batched completions from the addon
 * to their requests, and keeps the per-turn inline budget with its queue of requests deferred
 * to the next turn. Requests completed here before the kernel returned (at their deadline, or
 * because their session was abandoned) are abandoned: their buffers are held until the native
 * job comes back, and its late completion is dropped.
 */
import { performance } from 'node:perf_hooks';

import type { NativeAddon } from '../addon.js';
import { HopCost } from './cost.js';
import { Overdue, OverdueSweep } from './deadlines.js';
import { PendingTable } from './pending-table.js';
import { Submissions } from './submissions.js';
import type { KernelSession } from './session.js';
import type { Pending } from './request.js';

/** Inline work per event-loop turn; beyond it requests wait for the next turn (or a thread). */
const TURN_BUDGET_NS = 2_000_000;
/**
 * Completions are handed to JavaScript in slices, one slice per event-loop turn. The cost of a
 * slice is mostly the callbacks' continuations (user code, which often submits the next
 * request), and those run as microtasks after delivery returns, so the slice size is adapted
 * from what whole slices cost, measured from delivery to the next turn, towards this target.
 */
const SLICE_TARGET_MS = 2;
const SLICE_MIN = 8;
const SLICE_MAX = 1024;

/**
 * A request completed here before its native completion came back: `abandoned`, or `stuck`
 * once the addon reported its thread inside the kernel past the deadline.
 */
interface Abandoned {
  /** The request: its buffers, which its native job still points into, are kept alive until it returns (or forever). */
  keep: Pending;
  state: 'abandoned' | 'stuck';
  /** The driver of its session, for per-driver counts of stuck requests. */
  driver: string;
}

export type { Pending } from './request.js';

export class Completions {
  private readonly pending = new PendingTable<Pending>();
  private readonly abandoned = new Map<number, Abandoned>();
  /** Abandoned requests not yet reported overdue: the sweep goes on until each is. */
  private unreported = 0;
  /** Native completions that arrived for requests already completed here (dropped). */
  late = 0;
  private readonly sweeper = new OverdueSweep(() => this.sweep());
  readonly hop = new HopCost();
  inlineSpentNs = 0;
  private turnScheduled = false;
  /** The addon delivered and waits for collectCompletions() to come back empty. */
  private collecting = false;
  private readonly deferred: (() => void)[] = [];
  private backlog: Float64Array | null = null;
  /** Completions per slice, adapted to SLICE_TARGET_MS. */
  slice = 64;
  private sliceStart = -1;
  private sliceCut = false;

  /** Requests on their way to the addon's threads, sent together. */
  readonly submissions: Submissions;

  constructor(readonly addon: NativeAddon) {
    addon.setCompletionHandler((batch) => this.deliver(batch));
    this.submissions = new Submissions(addon, (p, err) => this.refused(p, err));
  }

  /** The addon refused to queue `p` (its session closed meanwhile, or bad arguments). */
  private refused(p: Pending, err: Error): void {
    if (this.pending.get(p.id) === p) {
      this.pending.delete(p.id);
      p.session.refused(p, err);
      return;
    }
    // Completed here already (its session was abandoned): no native job will come back for it.
    const a = this.abandoned.get(p.id);
    if (a) {
      if (a.state === 'abandoned') this.unreported--;
      this.abandoned.delete(p.id);
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get deferredCount(): number {
    return this.deferred.length;
  }

  get abandonedCount(): number {
    return this.abandoned.size;
  }

  /** Stuck requests: reported overdue, their thread still inside the kernel (of `driver`, or all). */
  stuck(driver?: string): number {
    let n = 0;
    for (const a of this.abandoned.values()) if (a.state === 'stuck' && (driver === undefined || a.driver === driver)) n++;
    return n;
  }

  nextRequestId(): number {
    return this.pending.reserve();
  }

  /** Requests of `session` on threads now. */
  pendingOf(session: KernelSession): Pending[] {
    return this.pending.filter((p) => p.session === session);
  }

  /** Adds `p`, its id just taken from {@link nextRequestId}. */
  add(p: Pending, deadlineMs: number): void {
    this.pending.set(p);
    if (deadlineMs > 0) this.sweeper.watch(deadlineMs);
  }

  /**
   * Takes a request out of the pending set, for completing it here; its native job keeps its
   * buffers (held here) until it comes back. Undefined when it has completed already.
   */
  abandon(id: number, stuck: boolean): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    this.abandoned.set(id, { keep: p, state: stuck ? 'stuck' : 'abandoned', driver: p.session.driver });
    if (!stuck) this.unreported++;
    return p;
  }

  /** Forgets a request the addon dropped without running it (overdue in its queue). */
  drop(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private sweep(): void {
    const found = this.addon.overdue();
    for (let i = 0; i + 1 < found.length; i += 2) {
      const id = found[i]!;
      const kind = found[i + 1]!;
      const p = this.pending.get(id);
      if (p) {
        if (kind === Overdue.Running) p.session.overdue(p);
        else if (kind === Overdue.Queued) p.session.overdueInQueue(p);
        continue;
      }
      const a = this.abandoned.get(id);
      if (!a) continue;
      if (a.state === 'abandoned') this.unreported--;
      // A job dropped from its queue: nothing points into its buffers any more.
      if (kind === Overdue.Queued) this.abandoned.delete(id);
      else a.state = 'stuck';
    }
    if (this.pending.size === 0 && this.unreported === 0) this.sweeper.stop();
  }

  chargeInline(ns: number): void {
    this.inlineSpentNs += ns;
    this.scheduleTurn();
  }

  /** Runs `job` inline in a later turn, once timers and I/O have had theirs. */
  defer(job: () => void): void {
    this.deferred.push(job);
    this.scheduleTurn();
  }

  get budgetLeft(): boolean {
    return this.inlineSpentNs < TURN_BUDGET_NS;
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => this.nextTurn());
  }

  private nextTurn(): void {
    this.turnScheduled = false;
    this.inlineSpentNs = 0;
    if (this.sliceStart >= 0) {
      const ms = performance.now() - this.sliceStart;
      this.sliceStart = -1;
      if (ms > SLICE_TARGET_MS * 2) this.slice = Math.max(SLICE_MIN, this.slice >> 1);
      // Only a slice that was cut short says a larger one was wanted.
      else if (ms < SLICE_TARGET_MS / 2 && this.sliceCut) this.slice = Math.min(SLICE_MAX, this.slice << 1);
      this.sliceCut = false;
    }
    if (this.backlog) {
      const b = this.backlog;
      this.backlog = null;
      this.complete(b);
    } else if (this.collecting) {
      // One collection per turn: what completed since the last one, after timers and I/O had
      // their turn.
      const b = this.addon.collectCompletions();
      if (b.length === 0) this.collecting = false;
      else this.complete(b);
    }
    while (this.deferred.length > 0 && this.budgetLeft) this.deferred.shift()!();
    if (this.deferred.length > 0 || this.collecting) this.scheduleTurn();
  }

  /** A delivery from the addon: completions come from collectCompletions() until it is empty. */
  private deliver(batch: Float64Array): void {
    this.collecting = true;
    this.scheduleTurn();
    if (this.backlog) {
      // Behind the completions still waiting, in order.
      const b = concat(this.backlog, batch);
      this.backlog = null;
      this.complete(b);
    } else this.complete(batch);
  }

  private complete(batch: Float64Array): void {
    const now = performance.now();
    let end = batch.length;
    if (end > this.slice * 3) {
      end = this.slice * 3;
      this.backlog = batch.subarray(end);
      this.sliceCut = true;
    }
    // Every slice is measured, continuations included, up to the next turn: measuring only
    // those cut short let the slice grow on cheap ones and never shrink on whole batches that
    // cost far more (a loopback device lane on a 2-core host: 422 completions in one slice).
    if (this.sliceStart < 0) this.sliceStart = now;
    this.scheduleTurn();
    for (let i = 0; i + 2 < end; i += 3) {
      const id = batch[i]!;
      const result = batch[i + 1]!;
      const ns = batch[i + 2]!;
      const p = this.pending.get(id);
      if (!p) {
        // Completed here already (deadline, or its session was abandoned): never a second completion.
        const a = this.abandoned.get(id);
        if (a) {
          if (a.state === 'abandoned') this.unreported--;
          this.abandoned.delete(id);
          this.late++;
        }
        continue;
      }
      this.pending.delete(id);
      if (p.aloneSince >= 0 && batch.length === 3) this.hop.observe(Math.max(0, (now - p.aloneSince) * 1e6 - ns));
      p.session.complete(p, result, ns);
    }
  }
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

let shared: Completions | undefined;

/** The process-wide completion dispatcher, created with the first session (it takes the addon's completion handler). */
export function sharedCompletions(addon: NativeAddon): Completions {
  shared ??= new Completions(addon);
  return shared;
}

/**
 * Stuck requests: threads still inside a kernel request that outlived its deadline -- on a
 * device that went away, for good -- for the driver label `driver`
 * (`afalg:virtio_crypto_aes_cbc`), or in all.
 */
export function stuckRequests(driver?: string): number {
  return shared?.stuck(driver) ?? 0;
}

/** Process-wide dispatcher figures, for stats and benchmarks. */
export interface EngineStats {
  hopNs: number;
  hopSamples: number;
  inFlight: number;
  deferred: number;
  /** Requests completed here (deadline, abandoned session) whose native job has not come back yet. */
  abandoned: number;
  /** Native completions that came back after their request was completed here, and were dropped. */
  lateCompletions: number;
}

/** Process-wide dispatcher figures, for stats and benchmarks. */
export function engineStats(): EngineStats {
  const c = shared;
  return {
    hopNs: c?.hop.ns ?? 0,
    hopSamples: c?.hop.samples ?? 0,
    inFlight: c?.inFlight ?? 0,
    deferred: c?.deferredCount ?? 0,
    abandoned: c?.abandonedCount ?? 0,
    lateCompletions: c?.late ?? 0,
  };
}
