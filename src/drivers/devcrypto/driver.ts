/**
 * /dev/crypto framework drivers: one crypto(9) driver per kernel driver behind a /dev/crypto
 * device — per `cra_driver_name` that cryptodev-linux's CIOCGSESSINFO reports, per FreeBSD
 * driver (crid, found with CIOCFINDDEV), one for NetBSD (which names none) — flagged hardware
 * or software as the kernel says. Requests run on the addon's device threads (an ioctl to a
 * device may sleep, and the JavaScript thread must never wait on one), except those of a kernel
 * driver /proc/crypto shows synchronous, which may run inline (see kernelFacts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { catalogOf, idsOf } from '../../algorithms/crypto-ids.js';
import type { AeadAlgorithm, CipherAlgorithm, HashAlgorithm, MacAlgorithm } from '../../algorithms/catalog.js';
import { kindOf } from '../../framework/algorithms.js';
import * as C from '../../framework/constants.js';
import type { Framework, SessionOptions } from '../../framework/framework.js';
import type { CryptoIni } from '../../framework/structures.js';
import { devCryptoDriverName, devCryptoInfo, type DevCryptoAbi } from '../../kernel/bridge/devcrypto.js';
import { forbiddenReason, isForbidden } from '../../kernel/bridge/forbid.js';
import { guardKernelSessions } from '../../kernel/discovery/device-watch.js';
import { KernelSession, type KernelSessionStats } from '../../kernel/bridge/engine/index.js';
import { classifyDriver } from '../../kernel/discovery/classify.js';
import { parseProcCrypto, type ProcCryptoEntry } from '../../kernel/discovery/proc-crypto.js';
import { aeadTransform, authTransform, cipherTransform } from '../common/backend-transforms.js';
import {
  kernelHmacKey,
  openDeferredDevCryptoSession,
  openDevCryptoSession,
  sessionOptionsFor,
  type DevCryptoSessionOptions,
} from './sessions.js';
import { devCryptoAlgorithmId } from './ids.js';
import type { SessionEntry } from '../common/descriptor-executor.js';
import type { HashBackend } from '../common/backend.js';
import { aeadBackendOf, ccmKernelIv, cipherBackendOf, hashBackendOf, hmacOverHashBackendOf, type NoHashState } from '../kernel/backends.js';
import { chainOf, KernelDriver, keyOf } from '../kernel/driver.js';
import { openOnLane } from '../kernel/opening.js';
import { xtsTweak, type Transform } from '../common/transforms.js';

/** A /dev/crypto device and the ABI it speaks. */
export interface DevCryptoTarget {
  path: string;
  abi: DevCryptoAbi;
}

/** One kernel driver behind the device. */
export interface DevCryptoDriverSpec extends DevCryptoTarget {
  /** The kernel's name for it (cryptodev-linux cra_driver_name, FreeBSD driver name); '' when the ABI names none. */
  kernelDriver: string;
  hardware: boolean;
  /**
   * The kernel completes its requests within the ioctl, on the calling thread, so they may run
   * inline (see KernelSession). Known on Linux only, from /proc/crypto.
   */
  synchronous: boolean;
  /** FreeBSD: the driver's id, so that sessions open on exactly it. */
  crid?: number;
  /** crypto(9) algorithms it served when probed. */
  algorithms: number[];
}

/** What probing a device found. */
export interface DevCryptoDiscovery {
  target: DevCryptoTarget;
  /** Why the device cannot be used; undefined when it can. */
  reason?: string;
  drivers: DevCryptoDriverSpec[];
}

/** The algorithms probed, with a key length each takes. */
const PROBES: readonly [alg: number, keyLength: number][] = [
  [C.CRYPTO_AES_CBC, 16],
  [C.CRYPTO_AES_ICM, 16],
  [C.CRYPTO_AES_XTS, 32],
  [C.CRYPTO_AES_NIST_GCM_16, 16],
  [C.CRYPTO_AES_CCM_16, 16],
  [C.CRYPTO_CHACHA20_POLY1305, 32],
  [C.CRYPTO_MD5, 0],
  [C.CRYPTO_SHA1, 0],
  [C.CRYPTO_SHA2_224, 0],
  [C.CRYPTO_SHA2_256, 0],
  [C.CRYPTO_SHA2_384, 0],
  [C.CRYPTO_SHA2_512, 0],
  [C.CRYPTO_MD5_HMAC, 16],
  [C.CRYPTO_SHA1_HMAC, 20],
  [C.CRYPTO_SHA2_224_HMAC, 32],
  [C.CRYPTO_SHA2_256_HMAC, 32],
  [C.CRYPTO_SHA2_384_HMAC, 32],
  [C.CRYPTO_SHA2_512_HMAC, 32],
];

