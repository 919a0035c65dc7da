/**
 * Keying operations (crypto_kdispatch): each goes to a driver that registered its CRK_*
 * operation, hardware first, through that driver's queue of keying operations, with the same
 * push-back (ERESTART) as requests.
 */
import { CRYPTO_HINT_MORE } from './constants.js';
import type { Driver, FrameworkErrnos } from './driver.js';
import type { DriverRegistry } from './registry.js';
import type { CryptKop } from './structures.js';

export class Keying {
  /**
   * `flush` sends what waits in both of a driver's queues (dispatch-queue.ts); `done` completes
   * a keying operation (crypto_kdone).
   */
  constructor(
    private readonly registry: DriverRegistry,
    private readonly errnos: FrameworkErrnos,
    private readonly flushDriver: (d: Driver) => void,
    private readonly done: (krp: CryptKop) => void,
  ) {}

  /** crypto_kdispatch. */
  dispatch(krp: CryptKop | null | undefined): number {
    if (!krp || typeof krp.callback !== 'function') return this.errnos.EINVAL;
    krp.status = 0;
    const d = this.registry.keying(krp.op);
    if (!d) {
      krp.status = this.errnos.EOPNOTSUPP;
      this.done(krp);
      return 0;
    }
    krp.hid = d.id;
    d.stats.requests++;
    d.kqueue.push(krp);
    this.flushDriver(d);
    return 0;
  }

  /** Starts queued keying operations while the driver takes them, hinting that more follow. */
  flush(d: Driver): void {
    while (!d.kblocked && d.kqueue.length > 0) {
      const krp = d.kqueue.shift()!;
      const rc = d.impl!.kprocess!(d.arg, krp, d.kqueue.length > 0 ? CRYPTO_HINT_MORE : 0);
      if (rc === this.errnos.ERESTART) {
        d.kblocked = true;
        d.stats.blocks++;
        d.kqueue.unshift(krp);
        break;
      }
      if (rc !== 0) {
        krp.status = rc;
        this.done(krp);
      }
    }
  }

  /** The keying operations waiting on a withdrawn driver come back with EAGAIN. */
  drain(d: Driver): void {
    for (const krp of d.kqueue.splice(0)) {
      krp.status = this.errnos.EAGAIN;
      this.done(krp);
    }
  }
}
