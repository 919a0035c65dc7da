/**
 * Device-removal watch: notices a kernel crypto device going away (a virtio-crypto card pulled,
 * an accelerator unbound or its module unloaded) and reports which devices and which kernel
 * crypto drivers (cra_driver_name) are affected.
 *
 * How a crypto driver maps to its devices (found in the lab, 6.1 and 6.12): each device driver
 * registers its algorithms under its module's name, which `/proc/crypto` prints as `module`
 * (`virtio_crypto` for `virtio_crypto_aes_cbc`, `virtio-crypto-rsa`, `virtio-pkcs1-rsa`); the
 * same module's bus driver is `/sys/bus/<bus>/drivers/<driver>`, whose `module` link names it,
 * and whose other links are the devices bound to it (`virtio2` → `/sys/devices/pci0000:00/
 * 0000:00:04.0/virtio2`, the parent being the PCI function of the card). A device leaves that
 * list when its removal starts, before the driver's remove() runs; the algorithms stay in
 * `/proc/crypto` while any device of the driver remains (virtio-crypto registers them once for
 * all its cards) and leave with the last one.
 *
 * What cannot be known from user space is which device a session is bound to: the kernel picks
 * a card when the key is set (virtio-crypto: the one with the fewest sessions) and shows it
 * nowhere. So when one of several devices of a driver goes, every session on that driver may be
 * on it.
 *
 * The watch polls at a modest interval while something needs it, on unref'd timers, so it never
 * keeps the process alive. sysfs offers no change notification that a poll could be replaced by
 * short of a netlink uevent socket. A poll lists the watched bus drivers' directories; it reads
 * `/proc/crypto`, several times dearer than the listing, only when that listing changed,
 * and every {@link PROC_EVERY}th poll for drivers that go without a device leaving sysfs (a
 * module unloaded). It reads synchronously: procfs and sysfs are generated in memory (in the
 * lab, both kernels answered at once throughout a card's removal), and so no descriptor of the
 * watch stays open across event-loop turns, where descriptor-leak checks and other code would
 * see it.
 */
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';

import { kernelSessions, onKernelSessionOpen, type KernelSession } from '../bridge/engine/index.js';
import { parseProcCrypto } from './proc-crypto.js';

/** A device bound to a bus driver whose module registers kernel crypto algorithms. */
export interface CryptoDevice {
  /** The sysfs bus: `virtio`, `pci`, `platform`. */
  bus: string;
  /** The device's name on that bus: `virtio2`, `0000:00:04.0`. */
  name: string;
  /** The bus driver it is bound to: `virtio_crypto`. */
  sysfsDriver: string;
  /** That driver's module, as `/proc/crypto` names it. */
  module: string;
  /** The PCI function the device sits on (a virtio device's virtio-pci transport), when it sits on one. */
  pciAddress?: string;
  /** The device's sysfs path, resolved. */
  path: string;
}

/** What the `removed` event reports. */
export interface DeviceRemoval {
  /**
   * Devices no longer bound to their driver, or whose driver's module no longer registers
   * crypto algorithms (they serve none any more).
   */
  devices: CryptoDevice[];
  /**
   * Kernel crypto drivers the removed devices served: any session on one of them may have been
   * on a removed device.
   */
  kernelDrivers: string[];
  /** Of the drivers of watched modules, those gone from `/proc/crypto`: no device serves them any more. */
  vanished: string[];
  /** Devices still bound to the drivers the removed devices were bound to. */
  remaining: CryptoDevice[];
}

/** What the `added` event reports. */
export interface DeviceAddition {
  /** Devices bound to their driver since the previous poll (a card plugged in, or plugged back). */
  devices: CryptoDevice[];
  /** Kernel crypto drivers the added devices serve (their module's, as `/proc/crypto` lists them now). */
  kernelDrivers: string[];
}

/** Options of a {@link DeviceWatch}. */
export interface DeviceWatchOptions {
  /** Poll period in ms (default 1000). */
  intervalMs?: number;
  /** Where sysfs is mounted (default `/sys`). */
  sysfsRoot?: string;
  /** The crypto algorithm list (default `/proc/crypto`). */
  procCrypto?: string;
  /** Buses whose drivers are searched for crypto devices (default virtio, pci, platform). */
  buses?: readonly string[];
}

interface Snapshot {
  devices: Map<string, CryptoDevice>;
  /** Every driver name in /proc/crypto (larvals excluded). */
  drivers: Set<string>;
  /** Driver names by module, for modules other than the kernel's own. */
  byModule: Map<string, Set<string>>;
}

