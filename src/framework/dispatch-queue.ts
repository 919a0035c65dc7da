/**
 * The dispatch queue: handing requests to drivers in order, holding them while a driver pushes
 * back (ERESTART) or a batch gathers, and the return queue that delivers completions in a later
 * turn.
 */
import { performance } from 'node:perf_hooks';
import { KCryptoError } from '../errors.js';
import { CRYPTO_F_BATCH, CRYPTO_F_DONE, CRYPTO_HINT_MORE } from './constants.js';
import { bufLength, type Driver, type FrameworkErrnos } from './driver.js';
import { type CryptKop, CryptoOp, opStateOf } from './structures.js';

export class DispatchQueue {
  private returnQueue: (CryptoOp | CryptKop)[] = [];
  private returnScheduled = false;

  /**
   * `done` completes a request a driver failed at once; `flushKeying` sends what waits in a
   * driver's queue of keying operations (kdispatch.ts).
   */
  constructor(
    private readonly errnos: FrameworkErrnos,
    private readonly done: (crp: CryptoOp) => void,
    private readonly flushKeying: (d: Driver) => void,
  ) {}

  /** Hands `crp` to driver `d`, or queues it there. */
  submit(crp: CryptoOp, d: Driver): void {
    const st = opStateOf(crp);
    st.owner = d;
    d.stats.requests++;
    d.stats.bytes += bufLength(crp.buf);
    // Latency is sampled: every one of a driver's first requests, then one in eight (two clock
    // readings cost as much as a small request's dispatch).
    st.startedAt = d.stats.requests <= 64 || (d.stats.requests & 7) === 0 ? performance.now() : -1;
    // Behind a blocked driver, a batch being gathered, or earlier requests: keep the order.
    if (d.blocked || d.queue.length > 0 || crp.flags & CRYPTO_F_BATCH) {
      d.queue.push(crp);
      if (!d.blocked) this.schedule(d);
      return;
    }
    this.invoke(d, crp, 0);
  }

  /** Returns false when the driver pushed back (ERESTART): the request went back to the queue head. */
  private invoke(d: Driver, crp: CryptoOp, hint: number): boolean {
    d.inFlight.add(crp);
    let rc: number;
    try {
      rc = d.impl!.process(d.arg, crp, hint);
    } catch (err) {
      rc = err instanceof KCryptoError ? err.errno : this.errnos.EINVAL;
    }
    if (rc === this.errnos.ERESTART) {
      d.inFlight.delete(crp);
      d.blocked = true;
      d.stats.blocks++;
      d.queue.unshift(crp);
      return false;
    }
    if (rc !== 0 && !(crp.flags & CRYPTO_F_DONE)) {
      crp.etype = rc;
      this.done(crp);
    }
    return true;
  }

  /** Takes `crp` out of its driver's queue when it waits there, never handed over; true if it did. */
  withdraw(crp: CryptoOp): boolean {
    const d = opStateOf(crp).owner;
    const i = d === null ? -1 : d.queue.indexOf(crp);
    if (i < 0) return false;
    d!.queue.splice(i, 1);
    return true;
  }

  /** Flushes driver `d`'s queues in a microtask (once, however often asked before it runs). */
  schedule(d: Driver): void {
    if (d.flushScheduled) return;
    d.flushScheduled = true;
    queueMicrotask(() => {
      d.flushScheduled = false;
      this.flush(d);
    });
  }

  /** Submits queued requests while the driver takes them, hinting that more follow. */
  flush(d: Driver): void {
    while (!d.blocked && d.queue.length > 0) {
      const crp = d.queue.shift()!;
      if (!this.invoke(d, crp, d.queue.length > 0 ? CRYPTO_HINT_MORE : 0)) break;
    }
    this.flushKeying(d);
  }

  /**
   * Delivers `r`'s callback in a later turn. `fromDispatch`: a request that never reached a
   * driver is still answered asynchronously, so dispatch() returns before any callback, as
   * with a driver that queues.
   */
  answer(r: CryptoOp | CryptKop, fromDispatch = false): void {
    if (fromDispatch && r instanceof CryptoOp) r.flags |= CRYPTO_F_DONE;
    this.returnQueue.push(r);
    if (this.returnScheduled) return;
    this.returnScheduled = true;
    setImmediate(() => {
      this.returnScheduled = false;
      const batch = this.returnQueue;
      this.returnQueue = [];
      for (const x of batch) x.callback?.(x as never);
    });
  }
}