/** The AEADs and the auth halves they pair with. */
const AEAD_AUTH: Readonly<Record<number, number>> = {
  [C.CRYPTO_AES_NIST_GCM_16]: C.CRYPTO_AES_NIST_GMAC,
  [C.CRYPTO_AES_CCM_16]: C.CRYPTO_AES_CCM_CBC_MAC,
  [C.CRYPTO_CHACHA20_POLY1305]: C.CRYPTO_POLY1305,
};

/**
 * Probes a device: can it be opened, and which kernel drivers serve which algorithms. Never
 * throws: an unusable device comes back with the reason.
 */
export function discoverDevCrypto(target: DevCryptoTarget): DevCryptoDiscovery {
  if (isForbidden('devcrypto')) return { target, reason: forbiddenReason('devcrypto'), drivers: [] };
  let probe;
  try {
    probe = devCryptoInfo(target);
  } catch (err) {
    return { target, reason: (err as Error).message, drivers: [] };
  }
  if (!probe.compiled) return { target, reason: `this kcrypto build has no ${target.abi} ABI`, drivers: [] };
  if (probe.open !== 0) return { target, reason: `${target.path}: cannot open (errno ${probe.open})`, drivers: [] };
  const byName = new Map<string, DevCryptoDriverSpec>();
  const facts = kernelFacts(target.abi);
  const cridsOf: (number | undefined)[] =
    target.abi === 'freebsd' && probe.devices.length > 0 ? probe.devices.map((d) => d.crid) : [undefined];
  for (const crid of cridsOf) {
    for (const [alg, keyLength] of PROBES) {
      if (devCryptoAlgorithmId(target.abi, alg) === undefined) continue;
      const opts = sessionOptionsFor({ ...target, ...(crid !== undefined ? { crid } : {}) }, alg, new Uint8Array(keyLength).fill(7), 16);
      if (!opts) continue;
      let s;
      try {
        s = openDevCryptoSession(opts);
      } catch {
        continue;
      }
      const name = s.info.cipherDriver || s.info.macDriver || probe.devices.find((d) => d.crid === crid)?.name || '';
      s.native.close();
      const key = `${name}|${crid ?? ''}`;
      let d = byName.get(key);
      const hardware = s.info.hardware === true || facts.hardware(name);
      if (!d)
        byName.set(
          key,
          (d = {
            ...target,
            kernelDriver: name,
            hardware,
            synchronous: !hardware && facts.synchronous(name),
            ...(crid !== undefined ? { crid } : {}),
            algorithms: [],
          }),
        );
      d.algorithms.push(alg);
      const mate = AEAD_AUTH[alg];
      if (mate !== undefined) d.algorithms.push(mate);
    }
  }
  const drivers = [...byName.values()];
  if (drivers.length === 0) return { target, reason: `${target.path}: no algorithm kcrypto knows could be opened`, drivers };
  return { target, drivers };
}

/**
 * What /proc/crypto says of the kernel drivers behind cryptodev-linux.
 *
 * - synchronous: every entry of the driver lacks CRYPTO_ALG_ASYNC (shash has no such flag:
 *   always synchronous). A request to a device must never run on the JavaScript thread: a card
 *   that goes away leaves the calling thread in the kernel for good.
 * - hardware: the driver classifies as a device (kernel/classify.ts). cryptodev-linux's own
 *   hardware flag is KERN_DRIVER_ONLY, which devices such as virtio-crypto do not set.
 *
 * Elsewhere nothing says: every request goes to the addon's threads, and the ABI's own flag
 * decides what is hardware.
 */
function kernelFacts(abi: DevCryptoAbi): { synchronous(driver: string): boolean; hardware(driver: string): boolean } {
  const none = { synchronous: (): boolean => false, hardware: (): boolean => false };
  if (abi !== 'cryptodev-linux') return none;
  let entries: ProcCryptoEntry[] = [];
  try {
    entries = parseProcCrypto(readFileSync('/proc/crypto', 'utf8'));
  } catch {
    return none;
  }
  const mine = (driver: string): ProcCryptoEntry[] => (driver === '' ? [] : entries.filter((e) => e.driver === driver));
  return {
    synchronous: (driver) => mine(driver).length > 0 && mine(driver).every((e) => e.async !== true && !e.internal),
    hardware: (driver) => mine(driver).some((e) => classifyDriver(e).kind === 'hardware'),
  };
}

