/**
 * Sessions and their migration: each session remembers its chain, so that when its driver
 * withdraws an algorithm or goes away it can be opened again on another driver, and the
 * requests that meet the old session learn the new sid (EAGAIN).
 */
import { CRYPTOCAP_F_CLEANUP, CRYPTOCAP_F_HARDWARE, CRYPTOCAP_F_SOFTWARE } from './constants.js';
import { frameworkError, type Driver, type FrameworkErrnos, type SessionInfo, type SessionOptions } from './driver.js';
import type { DriverRegistry } from './registry.js';
import type { CryptoIni, CryptoOp } from './structures.js';

export interface Session {
  sid: bigint;
  driver: Driver;
  cri: CryptoIni;
  /**
   * Set once the session has moved: requests for it come back with EAGAIN and this sid; -1n
   * when no driver was left to take it.
   */
  movedTo: bigint | null;
  options: SessionOptions;
  /** What the driver says of the session: asked once, on first use (it does not change). */
  info?: SessionInfo & { driver: string; driverId: number };
}

const sidOf = (d: Driver, lid: number): bigint => (BigInt(d.id) << 32n) | BigInt(lid >>> 0);

export class SessionTable {
  private readonly sessions = new Map<bigint, Session>();
  /**
   * The two sessions found last. A program's requests mostly go to one session in a row, and
   * every request looks sessions up at least twice (its size limits, dispatch -- a routed
   * session's on two sids: its own and the alternative it sends small requests to directly); a
   * Map hashes a BigInt key anew on each lookup, about 25 ns of a small request here.
   */
  private last: Session | undefined;
  private previous: Session | undefined;

  /** `done` completes the queued requests of a session that moved. */
  constructor(
    private readonly registry: DriverRegistry,
    private readonly errnos: FrameworkErrnos,
    private readonly done: (crp: CryptoOp) => void,
  ) {}

  get(sid: bigint): Session | undefined {
    const last = this.last;
    if (last?.sid === sid) return last;
    const previous = this.previous;
    if (previous?.sid === sid) {
      this.previous = last;
      this.last = previous;
      return previous;
    }
    const s = this.sessions.get(sid);
    if (s !== undefined) {
      this.previous = last;
      this.last = s;
    }
    return s;
  }

  /** A new session on driver `d`; resolves with its sid. */
  async open(d: Driver, cri: CryptoIni, options: SessionOptions = {}): Promise<bigint> {
    const lid = await d.impl!.newSession(d.arg, cri, options);
    const sid = sidOf(d, lid);
    if (this.sessions.has(sid)) throw frameworkError('EINVAL', `driver ${d.name} returned session ${lid} twice`, d.name);
    this.sessions.set(sid, { sid, driver: d, cri: cri.clone(), movedTo: null, options });
    d.sessions++;
    return sid;
  }

  /** The name of the driver serving `sid`, its limits and counters. */
  info(sid: bigint): (SessionInfo & { driver: string; driverId: number }) | undefined {
    const s = this.get(sid);
    if (s?.movedTo !== null) return undefined;
    // Read for every request of the API (its size limits), so built once.
    return (s.info ??= { ...(s.driver.impl!.describeSession?.(s.driver.arg, sid) ?? {}), driver: s.driver.name, driverId: s.driver.id });
  }

  /** A session with a copy of `sid`'s running hash state, on the same driver. */
  async copy(sid: bigint): Promise<bigint> {
    const s = this.sessions.get(sid);
    if (s?.movedTo !== null) throw frameworkError('EINVAL', `no session ${sid}`);
    const d = s.driver;
    if (!d.impl!.copySession) throw frameworkError('EOPNOTSUPP', `driver ${d.name} cannot copy a session`, d.name);
    const lid = await d.impl!.copySession(d.arg, sid);
    const copy = sidOf(d, lid);
    this.sessions.set(copy, { sid: copy, driver: d, cri: s.cri.clone(), movedTo: null, options: s.options });
    d.sessions++;
    return copy;
  }

  /** crypto_freesession. A gone driver is not called: its device can block whoever touches it. */
  async free(sid: bigint): Promise<number> {
    const s = this.sessions.get(sid);
    if (!s) return this.errnos.EINVAL;
    this.sessions.delete(sid);
    if (this.last === s) this.last = undefined;
    if (this.previous === s) this.previous = undefined;
    if (s.movedTo === null) {
      s.driver.sessions--;
      if (!s.driver.gone) await s.driver.impl!.freeSession(s.driver.arg, sid);
    }
    // The saved chain is this table's own copy (kept to migrate the session): its keys go with it.
    for (let c: CryptoIni | null = s.cri; c; c = c.next) c.key?.fill(0);
    return 0;
  }

  /**
   * Moves the sessions of `d` selected by `which` to other drivers: each gets a new session
   * from its saved chain; the requests waiting in the driver's queue come back with EAGAIN and
   * the new sid; later requests with the old sid get the same answer. Requests already handed
   * to the driver complete as the driver completes them.
   */
  async migrate(d: Driver, which: (s: Session) => boolean): Promise<void> {
    const moving = [...this.sessions.values()].filter((s) => s.driver === d && s.movedTo === null && which(s));
    for (const s of moving) {
      const target =
        this.registry.select(s.cri, CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE, d) ??
        (s.cri.next && this.registry.splitter !== d ? this.registry.splitter : undefined);
      let to: bigint | null = null;
      if (target) {
        try {
          // A copy of its own: the driver may keep it, and this entry's is wiped when freed.
          to = await this.open(target, s.cri.clone(), s.options);
        } catch {
          to = null;
        }
      }
      s.movedTo = to ?? -1n;
      d.sessions--;
      d.stats.migrated++;
      if (!(d.flags & CRYPTOCAP_F_CLEANUP) && !d.gone) await Promise.resolve(d.impl!.freeSession(d.arg, s.sid)).catch(() => undefined);
    }
    const stay: CryptoOp[] = [];
    for (const crp of d.queue.splice(0)) {
      const s = this.sessions.get(crp.sid);
      if (s && s.movedTo !== null) {
        // No driver left for it: ENOENT rather than EAGAIN, which would invite a resubmit to nowhere.
        if (s.movedTo === -1n) crp.etype = this.errnos.ENOENT;
        else {
          crp.etype = this.errnos.EAGAIN;
          crp.sid = s.movedTo;
        }
        this.done(crp);
      } else stay.push(crp);
    }
    d.queue.push(...stay);
  }
}
