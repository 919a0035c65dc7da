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
 * Requests of device drivers always run on threads: a device can stop answering, and only a
 * thread can be left behind in the kernel.
 *
 * Deadlines. A request on the addon's threads that has not completed within its deadline
 * (measured from the moment a thread takes it, so a long queue never trips it) is completed
 * here with ETIMEDOUT, exactly once; its thread is counted as wedged (the lane starts a
 * replacement), and its late native completion, if it ever comes, is dropped. The session is
 * then dead: its other requests in flight reject with ESHUTDOWN, later ones reject at once
 * with ESHUTDOWN (syscall `validate`), and no system call is made on its descriptors from the
 * JavaScript thread again -- closing it lets go of it, its descriptors left open. Why this matters:
 * in the lab, when a virtio-crypto card is removed, a request in flight on it can stay in the
 * kernel for good (an unkillable D-state thread), and later requests or close() on a session
 * bound to it block, or fault in the kernel (a use-after-free that kills the calling thread),
 * on 6.1 and on 6.12.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

import { errnoOf } from '../errno.js';
import type { KCryptoError } from '../errors.js';
import { loadAddon, type NativeAddon, type NativeSession } from './addon.js';
import { decodeError, QUEUED, systemError } from './status.js';

/** Request operations, in native/common/engine.h order. */
export const Op = { Encrypt: 0, Decrypt: 1, Digest: 2, HashUpdate: 3, HashFinal: 4, Random: 5 } as const;
/** A request operation. */
export type OpCode = (typeof Op)[keyof typeof Op];

/**
 * Where a session's requests run. `auto` applies the measured policy. Whatever the choice,
 * requests of device drivers (`synchronous` false) run on threads only.
 */
export type Execution = 'auto' | 'inline' | 'threads';

/**
 * Default deadline of a request on the addon's threads, in ms. A virtio-crypto request takes
 * well under a millisecond in the lab (64 KiB at ≈ 100 MB/s under TCG) and a CPU request on a
 * thread a few ms per MiB, so 10 s is thousands of times the normal latency: it trips only on a
 * thread stalled for seconds (which, in a crypto driver, means a device that no longer
 * answers), and a wedged request is noticed within 12.5 s (the deadline plus a sweep period).
 */
export const DEFAULT_DEADLINE_MS = 10_000;
/**
 * Time allowed per byte on top of the deadline (1 µs, i.e. a 1 MB/s floor, 70 times below the
 * slowest path measured in the lab): a request of 1 GiB on a slow CPU driver is not a wedge.
 */
export const DEADLINE_NS_PER_BYTE = 1000;
/** The environment variable that sets the default deadline (ms; 0 turns deadlines off). */
export const DEADLINE_ENV = 'KCRYPTO_REQUEST_DEADLINE_MS';

const warned = new Set<string>();

/**
 * The default request deadline (ms): `KCRYPTO_REQUEST_DEADLINE_MS` when it is a non-negative
 * integer (0: no deadline), else {@link DEFAULT_DEADLINE_MS} (with a process warning, once,
 * for a value that is not such an integer).
 */
export function requestDeadlineMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[DEADLINE_ENV];
  if (raw === undefined || raw === '') return DEFAULT_DEADLINE_MS;
  if (/^\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw))) return Number(raw);
  if (!warned.has(raw)) {
    warned.add(raw);
    process.emitWarning(`${DEADLINE_ENV}=${JSON.stringify(raw)} is not a number of milliseconds; using ${DEFAULT_DEADLINE_MS}`, 'KCryptoWarning');
  }
  return DEFAULT_DEADLINE_MS;
}

/**
 * Why a session died:
 * - `deadline`: one of its requests did not complete within its deadline;
 * - `device-removed`: the device-removal watch saw the device behind its driver go;
 * - `device-error`: the device failed one of its requests with ESHUTDOWN or ENODEV (the
 *   kernel's crypto engine of a removed card answers ESHUTDOWN);
 * - `killed`: {@link KernelSession.markDead} by other code.
 */
export type DeathCause = 'deadline' | 'device-removed' | 'device-error' | 'killed';

/** How a session died. */
export interface SessionDeath {
  cause: DeathCause;
  /** What happened, for messages and logs. */
  detail: string;
  /** performance.now() when it died. */
  at: number;
}

