/**
 * A native engine session plus its execution policy: requests run on the calling thread when
 * that is cheaper than a thread hop and the driver completes synchronously (see cost.ts),
 * otherwise on the addon's threads with completions delivered in batches (see completions.ts).
 *
 * A session with a stuck request (see deadlines.ts), or whose device went away, is abandoned:
 * its other requests in flight reject with ESHUTDOWN, later ones reject at once with ESHUTDOWN
 * (syscall `validate`), and no system call is made on its descriptors from the JavaScript
 * thread again -- closing it lets go of it, its descriptors left open.
 */
import { performance } from 'node:perf_hooks';

import type { KCryptoError } from '../../../errors.js';
import { abandonedError, closedError, inputSize, isControl, later, type Input, type Later, type RequestArgs } from './request.js';
import { loadAddon, type NativeSession } from '../addon.js';
import { errnoOf } from '../../../errno.js';
import { decodeError, QUEUED, systemError } from '../status.js';
import { sharedCompletions, type Completions, type Pending } from './completions.js';
import { chooseLane, initialCostModel, inlineLimitNs, observe, predict, timesInline, type CostModel, type Lane } from './cost.js';
import { deadlineFor, requestDeadlineMs } from './deadlines.js';
import { Lifecycle } from './lifecycle.js';
import { register, unregister } from './registry.js';
import {
  Control,
  Op,
  type AbandonCause,
  type ControlCode,
  type Execution,
  type InFlightFate,
  type KernelSessionOptions,
  type KernelSessionStats,
  type OpCode,
  type Abandonment,
} from './types.js';

const afalgWaitSyscall = (op: OpCode | ControlCode): string =>
  op === Op.HashUpdate ? 'sendmsg' : op === Control.Open ? 'setsockopt' : op === Control.Close ? 'close' : 'recvmsg';

const identity = (n: number): number => n;

/**
 * A native engine session plus its execution policy. One per kcrypto session; the driver
 * layer formats requests, this layer only runs them.
 */