class DevCryptoDriver extends KernelDriver {
  constructor(
    fw: Framework,
    readonly spec: DevCryptoDriverSpec,
  ) {
    super(fw);
  }

  get name(): string {
    return devCryptoDriverName(this.spec.abi, this.spec.kernelDriver);
  }

  get hardware(): boolean {
    return this.spec.hardware;
  }

  get kernelDriver(): string {
    return this.spec.kernelDriver;
  }

  /**
   * An engine session for `opts`. Off the synchronous drivers, its open (the device, the kernel
   * sessions, their keys) runs on the device lane: the promise goes into `opening`, or, for a
   * session opened for one request's own key, is left to that request, which waits for the
   * open on its thread and fails as it did.
   */
  private kernelSession(opts: DevCryptoSessionOptions, execution: SessionOptions['execution'], opening?: Promise<void>[]): KernelSession {
    const onLane = !this.spec.synchronous;
    const native = onLane ? openDeferredDevCryptoSession(opts) : openDevCryptoSession(opts).native;
    // A device behind the module can go away under its sessions: have the removal watch look after them.
    if (this.spec.hardware && this.spec.kernelDriver) guardKernelSessions();
    // ioctl() is where a request waits; only a hardware driver has a device that can go away.
    const ks = new KernelSession(native, this.name, this.spec.synchronous, execution ?? 'auto', {
      waitSyscall: () => 'ioctl',
      ...(this.spec.hardware && this.spec.kernelDriver ? { kernelDriver: this.spec.kernelDriver } : {}),
    });
    if (onLane) {
      const ready = openOnLane(ks, `cannot open a ${opts.mode} session on ${this.spec.path}`);
      opening?.push(ready);
    }
    return ks;
  }

  /**
   * Why this ABI's hash sessions keep no state between requests: FreeBSD's and NetBSD's
   * CIOCCRYPT digests one whole message (no update flag, no state copy); only cryptodev-linux
   * has COP_FLAG_UPDATE and CIOCCPHASH.
   */
  private get noHashState(): NoHashState {
    return this.spec.abi === 'cryptodev-linux' ? undefined : `${this.spec.abi}'s /dev/crypto hashes whole messages only`;
  }

  /**
   * A hash or MAC session with key `key`, and the largest message one digest may carry (0: no
   * limit). Without hash state a digest is one request, so the ABI's request limit is the
   * message's. An HMAC key goes to the kernel in the form its ABI takes (kernelHmacKey); a key
   * with no such form is served by HMAC written out over the same driver's plain hash.
   */
  private hashSession(
    alg: HashAlgorithm | MacAlgorithm,
    key: Uint8Array,
    tagLength: number,
    execution: SessionOptions['execution'],
    opening?: Promise<void>[],
  ): { backend: HashBackend; maxRequest: number } {
    const stateless = this.noHashState;
    const open = (id: number, k: Uint8Array): KernelSession => {
      const o = sessionOptionsFor(this.spec, id, k, tagLength);
      if (!o) throw this.fw.error('EINVAL', `${this.name}: algorithm ${id} with a ${k.length}-byte key`, this.name);
      return this.kernelSession(o, execution, opening);
    };
    const limitOf = (ks: KernelSession, extra: number): number => {
      const limit = stateless === undefined ? 0 : ks.native.maxRequest();
      return limit > 0 ? Math.max(limit - extra, 0) : 0;
    };
    const [id] = idsOf(alg);
    // Key material derived here (a hashed or padded key) is wiped once the engine has its copy.
    const derived = (k: Uint8Array): (() => void) => (k === key ? () => undefined : () => k.fill(0));
    if (alg.kind === 'mac' && alg.hash) {
      const kernelKey = kernelHmacKey(this.spec.abi, alg.hash, key);
      if (kernelKey === null) {
        // Only an ABI without hash state gets here (NetBSD): the written-out HMAC has none either.
        const short = key.length > alg.hash.blockLength ? createHash(alg.hash.name).update(key).digest() : key;
        const wipe = derived(short);
        try {
          const ks = open(idsOf(alg.hash)[0]!, new Uint8Array(0));
          // The inner digest carries a block of padded key ahead of the message.
          return { backend: hmacOverHashBackendOf(ks, alg.hash, short, stateless ?? ''), maxRequest: limitOf(ks, alg.hash.blockLength) };
        } finally {
          wipe();
        }
      }
      const wipe = derived(kernelKey);
      try {
        const ks = open(id!, kernelKey);
        return { backend: hashBackendOf(ks, alg.digestLength, stateless), maxRequest: limitOf(ks, 0) };
      } finally {
        wipe();
      }
    }
    const ks = open(id!, key);
    return { backend: hashBackendOf(ks, alg.digestLength, stateless), maxRequest: limitOf(ks, 0) };
  }