/**
 * What {@link KernelSession.markDead} does with the requests still in flight: reject them now
 * with this code, or `keep` them, to complete on their own (or at their deadline).
 */
export type InFlightFate = 'ESHUTDOWN' | 'ENODEV' | 'keep';

/** Options of a {@link KernelSession}. */
export interface KernelSessionOptions {
  /**
   * Deadline of a request on threads, in ms, plus {@link DEADLINE_NS_PER_BYTE} per byte; 0
   * turns it off. Default: {@link requestDeadlineMs} (the environment, else 10 s).
   */
  deadlineMs?: number;
  /** The kernel driver (cra_driver_name) behind the session, for the device-removal watch. */
  kernelDriver?: string;
  /**
   * The system call a request of `op` waits in, named by the errors of requests given up on
   * (ETIMEDOUT, ENODEV, ESHUTDOWN). Default: AF_ALG's (`sendmsg` for a hash update, else `recvmsg`).
   */
  waitSyscall?: (op: OpCode) => string;
}

const afalgWaitSyscall = (op: OpCode): string => (op === Op.HashUpdate ? 'sendmsg' : 'recvmsg');

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
  id: number;
  op: OpCode;
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

/** A request completed here before its native completion came back. */
interface Zombie {
  /** The buffers its native job still points into: kept alive until it returns (or forever). */
  keep: unknown[];
  /** Reported overdue already: no sweep needs to wait for it. */
  reported: boolean;
  /** The driver of its session, for per-driver counts of wedged threads. */
  driver: string;
}

/** What a sweep of overdue requests finds (see NativeAddon.overdue). */
const OVERDUE_RUNNING = 1;
const OVERDUE_STARVED = 2;
/** Sweep period bounds (ms): a quarter of the shortest deadline, within these. */
const SWEEP_MIN_MS = 10;
const SWEEP_MAX_MS = 1000;

/**
 * Routes batched completions from the addon to their requests, and keeps the per-turn inline
 * budget with its queue of requests deferred to the next turn. While requests with a deadline
 * are on threads, an unref'd timer asks the addon which of them are overdue.
 */
class Completions {
  private readonly pending = new Map<number, Pending>();
  private readonly zombies = new Map<number, Zombie>();
  private unreported = 0;
  /** Native completions that arrived for requests already completed here (dropped). */
  late = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepMs = Infinity;
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

  get zombieCount(): number {
    return this.zombies.size;
  }

  /** Requests reported overdue whose thread is still inside the kernel (of `driver`, or all). */
  wedged(driver?: string): number {
    let n = 0;
    for (const z of this.zombies.values()) if (z.reported && (driver === undefined || z.driver === driver)) n++;
    return n;
  }

  nextRequestId(): number {
    return this.nextId++;
  }

  add(p: Pending, deadlineMs: number): void {
    this.pending.set(p.id, p);
    if (deadlineMs > 0) this.watch(deadlineMs);
  }