/** Entries of a bus driver directory that are not bound devices. */
const NOT_DEVICES = new Set(['bind', 'unbind', 'uevent', 'module', 'new_id', 'remove_id']);
const PCI_ADDRESS = /^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

const DEFAULT_INTERVAL_MS = 1000;
/** Polls between two reads of `/proc/crypto` while the device listing stays the same. */
export const PROC_EVERY = 10;

/**
 * Polls for removed crypto devices and emits `removed` with a {@link DeviceRemoval}, and for
 * devices that appeared (a card plugged back) and emits `added` with a {@link DeviceAddition}
 * (after `removed` when one poll sees both). Poll while
 * {@link watchWhile} has a demand that is still true; {@link poll} polls once, now.
 */
export class DeviceWatch extends EventEmitter<{ removed: [DeviceRemoval]; added: [DeviceAddition] }> {
  readonly intervalMs: number;
  private readonly sysfs: string;
  private readonly procCrypto: string;
  private readonly buses: readonly string[];
  private readonly demands = new Set<() => boolean>();
  private baseline: Snapshot | null = null;
  /** Watched bus driver directories, for the module set they were found for. */
  private driverDirs: { key: string; dirs: { bus: string; driver: string; module: string; dir: string }[] } | null = null;
  private readonly paths = new Map<string, string>();
  /** Modules whose devices the watch has seen. */
  private readonly seenModules = new Set<string>();
  /** Polls since /proc/crypto was last read. */
  private procAge = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<DeviceRemoval | null> | null = null;
  private again = false;
  /** The last poll's failure (no sysfs, no /proc/crypto), or null. */
  lastError: Error | null = null;

  constructor(options: DeviceWatchOptions = {}) {
    super();
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.sysfs = options.sysfsRoot ?? '/sys';
    this.procCrypto = options.procCrypto ?? '/proc/crypto';
    this.buses = options.buses ?? ['virtio', 'pci', 'platform'];
  }

  /** Whether the watch is polling. */
  get active(): boolean {
    return this.timer !== undefined || this.polling !== null;
  }

  /**
   * Polls while `demand()` is true (checked before each poll); several demands are or-ed. The
   * first poll after a pause only takes the baseline: a device that went while nobody watched
   * is not reported.
   */
  watchWhile(demand: () => boolean): void {
    this.demands.add(demand);
    if (!this.active) void this.tick();
    // Asked during a poll that no tick runs (poll() called directly, an event's listener):
    // start ticking once it is over, unless a tick did.
    else if (this.polling && this.timer === undefined)
      void this.polling
        .catch(() => null)
        .then(() => {
          if (!this.active && this.demands.size > 0) void this.tick();
        });
  }

  /** Polls as soon as possible (after a poll in progress), while watching. */
  pollNow(): void {
    if (this.polling) {
      this.again = true;
      return;
    }
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.tick();
  }

  /** Stops polling and forgets the demands and the baseline. */
  stop(): void {
    this.demands.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.baseline = null;
  }

  /** The crypto devices present now. */
  devices(): CryptoDevice[] {
    return [...this.scan().devices.values()];
  }

  /**
   * Polls once: compares what is present with the previous poll, emits `removed` when devices
   * or drivers went and `added` when devices appeared, and returns the removal (null when
   * nothing went, or on the first poll).
   */
  poll(): Promise<DeviceRemoval | null> {
    // Asynchronous for its callers, so that a later version can read without blocking; one
    // poll at a time all the same.
    this.polling ??= Promise.resolve()
      .then(() => {
        const next = this.nextSnapshot();
        this.lastError = null;
        const prev = this.baseline;
        this.baseline = next;
        const removal = prev ? diff(prev, next) : null;
        const addition = prev ? added(prev, next) : null;
        if (removal) this.emit('removed', removal);
        if (addition) this.emit('added', addition);
        return removal;
      })
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    for (const d of this.demands) if (!d()) this.demands.delete(d);
    if (this.demands.size === 0) {
      this.baseline = null;
      return;
    }
    do {
      this.again = false;
      try {
        await this.poll();
      } catch (err) {
        // Nothing to watch here (no sysfs, no /proc/crypto): stop rather than spin.
        this.lastError = err instanceof Error ? err : new Error(String(err));
        this.stop();
        return;
      }
    } while (this.again);
    if (this.demands.size === 0) return;
    this.timer = setTimeout(() => void this.tick(), this.intervalMs).unref();
  }