export class KernelSession {
  private readonly lifecycle = new Lifecycle();
  private inFlight = 0;
  private waiting = 0;
  /** Set by close(): from then on requests are refused with EBADF. */
  private closing: Promise<void> | undefined;
  /** Set by open(): the deferred open on the session's lane. */
  private opening: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private readonly model: CostModel = initialCostModel();
  private readonly counters = { requests: 0, inline: 0, threaded: 0, deferred: 0, errors: 0, bytes: 0, timedOut: 0 };
  private readonly completions: Completions;
  private readonly ref: WeakRef<KernelSession>;
  private readonly waitSyscall: (op: OpCode | ControlCode) => string;
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
    this.completions = sharedCompletions(addon);
    const deadline = options.deadlineMs ?? requestDeadlineMs();
    if (!Number.isFinite(deadline) || deadline < 0) throw new RangeError(`deadlineMs must be a non-negative number of ms, got ${deadline}`);
    this.deadlineMs = deadline;
    this.kernelDriver = options.kernelDriver;
    this.waitSyscall = options.waitSyscall ?? afalgWaitSyscall;
    this.ref = register(this);
  }

  /**
   * Finishes a deferred open (`openAfAlg(..., deferred)`, `openDevCrypto({ deferred })`) on the device lane. Requests sent
   * meanwhile wait for it on their thread and fail as it did. Rejects with the open's KCryptoError.
   */
  open(): Promise<void> {
    this.opening ??= this.control(Control.Open);
    return this.opening;
  }

  /** Runs a session control on the device lane, counted in flight so that close() waits for it. */
  private control(code: ControlCode): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.submit(later(code, null, null, null, 0, -1, 0, () => undefined, resolve, reject, true)),
    );
  }

  /** Predicted cost of a request of `size` bytes, in ns. */
  predict(size: number): number {
    return predict(this.model, size);
  }

  /** The session's measured cost model. */
  get costModel(): Readonly<CostModel> {
    return this.model;
  }

  /** The largest predicted cost that runs inline (ns); see cost.ts. */
  inlineLimitNs(): number {
    return inlineLimitNs(this.completions.hop.ns);
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
      abandonment: this.lifecycle.abandonment,
    };
  }

  private lane(size: number): Lane {
    return chooseLane({
      synchronous: this.synchronous,
      execution: this.execution,
      alone: this.inFlight + this.waiting === 0,
      predictedNs: this.predict(size),
      hopNs: this.completions.hop.ns,
      budgetLeft: this.completions.budgetLeft,
    });
  }

  private observe(size: number, ns: number): void {
    observe(this.model, size, ns);
  }

  /**
   * Runs one request and resolves with `map(output bytes)`; rejects with a KCryptoError.
   * Buffers are referenced, not copied, until the request completes. `map` runs synchronously
   * on success, so a request costs one promise whichever way it runs.
   *
   * A device session's request writes `output` only while the session is open (the thread
   * copies the input in and has the kernel write into a buffer of its own, then copies the
   * result out), so a late return from a removed card, or after a worker was torn down, touches
   * none of the caller's buffers. `outputDisposable` (a caller that never reads `output` after a
   * failure) is passed on; the device lane copies such outputs as well.
   */
  request<T = number>(...args: RequestArgs<T>): Promise<T> {
    try {
      const r = this.requestNow(...args);
      return r instanceof Promise ? r : Promise.resolve(r);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * {@link request}, answered at once when the request runs inline: the value, or the
   * KCryptoError thrown; a promise when it runs on a thread or waits for a later turn. A caller
   * that can take a value now (the descriptor executor) saves a promise and a microtask per
   * layer on every small request.
   */
  requestNow<T = number>(
    op: OpCode,
    input: Input,
    output: Uint8Array | null,
    iv: Uint8Array | null,
    assocLen: number,
    stream = -1,
    map: (bytes: number) => T = identity as unknown as (bytes: number) => T,
    outputDisposable = false,
  ): T | Promise<T> {
    if (this.closing) throw closedError(this.driver);
    if (this.lifecycle.abandonment) throw abandonedError(this.driver, this.lifecycle.abandonment);
    const size = inputSize(input) + (op === Op.Random || op === Op.HashFinal ? (output?.length ?? 0) : 0);
    this.counters.requests++;
    this.counters.bytes += size;
    switch (this.lane(size)) {
      case 'inline': {
        const result = this.runInline(op, input, output, iv, assocLen, stream, size);
        if (result >= 0) return map(result);
        throw this.error(result);
      }
      case 'threads':
        return new Promise<T>((resolve, reject) =>
          this.submit(later(op, input, output, iv, assocLen, stream, size, map, resolve, reject, outputDisposable)),
        );
      case 'defer':
        this.counters.deferred++;
        this.waiting++;
        return new Promise<T>((resolve, reject) => {
          this.completions.defer(() => {
            this.waiting--;
            this.runLater(later(op, input, output, iv, assocLen, stream, size, map, resolve, reject, outputDisposable), false);
          });
        });
      case 'gather':
        this.waiting++;
        return new Promise<T>((resolve, reject) => {
          queueMicrotask(() => {
            this.waiting--;
            // Company came (requests issued together, as by Promise.all): a thread, where it
            // runs beside them; still alone: here, where a hop would only add to its time.
            this.runLater(
              later(op, input, output, iv, assocLen, stream, size, map, resolve, reject, outputDisposable),
              this.inFlight + this.waiting > 0,
            );
          });
        });
    }
  }

  /** Runs a request that waited (a later turn, a microtask): inline, or on a thread when `threads`. */
  private runLater(r: Later, threads: boolean): void {
    // Made before close(), which waits for it (see `waiting`): it runs. Only an abandoned
    // session refuses it.
    if (this.lifecycle.abandonment) {
      r.reject(abandonedError(this.driver, this.lifecycle.abandonment));
      this.checkDrained();
      return;
    }
    // It waited (a microtask, a later turn): its input may have been detached meanwhile, and
    // would run on nothing. Refused as the addon refuses one detached before it crossed.
    if (r.size !== inputSize(r.input) + (r.op === Op.Random || r.op === Op.HashFinal ? (r.output?.length ?? 0) : 0)) {
      r.reject(new TypeError("kcrypto: the request's input was detached before it reached the addon"));
      this.checkDrained();
      return;
    }
    if (threads) {
      this.submit(r);
      return;
    }
    const result = this.runInline(r.op as OpCode, r.input, r.output, r.iv, r.assocLen, r.stream, r.size);
    this.checkDrained();
    if (result < 0) return r.reject(this.error(result));
    try {
      r.resolve(r.map(result));
    } catch (err) {
      r.reject(err);
    }
  }

  private runInline(
    op: OpCode,
    input: Input,
    output: Uint8Array | null,
    iv: Uint8Array | null,
    assocLen: number,
    stream: number,
    size: number,
  ): number {
    const timed = timesInline(this.model, this.counters.inline++);
    const t0 = timed ? performance.now() : 0;
    const result = this.native.run(op, input, output, iv, assocLen, stream);
    if (timed) {
      const ns = (performance.now() - t0) * 1e6;
      this.completions.chargeInline(ns);
      this.observe(size, ns);
    } else this.completions.chargeInline(this.predict(size));
    if (result < 0) this.counters.errors++;
    return result;
  }

  private submit(r: Later): void {
    const p = r as Pending;
    p.id = this.completions.nextRequestId();
    p.session = this;
    p.aloneSince = this.completions.inFlight === 0 ? performance.now() : -1;
    const deadline = this.deadlineMs > 0 ? deadlineFor(this.deadlineMs, r.size) : 0;
    this.completions.add(p, deadline);
    this.inFlight++;
    const control = isControl(r.op);
    if (!control) this.counters.threaded++;
    // A CPU session's requests go to the CPU lane; a device's, and every open and close, to the device lane.
    this.completions.submissions.queue(this.native, p, this.synchronous && !control ? 0 : 1, deadline);
  }

  /** @internal called by the completion dispatcher: the addon refused to queue `p`. */
  refused(p: Pending, err: Error): void {
    this.inFlight--;
    this.counters.errors++;
    p.reject(err);
    this.checkDrained();
  }

  /** @internal called by the completion dispatcher */
  complete(p: Pending, result: number, ns: number): void {
    this.inFlight--;
    // An open or close says nothing about what a request costs.
    if (!isControl(p.op)) this.observe(p.size, ns);
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
      // refusing an abandoned session, which is abandoned here already.)
      if (!this.synchronous && err.syscall !== 'validate' && (err.code === 'ESHUTDOWN' || err.code === 'ENODEV')) {
        this.abandon('device-error', `the device failed a request with ${err.code}`, 'ESHUTDOWN');
      }
    }
    // Requests settle before close() does: their promises were resolved above, first.
    this.checkDrained();
  }

  /** @internal called by the completion dispatcher: a thread has been inside `p` past its deadline (it is stuck). */
  overdue(p: Pending): void {
    if (!this.completions.abandon(p.id, true)) return;
    this.inFlight--;
    this.counters.errors++;
    this.counters.timedOut++;
    const ms = deadlineFor(this.deadlineMs, p.size);
    p.reject(systemError(errnoOf('ETIMEDOUT'), this.waitSyscall(p.op), this.driver, `no completion within ${Math.round(ms)} ms`));
    this.abandon('deadline', `a request did not complete within ${Math.round(ms)} ms`, 'ESHUTDOWN');
    this.checkDrained();
  }

  /**
   * @internal called by the completion dispatcher: `p` waited in its lane's queue past its
   * deadline while every thread of the lane was stuck, and was dropped without running. The
   * session itself is not at fault, so it stays open.
   */
  overdueInQueue(p: Pending): void {
    if (!this.completions.drop(p.id)) return;
    this.inFlight--;
    this.counters.errors++;
    this.counters.timedOut++;
    p.reject(
      systemError(
        errnoOf('ETIMEDOUT'),
        'validate',
        this.driver,
        'no thread was free to run the request before its deadline (every thread of its lane is stuck in a device)',
      ),
    );
    this.checkDrained();
  }

  /** Whether the session was abandoned (see {@link KernelSession.abandon}). */
  get isAbandoned(): boolean {
    return this.lifecycle.abandonment !== null;
  }

  /** Why the session was abandoned, or null while it is open. */
  get abandonment(): Abandonment | null {
    return this.lifecycle.abandonment;
  }

  /**
   * Calls `listener` once when the session is abandoned (at once, in a microtask, if it is
   * already). The hook for migrating the session's work elsewhere. Returns the unsubscribe
   * function.
   */
  onAbandoned(listener: (abandonment: Abandonment) => void): () => void {
    return this.lifecycle.onAbandoned(listener);
  }

  /**
   * Abandons the session: new requests reject at once with ESHUTDOWN (syscall `validate`), no
   * system call touches its descriptors from this thread again (close() hands them to a thread
   * of their own), and its requests in flight either reject now with `inFlight` or, with
   * `keep`, complete on their own or at their deadline -- those already inside the kernel; the
   * ones still queued for a thread never start, and reject with ESHUTDOWN (syscall `validate`).
   * Marking an abandoned session again only applies the new `inFlight` to what is still in
   * flight. {@link onAbandoned} listeners run once, synchronously, after the session is marked and
   * before requests in flight are rejected.
   */
  abandon(cause: AbandonCause, detail: string, inFlight: InFlightFate = 'ESHUTDOWN'): void {
    if (this.lifecycle.abandon(cause, detail)) {
      this.native.abandon();
      this.lifecycle.notify();
    }
    const threaded = inFlight === 'keep' ? [] : this.completions.pendingOf(this);
    if (threaded.length > 0) {
      const errno = errnoOf(inFlight);
      for (const { id } of threaded) {
        const p = this.completions.abandon(id, false);
        if (!p) continue;
        this.inFlight--;
        this.counters.errors++;
        p.reject(systemError(errno, this.waitSyscall(p.op), this.driver, `session abandoned (${this.lifecycle.abandonment!.detail})`));
      }
      this.checkDrained();
    }
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
    return this.closing !== undefined;
  }

  /**
   * Waits for requests in flight, then releases every descriptor. Idempotent. An abandoned
   * session's descriptors are not closed but left open until the process ends: closing a
   * transform bound to a removed virtio-crypto card hung the 6.1 lab guest and faulted in the
   * 6.12 kernel.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    unregister(this.ref);
    this.closing = new Promise<void>((resolve) => {
      const closed = (): void => {
        if (this.lifecycle.state === 'open') this.lifecycle.state = 'closed';
        resolve();
      };
      const finish = (): void => {
        this.drained = undefined;
        if (this.lifecycle.state === 'abandoned') {
          this.native.drop();
          resolve();
        } else if (!this.synchronous) {
          // A device's teardown is a round trip of its own: on the device lane. Abandoned
          // meanwhile, the addon keeps the descriptors instead (see drop()).
          this.control(Control.Close).then(closed, closed);
        } else {
          this.native.close();
          closed();
        }
      };
      if (this.inFlight === 0 && this.waiting === 0) finish();
      else this.drained = finish;
    });
    return this.closing;
  }
}