  /**
   * Takes a request out of the pending set, for completing it here; its native job keeps its
   * buffers (held here) until it comes back. Undefined when it has completed already.
   */
  abandon(id: number, reported: boolean): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    this.zombies.set(id, { keep: p.keep, reported, driver: p.session.driver });
    if (!reported) this.unreported++;
    return p;
  }

  /** Forgets a request the addon dropped without running it (starved in its queue). */
  drop(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private watch(deadlineMs: number): void {
    const period = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, deadlineMs / 4));
    if (this.sweepTimer && period >= this.sweepMs) return;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepMs = period;
    // Unref'd: requests on threads keep the process alive through the addon, not this timer.
    this.sweepTimer = setInterval(() => this.sweep(), period).unref();
  }

  private sweep(): void {
    const found = this.addon.overdue();
    for (let i = 0; i + 1 < found.length; i += 2) {
      const id = found[i]!;
      const kind = found[i + 1]!;
      const p = this.pending.get(id);
      if (p) {
        if (kind === OVERDUE_RUNNING) p.session.overdue(p);
        else if (kind === OVERDUE_STARVED) p.session.starved(p);
        continue;
      }
      const z = this.zombies.get(id);
      if (!z) continue;
      if (!z.reported) this.unreported--;
      // A starved job was removed from its queue: nothing points into its buffers any more.
      if (kind === OVERDUE_STARVED) this.zombies.delete(id);
      else z.reported = true;
    }
    if (this.pending.size === 0 && this.unreported === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
      this.sweepMs = Infinity;
    }
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
      if (!p) {
        // Completed here already (deadline, or its session died): never a second completion.
        const z = this.zombies.get(id);
        if (z) {
          if (!z.reported) this.unreported--;
          this.zombies.delete(id);
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
  /** Requests completed with ETIMEDOUT at their deadline. */
  timedOut: number;
  /** Deadline of a request on threads (ms, before the per-byte allowance); 0: none. */
  deadlineMs: number;
  /** Why the session died, or null while it lives. */
  death: SessionDeath | null;
}

/**
 * Open kernel sessions, weakly held: a session its program forgot to close is still collected
 * (its native half then closes itself).
 */
const live = new Set<WeakRef<KernelSession>>();
const liveRefs = new FinalizationRegistry<WeakRef<KernelSession>>((ref) => live.delete(ref));
const lifecycle = new EventEmitter<{ open: [KernelSession] }>();

/** The kernel sessions open now (not closed), for policies over all of them such as the device-removal watch. */
export function kernelSessions(): KernelSession[] {
  const out: KernelSession[] = [];
  for (const ref of live) {
    const s = ref.deref();
    if (s && !s.isClosed) out.push(s);
  }
  return out;
}

/** Calls `listener` with every kernel session opened from now on. Returns the unsubscribe function. */
export function onKernelSessionOpen(listener: (s: KernelSession) => void): () => void {
  lifecycle.on('open', listener);
  return () => lifecycle.off('open', listener);
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
  private readonly counters = { requests: 0, inline: 0, threaded: 0, deferred: 0, errors: 0, bytes: 0, timedOut: 0 };
  private readonly completions: Completions;
  /** Requests of this session on threads, by id. */
  private readonly threadedIds = new Set<number>();
  private death: SessionDeath | null = null;
  private deathListeners: ((death: SessionDeath) => void)[] = [];
  private readonly ref = new WeakRef(this);
  private readonly waitSyscall: (op: OpCode) => string;
  /** Deadline of a request on threads (ms, before the per-byte allowance); 0: none. */
  readonly deadlineMs: number;
  /** The kernel driver behind the session (cra_driver_name), when known. */
  readonly kernelDriver: string | undefined;

  /**
   * @param native the engine session
   * @param driver kcrypto driver name, for errors
   * @param synchronous whether requests complete within the system call on the calling thread:
   *   true for CPU implementations (even those the kernel flags ASYNC because a SIMD wrapper
   *   could defer to cryptd, which it does not from process context), false for devices
   * @param execution policy override (device drivers run on threads whatever it says)
   * @param options deadline, kernel driver name, system call names for errors
   */
  constructor(
    readonly native: NativeSession,
    readonly driver: string,
    readonly synchronous: boolean,
    readonly execution: Execution = 'auto',
    options: KernelSessionOptions = {},
  ) {
    const { addon } = loadAddon();
    if (!addon) throw new Error('kcrypto: native addon not loaded');
    this.completions = router(addon);
    const deadline = options.deadlineMs ?? requestDeadlineMs();
    if (!Number.isFinite(deadline) || deadline < 0) throw new RangeError(`deadlineMs must be a non-negative number of ms, got ${deadline}`);
    this.deadlineMs = deadline;
    this.kernelDriver = options.kernelDriver;
    this.waitSyscall = options.waitSyscall ?? afalgWaitSyscall;
    live.add(this.ref);
    liveRefs.register(this, this.ref, this.ref);
    lifecycle.emit('open', this);
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
      deadlineMs: this.deadlineMs,
      death: this.death,
    };
  }

  private route(size: number): Route {
    // A device can stop answering: only a thread may be left waiting for it.
    if (!this.synchronous || this.execution === 'threads') return 'threads';
    if (this.execution === 'inline') return 'inline';
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
   *
   * A device session's request writes `output` only while the session lives (the thread has the
   * kernel write into a buffer of its own, then copies). `outputDisposable` waives that copy for
   * a caller that never reads `output` after a failure: a late write from a removed card then
   * lands in a buffer nobody reads.
   */
  request<T = number>(
    op: OpCode,
    input: Uint8Array | Uint8Array[] | null,
    output: Uint8Array | null,
    iv: Uint8Array | null,
    assocLen: number,
    stream = -1,
    map: (bytes: number) => T = identity as unknown as (bytes: number) => T,
    outputDisposable = false,
  ): Promise<T> {
    if (this.closed) return Promise.reject(systemError(errnoEBADF(), 'validate', this.driver, 'session is closed'));
    if (this.death) return Promise.reject(this.deadError());
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
        return new Promise<T>((resolve, reject) => this.submit(op, input, output, iv, assocLen, stream, size, map, resolve as (v: unknown) => void, reject, outputDisposable));
      case 'defer':
        this.counters.deferred++;
        this.waiting++;
        return new Promise<T>((resolve, reject) => {
          this.completions.defer(() => {
            this.waiting--;
            if (this.closed || this.death) {
              reject(this.closed ? systemError(errnoEBADF(), 'validate', this.driver, 'session is closed') : this.deadError());
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
    outputDisposable: boolean,
  ): void {
    const id = this.completions.nextRequestId();
    const p: Pending = { id, op, session: this, resolve, reject, map, keep: [input, output, iv], size, aloneSince: this.completions.inFlight === 0 ? performance.now() : -1 };
    const deadline = this.deadlineMs > 0 ? this.deadlineMs + (size * DEADLINE_NS_PER_BYTE) / 1e6 : 0;
    this.completions.add(p, deadline);
    this.threadedIds.add(id);
    this.inFlight++;
    this.counters.threaded++;
    // CPU-bound work and device waits go to separate thread lanes: device requests sleep in the
    // kernel, CPU requests compete with this thread for cores.
    this.native.submit(id, this.synchronous ? 0 : 1, op, input, output, iv, assocLen, stream, deadline, outputDisposable);
  }

  /** @internal called by the completion router */
  complete(p: Pending, result: number, ns: number): void {
    this.inFlight--;
    this.threadedIds.delete(p.id);
    this.observe(p.size, ns);
    if (result >= 0 && result !== QUEUED) {
      try {
        p.resolve(p.map(result));
      } catch (err) {
        p.reject(err);
      }
    } else {
      this.counters.errors++;
      const err = this.error(result);
      p.reject(err);
      // The crypto engine of a removed card answers ESHUTDOWN; the next request on a session
      // bound to that card would fault in the kernel. (ESHUTDOWN from `validate` is the addon
      // refusing a given-up session, which is dead already.)
      if (!this.synchronous && err.syscall !== 'validate' && (err.code === 'ESHUTDOWN' || err.code === 'ENODEV')) {
        this.markDead('device-error', `the device failed a request with ${err.code}`, 'ESHUTDOWN');
      }
    }
    // Requests settle before close() does: their promises were resolved above, first.
    this.checkDrained();
  }

  /** @internal called by the completion router: a thread has been inside `p` past its deadline. */
  overdue(p: Pending): void {
    if (!this.completions.abandon(p.id, true)) return;
    this.inFlight--;
    this.threadedIds.delete(p.id);
    this.counters.errors++;
    this.counters.timedOut++;
    const ms = this.deadlineMs + (p.size * DEADLINE_NS_PER_BYTE) / 1e6;
    p.reject(systemError(errnoOf('ETIMEDOUT'), this.waitSyscall(p.op), this.driver, `no completion within ${Math.round(ms)} ms`));
    this.markDead('deadline', `a request did not complete within ${Math.round(ms)} ms`, 'ESHUTDOWN');
    this.checkDrained();
  }

  /**
   * @internal called by the completion router: `p` waited in its lane's queue past its deadline
   * while every thread of the lane was wedged, and was dropped without running. The session
   * itself is not at fault, so it lives on.
   */
  starved(p: Pending): void {
    if (!this.completions.drop(p.id)) return;
    this.inFlight--;
    this.threadedIds.delete(p.id);
    this.counters.errors++;
    this.counters.timedOut++;
    p.reject(systemError(errnoOf('ETIMEDOUT'), 'validate', this.driver, 'no thread was free to run the request before its deadline (every thread of its lane is stuck in a device)'));
    this.checkDrained();
  }

  /** Whether the session is dead (see {@link KernelSession.markDead}). */
  get isDead(): boolean {
    return this.death !== null;
  }

  /** Why the session died, or null while it lives. */
  get deathInfo(): SessionDeath | null {
    return this.death;
  }

  /**
   * Calls `listener` once when the session dies (at once, in a microtask, if it is dead
   * already). The hook for migrating the session's work elsewhere. Returns the unsubscribe
   * function.
   */
  onDead(listener: (death: SessionDeath) => void): () => void {
    if (this.death) {
      const death = this.death;
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) listener(death);
      });
      return () => {
        cancelled = true;
      };
    }
    this.deathListeners.push(listener);
    return () => {
      this.deathListeners = this.deathListeners.filter((l) => l !== listener);
    };
  }

  /**
   * Gives the session up: new requests reject at once with ESHUTDOWN (syscall `validate`), no
   * system call touches its descriptors from this thread again (close() hands them to a thread
   * of their own), and its requests in flight either reject now with `inFlight` or, with
   * `keep`, complete on their own or at their deadline -- those already inside the kernel; the
   * ones still queued for a thread never start, and reject with ESHUTDOWN (syscall `validate`). Marking a dead session again only
   * applies the new `inFlight` to what is still in flight. {@link onDead} listeners run once,
   * synchronously, after the session is marked and before requests in flight are rejected.
   */
  markDead(cause: DeathCause, detail: string, inFlight: InFlightFate = 'ESHUTDOWN'): void {
    if (!this.death) {
      this.death = { cause, detail, at: performance.now() };
      this.native.abandon();
      const listeners = this.deathListeners;
      this.deathListeners = [];
      for (const l of listeners) {
        try {
          l(this.death);
        } catch (err) {
          // As an EventEmitter listener's would: the error surfaces, the session still dies.
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }
    if (inFlight !== 'keep' && this.threadedIds.size > 0) {
      const errno = errnoOf(inFlight);
      for (const id of [...this.threadedIds]) {
        const p = this.completions.abandon(id, false);
        this.threadedIds.delete(id);
        if (!p) continue;
        this.inFlight--;
        this.counters.errors++;
        p.reject(systemError(errno, this.waitSyscall(p.op), this.driver, `session given up (${this.death.detail})`));
      }
      this.checkDrained();
    }
  }

  private deadError(): KCryptoError {
    return systemError(errnoOf('ESHUTDOWN'), 'validate', this.driver, `session is dead: ${this.death?.detail ?? 'given up'}`);
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

  /**
   * Waits for requests in flight, then releases every descriptor. Idempotent. A dead session's
   * descriptors are not closed but left open until the process ends: closing a transform bound
   * to a removed virtio-crypto card hung the 6.1 lab guest and faulted in the 6.12 kernel.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    live.delete(this.ref);
    liveRefs.unregister(this.ref);
    this.closing = new Promise<void>((resolve) => {
      const finish = (): void => {
        if (this.death) this.native.leak();
        else this.native.close();
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
  ebadf ??= errnoOf('EBADF');
  return ebadf;
}

/**
 * Threads still inside a kernel request that outlived its deadline -- on a device that went
 * away, for good -- for the driver label `driver` (`afalg:virtio_crypto_aes_cbc`), or in all.
 */
export function wedgedRequests(driver?: string): number {
  return completions?.wedged(driver) ?? 0;
}

/** Process-wide dispatcher figures, for stats and benchmarks. */
export interface EngineStats {
  hopNs: number;
  hopSamples: number;
  inFlight: number;
  deferred: number;
  /** Requests completed here (deadline, dead session) whose native job has not come back yet. */
  abandoned: number;
  /** Native completions that came back after their request was completed here, and were dropped. */
  lateCompletions: number;
}

/** Process-wide dispatcher figures, for stats and benchmarks. */
export function engineStats(): EngineStats {
  const c = completions;
  return {
    hopNs: c?.hop.ns ?? 0,
    hopSamples: c?.hop.samples ?? 0,
    inFlight: c?.inFlight ?? 0,
    deferred: c?.deferredCount ?? 0,
    abandoned: c?.zombieCount ?? 0,
    lateCompletions: c?.late ?? 0,
  };
}