  /** The devices now, with /proc/crypto as of the baseline when it need not be read again. */
  private nextSnapshot(): Snapshot {
    const prev = this.baseline;
    if (prev && this.driverDirs && ++this.procAge < PROC_EVERY) {
      const devices = this.listDevices(this.driverDirs.dirs);
      if (devices.size === prev.devices.size && [...devices.keys()].every((k) => prev.devices.has(k)))
        return { devices, drivers: prev.drivers, byModule: prev.byModule };
    }
    this.procAge = 0;
    return this.scan();
  }

  private scan(): Snapshot {
    const entries = parseProcCrypto(readFileSync(this.procCrypto, 'utf8'));
    const drivers = new Set<string>();
    const byModule = new Map<string, Set<string>>();
    for (const e of entries) {
      if (e.type === 'larval') continue;
      drivers.add(e.driver);
      if (e.module === 'kernel') continue;
      let set = byModule.get(e.module);
      if (!set) byModule.set(e.module, (set = new Set()));
      set.add(e.driver);
    }
    // The bus drivers of modules seen with devices stay watched after their last device went
    // (its module then registers nothing), so that a card plugged back is noticed; a device
    // counts only while its module registers algorithms.
    for (const d of this.baseline?.devices.values() ?? []) this.seenModules.add(d.module);
    const modules = new Set([...byModule.keys(), ...this.seenModules]);
    const devices = this.listDevices(this.watchedDriverDirs(modules));
    for (const [k, d] of devices) if (!byModule.has(d.module)) devices.delete(k);
    return { devices, drivers, byModule };
  }

  private listDevices(dirs: readonly { bus: string; driver: string; module: string; dir: string }[]): Map<string, CryptoDevice> {
    const devices = new Map<string, CryptoDevice>();
    for (const d of dirs) {
      let names: string[];
      try {
        names = readdirSync(d.dir);
      } catch {
        continue;
      }
      for (const name of names) {
        if (NOT_DEVICES.has(name)) continue;
        const key = `${d.bus}/${name}`;
        let path = this.paths.get(key);
        if (path === undefined) {
          try {
            path = realpathSync(join(d.dir, name));
          } catch {
            continue; // gone between the listing and here
          }
          this.paths.set(key, path);
        }
        const pci = path
          .split('/')
          .filter((c) => PCI_ADDRESS.test(c))
          .at(-1);
        devices.set(key, {
          bus: d.bus,
          name,
          sysfsDriver: d.driver,
          module: d.module,
          path,
          ...(pci === undefined ? {} : { pciAddress: pci }),
        });
      }
    }
    for (const key of [...this.paths.keys()]) if (!devices.has(key)) this.paths.delete(key);
    return devices;
  }

  /** The bus drivers of the modules that register crypto algorithms, found again when that set changes. */
  private watchedDriverDirs(modules: ReadonlySet<string>): { bus: string; driver: string; module: string; dir: string }[] {
    const key = [...modules].sort().join(' ');
    if (this.driverDirs?.key === key) return this.driverDirs.dirs;
    const dirs: { bus: string; driver: string; module: string; dir: string }[] = [];
    for (const bus of this.buses) {
      const root = join(this.sysfs, 'bus', bus, 'drivers');
      let names: string[];
      try {
        names = readdirSync(root);
      } catch {
        continue;
      }
      for (const driver of names) {
        const dir = join(root, driver);
        let module: string;
        try {
          module = basename(readlinkSync(join(dir, 'module')));
        } catch {
          continue; // built in without a module name, or not a directory
        }
        if (modules.has(module)) dirs.push({ bus, driver, module, dir });
      }
    }
    this.driverDirs = { key, dirs };
    return dirs;
  }
}

function diff(prev: Snapshot, next: Snapshot): DeviceRemoval | null {
  const devices = [...prev.devices].filter(([k]) => !next.devices.has(k)).map(([, d]) => d);
  const kernelDrivers = new Set<string>();
  for (const d of devices) for (const name of prev.byModule.get(d.module) ?? []) kernelDrivers.add(name);
  // Only the drivers of modules that had devices: template instances and larvals come and go.
  const watchedModules = new Set([...prev.devices.values()].map((d) => d.module));
  const vanished: string[] = [];
  for (const m of watchedModules) for (const name of prev.byModule.get(m) ?? []) if (!next.drivers.has(name)) vanished.push(name);
  if (devices.length === 0 && vanished.length === 0) return null;
  for (const name of vanished) kernelDrivers.add(name);
  const sysfsDrivers = new Set(devices.map((d) => `${d.bus}/${d.sysfsDriver}`));
  const remaining = [...next.devices.values()].filter((d) => sysfsDrivers.has(`${d.bus}/${d.sysfsDriver}`));
  return { devices, kernelDrivers: [...kernelDrivers].sort(), vanished: vanished.sort(), remaining };
}

