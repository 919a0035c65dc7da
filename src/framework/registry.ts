/**
 * The driver registry: driver ids, the algorithms and keying operations each registered, and
 * the choice of a driver for a session's chain.
 */
import { CRYPTOCAP_F_CLEANUP, CRYPTOCAP_F_HARDWARE, CRYPTOCAP_F_SOFTWARE } from './constants.js';
import { chainAlgs, frameworkError, newDriver, type Driver, type DriverImpl } from './driver.js';
import type { CryptoIni } from './structures.js';

export class DriverRegistry {
  private readonly drivers = new Map<number, Driver>();
  private nextId = 0;
  /** The driver that serves split sessions (attachSplitter()); never chosen by algorithm. */
  splitter: Driver | undefined;
  /** The driver that serves routed sessions (attachRouter()); never chosen by algorithm. */
  router: Driver | undefined;

  /** A new driver id (crypto_get_driverid); `name` is for find(). */
  add(flags: number, name = `driver${this.nextId}`): number {
    const id = this.nextId++;
    this.drivers.set(id, newDriver(id, name, flags));
    return id;
  }

  /** Driver `id`, whatever its state. */
  get(id: number): Driver | undefined {
    return this.drivers.get(id);
  }

  /** Driver `id`, which must be registered and not withdrawn. */
  live(id: number): Driver {
    const d = this.drivers.get(id);
    if (!d || d.flags & CRYPTOCAP_F_CLEANUP) throw frameworkError('EINVAL', `no driver ${id}`);
    return d;
  }

  /** Whether `d` is one of this registry's drivers. */
  owns(d: Driver): boolean {
    return this.drivers.get(d.id) === d;
  }

  all(): IterableIterator<Driver> {
    return this.drivers.values();
  }

  /** The first register() or kregister() call must give the driver's functions; later ones may omit them. */
  private bind(d: Driver, impl: DriverImpl | undefined, arg: unknown, what: string): void {
    if (d.impl) return;
    if (!impl) throw frameworkError('EINVAL', `driver ${d.id}: ${what}`);
    d.impl = impl;
    d.arg = arg;
  }

  /** crypto_register: the driver supports `alg` (operations up to `maxOpLen` bits). */
  register(id: number, alg: number, maxOpLen: number, flags: number, impl?: DriverImpl, arg?: unknown): void {
    const d = this.live(id);
    this.bind(d, impl, arg, 'the first register() must give newSession, freeSession and process');
    d.algs.set(alg, { maxOpLen, flags });
  }

  /** crypto_kregister: the driver supports keying operation `kalg` (CRK_*). */
  kregister(id: number, kalg: number, flags: number, impl?: DriverImpl, arg?: unknown): void {
    const d = this.live(id);
    this.bind(d, impl, arg, "the first kregister() must give the driver's functions");
    if (!d.impl!.kprocess) throw frameworkError('EINVAL', `driver ${id}: kregister() needs kprocess`);
    d.kalgs.set(kalg, flags);
  }

  /** The id of the driver registered under `name`, or -1. */
  find(name: string): number {
    for (const d of this.drivers.values()) if (d.name === name && !(d.flags & CRYPTOCAP_F_CLEANUP)) return d.id;
    return -1;
  }

  /** Whether `d` can open a session for `cri`: it has every algorithm and takes the chain. */
  private takes(d: Driver, cri: CryptoIni, algs: readonly number[]): boolean {
    return (
      !(d.flags & CRYPTOCAP_F_CLEANUP) && d.impl !== null && algs.every((a) => d.algs.has(a)) && (d.impl.probeSession?.(d.arg, cri) ?? true)
    );
  }

  /** Every driver `crid` allows that takes `cri` whole, hardware first (the splitter and router are none). */
  candidates(cri: CryptoIni, crid: number): Driver[] {
    const algs = chainAlgs(cri);
    const flags = crid & (CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE);
    return [...this.drivers.values()]
      .filter((d) => d !== this.router && d !== this.splitter && (d.flags & flags) !== 0 && this.takes(d, cri, algs))
      .sort((a, b) => (b.flags & CRYPTOCAP_F_HARDWARE) - (a.flags & CRYPTOCAP_F_HARDWARE));
  }

  /**
   * The driver for a new session on `cri`: driver `crid` itself, or one with the
   * CRYPTOCAP_F_HARDWARE / _SOFTWARE flags `crid` gives (hardware preferred when both; among
   * equals, the one with the fewest sessions), other than `exclude`.
   */
  select(cri: CryptoIni, crid: number, exclude?: Driver): Driver | undefined {
    const algs = chainAlgs(cri);
    const flags = crid & (CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE);
    const usable = (d: Driver): boolean => d !== exclude && this.takes(d, cri, algs);
    if (flags === 0) {
      const d = this.drivers.get(crid);
      return d && usable(d) ? d : undefined;
    }
    const pick = (mask: number): Driver | undefined =>
      [...this.drivers.values()].filter((d) => usable(d) && d.flags & mask).sort((a, b) => a.sessions - b.sessions)[0];
    return (
      (flags & CRYPTOCAP_F_HARDWARE ? pick(CRYPTOCAP_F_HARDWARE) : undefined) ??
      (flags & CRYPTOCAP_F_SOFTWARE ? pick(CRYPTOCAP_F_SOFTWARE) : undefined)
    );
  }

  /** The driver for keying operation `op`: one that registered it, hardware first. */
  keying(op: number): Driver | undefined {
    const candidates = [...this.drivers.values()].filter((d) => !(d.flags & CRYPTOCAP_F_CLEANUP) && d.kalgs.has(op));
    return candidates.find((x) => x.flags & CRYPTOCAP_F_HARDWARE) ?? candidates[0];
  }
}