  private open(
    c: CryptoIni,
    inis: CryptoIni[],
    execution: SessionOptions['execution'],
    opening: Promise<void>[],
  ): { transform: Transform | null; stats?: () => KernelSessionStats; maxRequest: number } {
    const kind = kindOf(c.alg);
    if (kind?.kind === 'aead-auth') return { transform: null, maxRequest: 0 };
    const key = keyOf(c);
    const mate = kind?.kind === 'aead' ? inis.find((x) => kind.auth.includes(x.alg)) : undefined;
    const tagLength = mate && mate.mlen > 0 ? mate.mlen : 16;
    const opts = (k: Uint8Array): DevCryptoSessionOptions => {
      const o = sessionOptionsFor(this.spec, c.alg, k, tagLength);
      if (!o) throw this.fw.error('EINVAL', `${this.name}: algorithm ${c.alg} with a ${k.length}-byte key`, this.name);
      return o;
    };
    const cat = catalogOf(c.alg, key.length);
    if (kind?.kind === 'cipher') {
      const alg = cat as CipherAlgorithm;
      const openB = (k: Uint8Array, o?: Promise<void>[]): ReturnType<typeof cipherBackendOf> =>
        cipherBackendOf(this.kernelSession(opts(k), execution, o), alg);
      const b = openB(key, opening);
      return {
        transform: cipherTransform(b, openB, alg.mode === 'xts' ? xtsTweak : undefined),
        stats: () => b.stats!(),
        maxRequest: b.maxRequestBytes ?? 0,
      };
    }
    if (kind?.kind === 'aead') {
      const alg = cat as AeadAlgorithm;
      const ivOf = alg.mode === 'ccm' && this.spec.abi === 'cryptodev-linux' ? ccmKernelIv : (iv: Uint8Array): Uint8Array => iv;
      const openB = (k: Uint8Array, o?: Promise<void>[]): ReturnType<typeof aeadBackendOf> =>
        aeadBackendOf(this.kernelSession(opts(k), execution, o), alg, tagLength, ivOf);
      const b = openB(key, opening);
      return { transform: aeadTransform(b, openB), stats: () => b.stats!(), maxRequest: b.maxRequestBytes ?? 0 };
    }
    const alg = cat as HashAlgorithm | MacAlgorithm;
    const openB = (k: Uint8Array): HashBackend => this.hashSession(alg, k, tagLength, execution).backend;
    const { backend: b, maxRequest } = this.hashSession(alg, key, tagLength, execution, opening);
    return {
      transform: authTransform(b, alg.digestLength, kind?.kind === 'auth' && kind.keyed ? openB : null),
      stats: () => b.stats!(),
      maxRequest,
    };
  }

  async newSession(_arg: unknown, cri: CryptoIni, o?: SessionOptions): Promise<number> {
    const inis = chainOf(cri);
    const entries: SessionEntry[] = [];
    const opening: Promise<void>[] = [];
    let stats: (() => KernelSessionStats) | undefined;
    let maxRequest = 0;
    try {
      for (const c of inis) {
        const t = this.open(c, inis, o?.execution, opening);
        stats ??= t.stats;
        if (t.maxRequest > 0) maxRequest = maxRequest === 0 ? t.maxRequest : Math.min(maxRequest, t.maxRequest);
        entries.push({ alg: c.alg, mlen: c.mlen, transform: t.transform });
      }
      // The opens run on the device lane together.
      await Promise.all(opening);
    } catch (err) {
      await Promise.allSettled(opening);
      for (const e of entries) void e.transform?.close();
      throw err;
    }
    const stateless = this.noHashState !== undefined && inis.some((c) => kindOf(c.alg)?.kind === 'auth');
    return this.add({
      entries,
      stats,
      maxRequest,
      ...(inis.some((c) => c.alg === C.CRYPTO_AES_XTS) ? { alignment: 16 } : {}),
      ...(stateless ? { stateless } : {}),
    });
  }
}

/** Registers one /dev/crypto framework driver; returns its id. */
export function registerDevCryptoDriver(fw: Framework, spec: DevCryptoDriverSpec): number {
  const d = new DevCryptoDriver(fw, spec);
  const id = fw.getDriverId(spec.hardware ? C.CRYPTOCAP_F_HARDWARE : C.CRYPTOCAP_F_SOFTWARE, d.name);
  d.id = id;
  const impl = d.impl();
  for (const alg of new Set(spec.algorithms)) fw.register(id, alg, 0, 0, impl);
  return id;
}