function added(prev: Snapshot, next: Snapshot): DeviceAddition | null {
  const devices = [...next.devices].filter(([k]) => !prev.devices.has(k)).map(([, d]) => d);
  if (devices.length === 0) return null;
  const kernelDrivers = new Set<string>();
  for (const d of devices) for (const name of next.byModule.get(d.module) ?? []) kernelDrivers.add(name);
  return { devices, kernelDrivers: [...kernelDrivers].sort() };
}

/**
 * How many devices serve the kernel crypto driver `kernelDriver` now: the devices bound to the
 * bus drivers of the module that registers it (0 for a driver of no device, or when sysfs or
 * `/proc/crypto` cannot be read).
 */
export function devicesBehind(kernelDriver: string, watch: DeviceWatch = deviceWatch, procCrypto = '/proc/crypto'): number {
  try {
    const module = parseProcCrypto(readFileSync(procCrypto, 'utf8')).find((e) => e.driver === kernelDriver)?.module;
    if (!module || module === 'kernel') return 0;
    return watch.devices().filter((d) => d.module === module).length;
  } catch {
    return 0;
  }
}

/** The process-wide watch, used by {@link guardKernelSessions} by default. */
export const deviceWatch = new DeviceWatch();

const guards = new Map<DeviceWatch, () => void>();

function onDevice(s: KernelSession): boolean {
  return !s.synchronous && s.kernelDriver !== undefined;
}

/**
 * Applies the removal policy to kernel sessions on device drivers, and has `watch` poll while
 * any such session is open and alive. Idempotent per watch; returns the function that undoes
 * it. The AF_ALG driver installs it on the process-wide watch when it opens a device session.
 *
 * Policy, on a removal that names a session's kernel driver:
 * - the session dies at once (cause `device-removed`): new requests reject with ESHUTDOWN
 *   and nothing touches its descriptors from the JavaScript thread again. Which device a
 *   session is bound to is invisible, so all sessions of the driver die, even those on a
 *   device that remains: a request, or close(), on a session bound to a removed virtio-crypto
 *   card blocks for good or faults in the kernel (lab, 6.1 and 6.12). Sessions opened from
 *   then on bind to the devices that remain.
 * - if the driver is gone from /proc/crypto (no device serves it any more), its requests in
 *   flight reject at once with ENODEV: they cannot complete.
 * - otherwise those already in the kernel are left to complete: on a remaining device they
 *   succeed, on the removed one the kernel fails them (ESHUTDOWN) or they reach their deadline
 *   (ETIMEDOUT); those still queued for a thread never start (ESHUTDOWN, syscall `validate`).
 *
 * A session whose device fails a request with ESHUTDOWN or ENODEV dies by itself (see
 * KernelSession); the watch then polls at once.
 */
export function guardKernelSessions(watch: DeviceWatch = deviceWatch): () => void {
  const existing = guards.get(watch);
  if (existing) return existing;
  const demand = (): boolean => kernelSessions().some((s) => onDevice(s) && !s.isAbandoned);
  const adopt = (s: KernelSession): void => {
    if (!onDevice(s)) return;
    s.onAbandoned((abandonment) => {
      if (abandonment.cause === 'device-error') watch.pollNow();
    });
    watch.watchWhile(demand);
  };
  const onRemoved = (r: DeviceRemoval): void => {
    const names = r.devices.map((d) => d.name + (d.pciAddress ? ` (${d.pciAddress})` : '')).join(', ');
    for (const s of kernelSessions()) {
      const kd = s.kernelDriver;
      if (!onDevice(s) || kd === undefined) continue;
      if (r.vanished.includes(kd))
        s.abandon('device-removed', `${kd} is no longer registered${names ? ` (removed: ${names})` : ''}`, 'ENODEV');
      else if (r.kernelDrivers.includes(kd)) s.abandon('device-removed', `a device of ${kd} was removed: ${names}`, 'keep');
    }
  };
  const off = onKernelSessionOpen(adopt);
  watch.on('removed', onRemoved);
  for (const s of kernelSessions()) adopt(s);
  const undo = (): void => {
    off();
    watch.off('removed', onRemoved);
    guards.delete(watch);
  };
  guards.set(watch, undo);
  return undo;
}
