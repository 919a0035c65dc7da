/**
 * Runs requests on a native engine session: on the calling thread when that is cheaper than a
 * thread hop and the driver completes synchronously, otherwise on the addon's threads with
 * completions delivered in batches.
 *
 * Why a policy at all: in the lab guest a round trip through another thread costs ≈ 490 µs
 * while a 64-byte AF_ALG request costs ≈ 30 µs, so a hop per small request would cost 15×
 * the work. node:crypto and crypto(9)'s CRYPTOCAP_F_SYNC drivers make the same choice.
 * The threshold is not a constant: each session measures its own cost per request and per
 * byte, and the process measures what a hop costs, and a request runs inline only when its
 * predicted cost is below the hop's (and below a hard cap that bounds event-loop stalls).
 */
import { performance } from 'node:perf_hooks';

import type { KCryptoError } from '../errors.js';
import { loadAddon, type NativeAddon, type NativeSession } from './addon.js';
import { decodeError, QUEUED, systemError } from './status.js';

/** Request operations, in native/common/engine.h order. */
export const Op = { Encrypt: 0, Decrypt: 1, Digest: 2, HashUpdate: 3, HashFinal: 4, Random: 5 } as const;
/** A request operation. */
export type OpCode = (typeof Op)[keyof typeof Op];

/** Where a session's requests run. `auto` applies the measured policy. */
export type Execution = 'auto' | 'inline' | 'threads';

/** Inline requests may always cost this much, however cheap a thread hop is. */
const INLINE_FLOOR_NS = 1_000_000;
/** No inline request may cost more than this, however expensive a thread hop is. */
const INLINE_CEILING_NS = 4_000_000;
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
 * Cost model weights. A sample above the estimate counts at most ×GROWTH_CAP and with weight
 * ALPHA_UP; one below moves it with ALPHA_DOWN. Under emulation or load a single request can
 * take 100× its usual time (a descheduled vCPU, a GC pause); an outlier must not send a whole
 * stream of cheap requests on thread hops while the estimate slowly recovers.
 */
const ALPHA_UP = 0.1;
const ALPHA_DOWN = 0.5;
const GROWTH_CAP = 4;

interface Pending {
  session: KernelSession;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  map: (bytes: number) => unknown;
  keep: unknown[];
  size: number;
  /** performance.now() at submission, when nothing else was in flight (a clean hop sample). */
  aloneSince: number;
}

/**
 * What a round trip through the dispatcher costs (thread wake-up, completion hand-off, the
 * JavaScript callback), learnt from requests that were alone in flight: their latency minus
 * their own work. The update grows slowly and falls fast, so a round trip that waited on a
 * busy event loop (which says nothing about the hop) barely moves it.
 */
class HopCost {
  /** ns per round trip; a guess until measured. */
  ns = 100_000;
  samples = 0;
  observe(ns: number): void {
    this.ns = this.samples++ === 0 ? Math.min(ns, 4 * this.ns) : robustUpdate(this.ns, ns);
  }
}

/**
 * Routes batched completions from the addon to their requests, and keeps the per-turn inline
 * budget with its queue of requests deferred to the next turn.
 */
class Completions {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly hop = new HopCost();
  inlineSpentNs = 0;
  private turnScheduled = false;
  private readonly deferred: (() => void)[] = [];
  private backlog: Float64Array | null = null;
  /** Completions per slice, adapted to SLICE_TARGET_MS. */
  slice = 64;
  private sliceStart = -1;

  constructor(readonly addon: NativeAddon) {
    addon.setCompletionHandler((batch) => this.deliver(batch));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get deferredCount(): number {
    return this.deferred.length;
  }

  add(p: Pending): number {
    const id = this.nextId++;
    this.pending.set(id, p);
    return id;
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
      else if (ms < SLICE_TARGET_MS / 2) this.slice = Math.min(SLICE_MAX, this.slice << 1);
    }
    if (this.backlog) {
      const b = this.backlog;
      this.backlog = null;
      this.deliver(b);
    }
    while (this.deferred.length > 0 && this.budgetLeft) this.deferred.shift()!();
    if (this.deferred.length > 0) this.scheduleTurn();
  }

