/**
 * What every crypto(9) driver over a kernel interface (AF_ALG, /dev/crypto) shares: its session
 * table, running a request's descriptors on the session's transforms, describing and copying
 * sessions, and dying when its device goes. The subclasses only open sessions.
 */
import type { DriverImpl, Framework, SessionInfo, SessionOptions } from '../../framework/framework.js';
import type { CryptoIni, CryptoOp } from '../../framework/structures.js';
import { kernelSessions, stuckRequests, type KernelSessionStats } from '../../kernel/bridge/engine/index.js';
import { errnoOf } from '../../errno.js';
import { execute, errnoOfFailure, type DriverSession } from '../common/descriptor-executor.js';

/** A session of a kernel driver: its descriptor entries and what the framework may ask of it. */
export interface KernelDriverSession extends DriverSession {
  stats: (() => KernelSessionStats) | undefined;
  /** Largest input one request may carry (0: unlimited). */
  maxRequest: number;
  /** Requests must be a multiple of this many bytes (XTS on /dev/crypto). */
  alignment?: number;
  /** A hash session that keeps no state between requests (SessionInfo.stateless). */
  stateless?: boolean;
}

/** The key of an initializer, `klen` bits of it. */
export function keyOf(c: CryptoIni): Uint8Array {
  return c.key ? c.key.subarray(0, Math.ceil(c.klen / 8) || c.key.length) : new Uint8Array(0);
}

/** The initializers of a chain, in order. */
export function chainOf(cri: CryptoIni): CryptoIni[] {
  const out: CryptoIni[] = [];
  for (let c: CryptoIni | null = cri; c; c = c.next) out.push(c);
  return out;
}

/**
 * Errors that mean the device is gone: a request that outlived its deadline (a removed
 * virtio-crypto card never completes it), the device refusing (ESHUTDOWN on 6.12), no device.
 */
let deviceGone: ReadonlySet<number> | undefined;
function isDeviceGone(errno: number): boolean {
  deviceGone ??= new Set(
    ['ETIMEDOUT', 'ESHUTDOWN', 'ENODEV'].flatMap((n) => {
      try {
        return [errnoOf(n)];
      } catch {
        return [];
      }
    }),
  );
  return deviceGone.has(errno);
}

/** The part of a kernel driver the framework calls, besides newSession. */
export abstract class KernelDriver {
  protected readonly sessions = new Map<number, KernelDriverSession>();
  /** The session of the last request processed, by sid: most requests follow one of their session's. */
  private lastSid = -1n;
  private lastSession: KernelDriverSession | undefined;
  protected nextLid = 0;
  /** Set when registered. */
  id = -1;
  private gone = false;
  private reason = '';

  constructor(protected readonly fw: Framework) {
    let mine = byFramework.get(fw);
    if (!mine) byFramework.set(fw, (mine = new Set()));
    mine.add(this);
  }

  /** The framework driver's name; also the `driver` of its kernel sessions. */
  abstract get name(): string;

  /** The kernel's name of the driver behind it (cra_driver_name), '' when the kernel names none. */
  abstract get kernelDriver(): string;

  /** A device driver: its device can go away with requests in flight. */
  abstract get hardware(): boolean;

  /** Opens a session on the kernel for the chain `cri`; returns its driver-local id. */
  abstract newSession(arg: unknown, cri: CryptoIni, o?: SessionOptions): number | Promise<number>;

  /** Whether the driver takes this chain, beyond serving each of its algorithms. */
  probeSession?(arg: unknown, cri: CryptoIni): boolean;

  /** The calls the framework makes, bound to this driver, for register(). */
  impl(): DriverImpl {
    return {
      newSession: this.newSession.bind(this),
      freeSession: this.freeSession.bind(this),
      process: this.process.bind(this),
      ...(this.probeSession ? { probeSession: this.probeSession.bind(this) } : {}),
      describeSession: this.describeSession.bind(this),
      copySession: this.copySession.bind(this),
      driverStats: this.driverStats.bind(this),
    };
  }

  /**
   * Adds a session; returns its driver-local id. A session whose opens ran on the device lane
   * may come back after its device went: it is closed, and the open fails with ENXIO.
   */
  protected add(session: KernelDriverSession): number {
    if (this.gone) {
      void close(session);
      throw this.fw.error('ENXIO', `${this.name}: the device went away while the session opened (${this.reason})`, this.name);
    }
    const lid = this.nextLid++;
    this.sessions.set(lid, session);
    return lid;
  }

  freeSession(_arg: unknown, sid: bigint): Promise<void> {
    const lid = Number(sid & 0xffffffffn);
    const s = this.sessions.get(lid);
    this.sessions.delete(lid);
    this.lastSid = -1n;
    return s ? close(s) : Promise.resolve();
  }

  /**
   * The device behind this driver is gone (removed, or a request outlived its deadline). The
   * framework moves the sessions and answers the requests in flight, once, with EAGAIN; the
   * driver drops whatever its kernel sessions still complete. Every kernel session of this
   * driver is abandoned -- which device a session is bound to is invisible, and a request on
   * one bound to a removed card can be stuck for good -- and then closed, which for an
   * abandoned session lets go of it without closing its descriptors: closing a transform bound
   * to a removed virtio-crypto card hung a 6.1 guest during the removal and faulted a 6.12
   * kernel after it. They stay open until the process ends.
   */
  markGone(reason: string): void {
    if (this.gone) return;
    this.gone = true;
    this.reason = reason;
    byFramework.get(this.fw)?.delete(this);
    for (const k of kernelSessions()) if (k.driver === this.name && !k.isAbandoned) k.abandon('driver-gone', reason, 'keep');
    void this.fw.failDriver(this.id).then(() => {
      const all = [...this.sessions.values()];
      this.sessions.clear();
      this.lastSid = -1n;
      for (const s of all) void close(s);
    });
  }

