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

/** Longest a single inline request may hold the event loop, whatever a hop costs. */
const MAX_INLINE_NS = 1_000_000;
/** Inline work allowed per event-loop turn before further requests go to threads. */
const TURN_BUDGET_NS = 2_000_000;
/** EWMA weight of a new sample. */
const ALPHA = 0.2;

interface Pending {
  session: KernelSession;
  resolve: (bytes: number) => void;
  reject: (err: KCryptoError) => void;
  keep: unknown[];
  size: number;
  submittedAt: number;
  idleHop: boolean;
}

/** Process-wide cost figures, shared by every session. */
class HopCost {
  /** ns for a round trip through the dispatcher, excluding the request's own work. */
  ns = 100_000;
  samples = 0;
  observe(ns: number): void {
    this.ns = this.samples === 0 ? ns : this.ns + ALPHA * (ns - this.ns);
    this.samples++;
  }
}

/** Routes batched completions from the addon to their requests. */
class Completions {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly hop = new HopCost();
  inlineSpentNs = 0;
  private resetScheduled = false;

  constructor(readonly addon: NativeAddon) {
    addon.setCompletionHandler((batch) => this.deliver(batch));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  add(p: Pending): number {
    const id = this.nextId++;
    this.pending.set(id, p);
    return id;
  }

  chargeInline(ns: number): void {
    this.inlineSpentNs += ns;
    if (!this.resetScheduled) {
      this.resetScheduled = true;
      setImmediate(() => {
        this.inlineSpentNs = 0;
        this.resetScheduled = false;
      });
    }
  }

  private deliver(batch: Float64Array): void {
    const now = performance.now();
    for (let i = 0; i + 2 < batch.length; i += 3) {
      const id = batch[i]!;
      const result = batch[i + 1]!;
      const ns = batch[i + 2]!;
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (p.idleHop) this.hop.observe(Math.max(0, (now - p.submittedAt) * 1e6 - ns));
      p.session.complete(p, result, ns);
    }
  }
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

/** Counters of one session. */
export interface KernelSessionStats {
  requests: number;
  inline: number;
  threaded: number;
  errors: number;
  bytes: number;
  inFlight: number;
}

/**
 * A native engine session plus its execution policy. One per kcrypto session; the driver
 * layer formats requests, this layer only runs them.
 */
export class KernelSession {
  private inFlight = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private readonly model: CostModel = { fixedNs: 30_000, perByteNs: 15, samples: 0 };
  private readonly counters = { requests: 0, inline: 0, threaded: 0, errors: 0, bytes: 0 };
  private readonly completions: Completions;

  /**
   * @param native the engine session
   * @param driver kcrypto driver name, for errors
   * @param synchronous whether the kernel driver completes on the calling thread (not a device
   *   queue); only such drivers may run inline
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

  /** The session's counters. */
  stats(): KernelSessionStats {
    return { ...this.counters, inFlight: this.inFlight };
  }

  private shouldInline(size: number): boolean {
    if (this.execution === 'inline') return true;
    if (this.execution === 'threads' || !this.synchronous) return false;
    const predicted = this.predict(size);
    if (predicted > MAX_INLINE_NS) return false;
    if (this.completions.inlineSpentNs + predicted > TURN_BUDGET_NS) return false;
    return predicted <= this.completions.hop.ns;
  }

  private observe(size: number, ns: number): void {
    const m = this.model;
    m.samples++;
    if (size <= 1024) m.fixedNs += ALPHA * (ns - m.fixedNs);
    else if (size >= 8192) m.perByteNs += ALPHA * (Math.max(0, ns - m.fixedNs) / size - m.perByteNs);
  }

  /**
   * Runs one request. Resolves with the number of output bytes; rejects with a KCryptoError.
   * Buffers are referenced, not copied, until the request completes.
   */
  request(op: OpCode, input: Uint8Array | Uint8Array[] | null, output: Uint8Array | null, iv: Uint8Array | null, assocLen: number, stream = -1): Promise<number> {
    if (this.closed) return Promise.reject(systemError(errnoEBADF(), 'validate', this.driver, 'session is closed'));
    const size = inputSize(input) + (op === Op.Random || op === Op.HashFinal ? (output?.length ?? 0) : 0);
    this.counters.requests++;
    this.counters.bytes += size;
    if (this.shouldInline(size)) {
      const t0 = performance.now();
      const result = this.native.run(op, input, output, iv, assocLen, stream);
      const ns = (performance.now() - t0) * 1e6;
      this.completions.chargeInline(ns);
      this.counters.inline++;
      this.observe(size, ns);
      if (result >= 0) return Promise.resolve(result);
      this.counters.errors++;
      return Promise.reject(this.error(result));
    }
    return new Promise<number>((resolve, reject) => {
      const p: Pending = { session: this, resolve, reject, keep: [input, output, iv], size, submittedAt: performance.now(), idleHop: this.completions.inFlight === 0 };
      const id = this.completions.add(p);
      this.inFlight++;
      this.counters.threaded++;
      this.native.submit(id, op, input, output, iv, assocLen, stream);
    });
  }

  /** @internal called by the completion router */
  complete(p: Pending, result: number, ns: number): void {
    this.inFlight--;
    this.observe(p.size, ns);
    if (result >= 0 && result !== QUEUED) p.resolve(result);
    else {
      this.counters.errors++;
      p.reject(this.error(result));
    }
    if (this.inFlight === 0 && this.drained) this.drained();
  }

  private error(result: number): KCryptoError {
    const { errno, syscall } = decodeError(result);
    return systemError(errno, syscall, this.driver);
  }

  /** Whether close() has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Waits for in-flight requests, then releases every descriptor. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = new Promise<void>((resolve) => {
      const finish = (): void => {
        this.native.close();
        resolve();
      };
      if (this.inFlight === 0) finish();
      else this.drained = finish;
    });
    return this.closing;
  }
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
export function engineStats(): { hopNs: number; hopSamples: number; inFlight: number } {
  return { hopNs: completions?.hop.ns ?? 0, hopSamples: completions?.hop.samples ?? 0, inFlight: completions?.inFlight ?? 0 };
}