  private deliver(batch: Float64Array): void {
    const now = performance.now();
    let end = batch.length;
    if (end > this.slice * 3) {
      end = this.slice * 3;
      const rest = batch.subarray(end);
      this.backlog = this.backlog ? concat(rest, this.backlog) : rest;
      // Measure this slice, continuations included, up to the next turn.
      this.sliceStart = performance.now();
      this.scheduleTurn();
    }
    for (let i = 0; i + 2 < end; i += 3) {
      const id = batch[i]!;
      const result = batch[i + 1]!;
      const ns = batch[i + 2]!;
      const p = this.pending.get(id);
      if (!p) continue;
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

let completions: Completions | undefined;

function router(addon: NativeAddon): Completions {
  completions ??= new Completions(addon);
  return completions;
}

/** What a session has measured about its own requests. */
export interface CostModel {
  fixedNs: number;
  perByteNs: number;
  samples: number;
}

/** Counters and measured costs of one session. */
export interface KernelSessionStats {
  requests: number;
  /** Run on the calling thread. */
  inline: number;
  /** Run on the addon's threads. */
  threaded: number;
  /** Waited for a later event-loop turn (the turn's inline budget was spent), then ran inline. */
  deferred: number;
  errors: number;
  bytes: number;
  inFlight: number;
  synchronous: boolean;
  execution: Execution;
  /** Measured fixed cost per request and cost per byte (ns), and the samples behind them. */
  fixedNs: number;
  perByteNs: number;
  samples: number;
  /** The predicted cost above which a request goes to a thread (ns). */
  inlineLimitNs: number;
}

type Route = 'inline' | 'threads' | 'defer';

const identity = (n: number): number => n;

/**
 * A native engine session plus its execution policy. One per kcrypto session; the driver
 * layer formats requests, this layer only runs them.
 */
export class KernelSession {
  private inFlight = 0;
  private waiting = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private readonly model: CostModel = { fixedNs: 30_000, perByteNs: 15, samples: 0 };
  private readonly counters = { requests: 0, inline: 0, threaded: 0, deferred: 0, errors: 0, bytes: 0 };
  private readonly completions: Completions;

  /**
   * @param native the engine session
   * @param driver kcrypto driver name, for errors
   * @param synchronous whether requests complete within the system call on the calling thread:
   *   true for CPU implementations (even those the kernel flags ASYNC because a SIMD wrapper
   *   could defer to cryptd, which it does not from process context), false for devices
   * @param execution policy override
   */
  constructor(
    readonly native: NativeSession,
    readonly driver: string,
    readonly synchronous: boolean,
    readonly execution: Execution = 'auto',
  ) {
    const { addon } = loadAddon();
    if (!addon) throw new Error('kcrypto: native addon not loaded');
    this.completions = router(addon);
  }

  /** Predicted cost of a request of `size` bytes, in ns. */
  predict(size: number): number {
    return this.model.fixedNs + this.model.perByteNs * size;
  }

  /** The session's measured cost model. */
  get costModel(): Readonly<CostModel> {
    return this.model;
  }

  /**
   * The largest predicted cost that runs inline: what a thread hop costs (below it a hop can
   * only lose), but at least 1 ms (a stall the per-turn budget already bounds) and at most 4 ms.
   */
  inlineLimitNs(): number {
    return Math.min(INLINE_CEILING_NS, Math.max(INLINE_FLOOR_NS, this.completions.hop.ns));
  }

  /** The session's counters. */
  stats(): KernelSessionStats {
    const m = this.model;
    return {
      ...this.counters,
      inFlight: this.inFlight + this.waiting,
      synchronous: this.synchronous,
      execution: this.execution,
      fixedNs: m.fixedNs,
      perByteNs: m.perByteNs,
      samples: m.samples,
      inlineLimitNs: this.inlineLimitNs(),
    };
  }

  private route(size: number): Route {
    if (this.execution === 'inline') return 'inline';
    if (this.execution === 'threads' || !this.synchronous) return 'threads';
    const alone = this.inFlight + this.waiting === 0;
    // A request alone in flight (a serial loop) gains nothing on another thread -- this one
    // would only wait for it -- so it may run inline up to the stall ceiling; with company, the
    // larger ones go where they can run in parallel.
    if (this.predict(size) > (alone ? INLINE_CEILING_NS : this.inlineLimitNs())) return 'threads';
    if (this.completions.budgetLeft) return 'inline';
    // Out of budget for this turn. With other requests of this session already waiting there
    // is concurrency to spread over another core; a lone request (a serial loop) just waits
    // for the next turn, which costs far less than a thread hop.
    return alone ? 'defer' : 'threads';
  }

  private observe(size: number, ns: number): void {
    const m = this.model;
    if (size <= 1024) m.fixedNs = robustUpdate(m.fixedNs, ns);
    else if (size >= 8192) m.perByteNs = robustUpdate(m.perByteNs, Math.max(0, ns - m.fixedNs) / size);
    m.samples++;
  }

  /**
   * Runs one request and resolves with `map(output bytes)`; rejects with a KCryptoError.
   * Buffers are referenced, not copied, until the request completes. `map` runs synchronously
   * on success, so a request costs one promise whichever way it runs.
   */
  request<T = number>(
    op: OpCode,
    input: Uint8Array | Uint8Array[] | null,
    output: Uint8Array | null,
    iv: Uint8Array | null,
    assocLen: number,
    stream = -1,
    map: (bytes: number) => T = identity as unknown as (bytes: number) => T,
  ): Promise<T> {
    if (this.closed) return Promise.reject(systemError(errnoEBADF(), 'validate', this.driver, 'session is closed'));
    const size = inputSize(input) + (op === Op.Random || op === Op.HashFinal ? (output?.length ?? 0) : 0);
    this.counters.requests++;
    this.counters.bytes += size;
    switch (this.route(size)) {
      case 'inline': {
        const result = this.runInline(op, input, output, iv, assocLen, stream, size);
        if (result >= 0) {
          try {
            return Promise.resolve(map(result));
          } catch (err) {
            return Promise.reject(err);
          }
        }
        return Promise.reject(this.error(result));
      }
      case 'threads':
        return new Promise<T>((resolve, reject) => this.submit(op, input, output, iv, assocLen, stream, size, map, resolve as (v: unknown) => void, reject));
      case 'defer':
        this.counters.deferred++;
        this.waiting++;
        return new Promise<T>((resolve, reject) => {
          this.completions.defer(() => {
            this.waiting--;
            if (this.closed) {
              reject(systemError(errnoEBADF(), 'validate', this.driver, 'session is closed'));
              this.checkDrained();
              return;
            }
            const result = this.runInline(op, input, output, iv, assocLen, stream, size);
            this.checkDrained();
            if (result < 0) return reject(this.error(result));
            try {
              resolve(map(result));
            } catch (err) {
              reject(err);
            }
          });
        });
    }
  }

  private runInline(op: OpCode, input: Uint8Array | Uint8Array[] | null, output: Uint8Array | null, iv: Uint8Array | null, assocLen: number, stream: number, size: number): number {
    const t0 = performance.now();
    const result = this.native.run(op, input, output, iv, assocLen, stream);
    const ns = (performance.now() - t0) * 1e6;
    this.completions.chargeInline(ns);
    this.counters.inline++;
    this.observe(size, ns);
    if (result < 0) this.counters.errors++;
    return result;
  }

  private submit(
    op: OpCode,
    input: Uint8Array | Uint8Array[] | null,
    output: Uint8Array | null,
    iv: Uint8Array | null,
    assocLen: number,
    stream: number,
    size: number,
    map: (bytes: number) => unknown,
    resolve: (v: unknown) => void,
    reject: (e: unknown) => void,
  ): void {
    const p: Pending = { session: this, resolve, reject, map, keep: [input, output, iv], size, aloneSince: this.completions.inFlight === 0 ? performance.now() : -1 };
    const id = this.completions.add(p);
    this.inFlight++;
    this.counters.threaded++;
    // CPU-bound work and device waits go to separate thread lanes: device requests sleep in the
    // kernel, CPU requests compete with this thread for cores.
    this.native.submit(id, this.synchronous ? 0 : 1, op, input, output, iv, assocLen, stream);
  }

  /** @internal called by the completion router */
  complete(p: Pending, result: number, ns: number): void {
    this.inFlight--;
    this.observe(p.size, ns);
    if (result >= 0 && result !== QUEUED) {
      try {
        p.resolve(p.map(result));
      } catch (err) {
        p.reject(err);
      }
    } else {
      this.counters.errors++;
      p.reject(this.error(result));
    }
    // Requests settle before close() does: their promises were resolved above, first.
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.inFlight === 0 && this.waiting === 0 && this.drained) this.drained();
  }

  private error(result: number): KCryptoError {
    const { errno, syscall } = decodeError(result);
    return systemError(errno, syscall, this.driver);
  }

  /** Whether close() has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Waits for requests in flight, then releases every descriptor. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = new Promise<void>((resolve) => {
      const finish = (): void => {
        this.native.close();
        resolve();
      };
      if (this.inFlight === 0 && this.waiting === 0) finish();
      else this.drained = finish;
    });
    return this.closing;
  }
}

function robustUpdate(estimate: number, sample: number): number {
  if (sample <= estimate) return estimate + ALPHA_DOWN * (sample - estimate);
  return estimate + ALPHA_UP * (Math.min(sample, estimate * GROWTH_CAP) - estimate);
}

function inputSize(input: Uint8Array | Uint8Array[] | null): number {
  if (input === null) return 0;
  if (Array.isArray(input)) {
    let n = 0;
    for (const b of input) n += b.length;
    return n;
  }
  return input.length;
}

let ebadf: number | undefined;
function errnoEBADF(): number {
  ebadf ??= loadAddon().addon?.errnoTable()['EBADF'] ?? 9;
  return ebadf;
}

/** Process-wide dispatcher figures, for stats and benchmarks. */
export function engineStats(): { hopNs: number; hopSamples: number; inFlight: number; deferred: number } {
  return { hopNs: completions?.hop.ns ?? 0, hopSamples: completions?.hop.samples ?? 0, inFlight: completions?.inFlight ?? 0, deferred: completions?.deferredCount ?? 0 };
}