  /** The devices behind it changed; see kernelDriverDevicesChanged(). Nothing to redo by default. */
  devicesChanged(): void {
    return;
  }

  get isGone(): boolean {
    return this.gone;
  }

  private readonly present = (): boolean => !this.gone;

  /** Why the driver is gone ('' while it is present). */
  get goneReason(): string {
    return this.reason;
  }

  /**
   * `gone`: 1 once the driver is gone. `stuck`: threads stuck in a request of this driver's
   * that outlived its deadline (a removed card never completes it; the thread cannot be
   * stopped and is left to the kernel). The keys are the framework's driver statistics.
   */
  driverStats(): Record<string, number> {
    return { sessions: this.sessions.size, gone: this.gone ? 1 : 0, stuck: stuckRequests(this.name) };
  }

  process(_arg: unknown, crp: CryptoOp): number {
    // Deriving the local id is BigInt arithmetic, which allocates: skipped for the session of
    // the last request.
    let s = crp.sid === this.lastSid ? this.lastSession : undefined;
    if (!s) {
      s = this.sessions.get(Number(crp.sid & 0xffffffffn));
      if (!s) return this.fw.errno('EINVAL');
      this.lastSid = crp.sid;
      this.lastSession = s;
    }
    // A device's request works on a copy of the buffer, written back only while the driver is
    // present: once it is gone, the request is resubmitted elsewhere with that same buffer.
    const r = execute(crp, s, this.hardware ? this.present : undefined);
    if (typeof r === 'number') this.finish(crp, r);
    else
      r.then(
        (rc) => this.finish(crp, rc),
        (err: unknown) => this.finish(crp, errnoOfFailure(err)),
      );
    return 0;
  }

  /** `crp` ran with `rc`: completes it, or, for a device that failed as a gone one does, fails the driver. */
  private finish(crp: CryptoOp, rc: number): void {
    if (this.gone) return;
    // Only a device can be gone; a CPU driver's failure is the request's, and it is reported.
    if (this.hardware && isDeviceGone(rc)) {
      // failDriver() completes this request (and every other in flight) with EAGAIN.
      this.markGone(
        `a request failed with ${rc === errnoOf('ETIMEDOUT') ? 'ETIMEDOUT (no completion before its deadline)' : `errno ${rc}`}`,
      );
      return;
    }
    crp.etype = rc;
    this.fw.done(crp);
  }

  describeSession(_arg: unknown, sid: bigint): SessionInfo {
    const s = this.sessions.get(Number(sid & 0xffffffffn));
    if (!s) return {};
    return {
      ...(s.maxRequest > 0 ? { maxRequestBytes: s.maxRequest } : {}),
      ...(s.stats ? { stats: s.stats } : {}),
      ...(s.alignment ? { alignment: s.alignment } : {}),
      ...(s.stateless ? { stateless: true } : {}),
    };
  }

  async copySession(_arg: unknown, sid: bigint): Promise<number> {
    const s = this.sessions.get(Number(sid & 0xffffffffn));
    const auth = s?.entries.find((e) => e.transform?.kind === 'auth');
    if (!s || !auth || auth.transform?.kind !== 'auth')
      throw this.fw.error('EINVAL', `${this.name}: only a hash session can be copied`, this.name);
    const copy = await auth.transform.copy();
    return this.add({ entries: [{ ...auth, transform: copy }], stats: s.stats, maxRequest: s.maxRequest });
  }
}

function close(s: KernelDriverSession): Promise<void> {
  const closing: Promise<void>[] = s.entries.map((e) => Promise.resolve(e.transform?.close()));
  if (s.etm) closing.push(Promise.resolve(s.etm.transform.close()));
  return Promise.all(closing).then(() => undefined);
}

const byFramework = new WeakMap<Framework, Set<KernelDriver>>();

/**
 * Marks gone every driver of `fw` over the kernel driver `kernelDriver` (AF_ALG's, and
 * /dev/crypto's when the module there uses it): the device watch saw a device behind it go.
 * Their sessions move to other drivers and their requests come back once with EAGAIN (see
 * KernelDriver.markGone). Returns the ids of the drivers it marked.
 */
/**
 * The devices behind `kernelDriver` changed (a card plugged back): its live drivers count their
 * cards again when they next open a session, so that new sessions spread over the card too.
 */
export function kernelDriverDevicesChanged(fw: Framework, kernelDriver: string): void {
  for (const d of byFramework.get(fw) ?? []) if (d.kernelDriver === kernelDriver && !d.isGone) d.devicesChanged();
}

export function markKernelDriverGone(fw: Framework, kernelDriver: string, reason: string): number[] {
  const hit = [...(byFramework.get(fw) ?? [])].filter((d) => d.kernelDriver === kernelDriver && !d.isGone);
  for (const d of hit) d.markGone(reason);
  return hit.map((d) => d.id);
}
