/**
 * Requests to the sessions of a driver with a RequestHook (the router): on dispatch the hook
 * names the session of another driver that runs the request, and the request itself goes
 * there, under that session's sid, until it completes; on completion the hook hears first, and
 * the consumer then hears under the sid it dispatched with.
 */
import { bufLength, type Driver, type FrameworkErrnos, type RequestHook } from './driver.js';
import type { SessionTable } from './sessions.js';
import { recordLatency } from './stats.js';
import type { CryptoOp } from './structures.js';
import { opStateOf } from './structures.js';

/** Moved sessions one hooked request follows before it fails (see dispatch()). */
const MAX_ROUTE_HOPS = 64;

export class Hooks {
  /**
   * `submit` hands a request to a driver, `answer` delivers one that reached none, and
   * `redispatch` starts one again (dispatch-queue.ts, framework.ts).
   */
  constructor(
    private readonly sessions: SessionTable,
    private readonly errnos: FrameworkErrnos,
    private readonly submit: (crp: CryptoOp, d: Driver) => void,
    private readonly answer: (crp: CryptoOp) => void,
    private readonly redispatch: (crp: CryptoOp) => void,
  ) {}

  /**
   * Sends `crp`, a request to a session of driver `via`, to the session its hook names. A
   * session that has moved is followed first, as the requests in flight there are.
   */
  dispatch(crp: CryptoOp, via: Driver, hook: RequestHook): void {
    const st = opStateOf(crp);
    via.stats.requests++;
    via.stats.bytes += bufLength(crp.buf);
    const from = crp.sid;
    // Sessions only ever move to new ones, so following moves ends; the bound is for a hook
    // that would not follow them.
    for (let hops = 0; ; hops++) {
      let to: bigint;
      try {
        to = hook.route(via.arg, crp);
      } catch {
        // A session being freed: no alternative left to run it. The hook placed nothing, so it
        // has nothing to settle.
        crp.sid = from;
        st.via = null;
        st.from = null;
        crp.etype = this.errnos.EINVAL;
        this.answer(crp);
        return;
      }
      const alt = this.sessions.get(to);
      st.via = via;
      st.from = from;
      crp.sid = to;
      if (alt?.movedTo === null) {
        this.submit(crp, alt.driver);
        return;
      }
      if (alt && alt.movedTo !== -1n && hops < MAX_ROUTE_HOPS) {
        // The hook follows the move and chooses again.
        crp.etype = this.errnos.EAGAIN;
        crp.sid = alt.movedTo!;
        hook.settle(via.arg, crp);
        crp.sid = from;
        crp.etype = 0;
        continue;
      }
      // No session there, or no driver left for it: the request fails, for the hooked session.
      crp.etype = alt ? this.errnos.ENOENT : this.errnos.EINVAL;
      hook.settle(via.arg, crp);
      crp.sid = from;
      st.via = null;
      st.from = null;
      this.answer(crp);
      return;
    }
  }

  /**
   * `crp`, sent on by a hook, completed on the driver it ran on (`ran`: it reached one, after
   * `latency` ms, or -1 when that was not timed). Returns false when the request was dispatched again: its alternative went
   * away (EAGAIN), and the hook follows it.
   */
  completed(crp: CryptoOp, ran: boolean, latency: number): boolean {
    const st = opStateOf(crp);
    const via = st.via!;
    const from = st.from!;
    if (ran && latency >= 0) recordLatency(via.stats, latency);
    via.hook!.settle(via.arg, crp);
    st.via = null;
    st.from = null;
    crp.sid = from;
    if (crp.etype === this.errnos.EAGAIN) {
      this.redispatch(crp);
      return false;
    }
    if (crp.etype !== 0) via.stats.errors++;
    return true;
  }
}
