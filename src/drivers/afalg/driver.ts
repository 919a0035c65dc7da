/**
 * AF_ALG framework drivers: one crypto(9) driver per kernel driver reachable through AF_ALG
 * (`afalg:cbc-aes-aesni`, `afalg:virtio_crypto_aes_cbc`, …), flagged CRYPTOCAP_F_HARDWARE when
 * it is a device. A session opens one kernel transform per algorithm of its chain; a cipher
 * driver also takes an HMAC paired with its cipher and then opens the kernel's
 * authenc(hmac(H),<driver>) as one transform for encrypt-then-MAC requests.
 */
import { authencOf, type Algorithm } from '../../algorithms/catalog.js';
import { catalogOf, hmacHashOf, idsOfKernelName } from '../../algorithms/crypto-ids.js';
import { kindOf } from '../../framework/algorithms.js';
import * as C from '../../framework/constants.js';
import type { Framework, SessionOptions } from '../../framework/framework.js';
import type { CryptoIni } from '../../framework/structures.js';
import type { KernelSessionStats } from '../../kernel/bridge/engine/index.js';
import {
  openAfAlgAead,
  openAfAlgCipher,
  openAfAlgHash,
  openAfAlgMac,
  openAfAlgRng,
  afalgDriverName,
  type AfAlgOptions,
  type AfAlgTarget,
} from './sessions.js';
import { aeadTransform, authTransform, cipherTransform, rngTransform } from '../common/backend-transforms.js';
import type { SessionEntry } from '../common/descriptor-executor.js';
import { devicesBehind } from '../../kernel/discovery/device-watch.js';
import { chainOf, KernelDriver, keyOf, type KernelDriverSession } from '../kernel/driver.js';
import { awaitOpen, type Opening } from '../kernel/opening.js';
import { spreadAead, spreadCipher } from '../kernel/spread.js';
import { xtsTweak, type Transform } from '../common/transforms.js';

/** A kernel driver as the AF_ALG framework driver needs it. */
export interface AfAlgDriverSpec {
  /** cra_name, e.g. `cbc(aes)`. */
  craName: string;
  target: AfAlgTarget;
  hardware: boolean;
}

class AfAlgDriver extends KernelDriver {
  /** What this kernel driver serves by itself (not counting HMACs it pairs with its cipher). */
  readonly own: number[];

  constructor(
    fw: Framework,
    readonly spec: AfAlgDriverSpec,
  ) {
    super(fw);
    // Reached through its generic name, a hash driver serves the hash alone: hmac() over it
    // would be bound as hmac(<generic name>), which reaches whatever driver that name gives
    // (its own framework driver) or nothing where af_alg_restrict refuses it.
    const generic = spec.target.bindName !== spec.target.kernelDriver;
    const ids = idsOfKernelName(spec.craName);
    this.own = generic && !spec.craName.startsWith('hmac(') ? ids.filter((id) => hmacHashOf(id) === undefined) : ids;
  }

  get name(): string {
    return afalgDriverName(this.spec.target.kernelDriver);
  }

  get hardware(): boolean {
    return this.spec.hardware;
  }

  get kernelDriver(): string {
    return this.spec.target.kernelDriver;
  }

  private cards: number | undefined;

  /**
   * One backend per card behind this driver (one when it is not a device): the kernel binds a
   * transform to a card when it is created, so only several transforms reach several cards.
   * Counted when the driver opens its first session, and again after a card came back.
   */
  private async perCard<B extends Opening>(open: () => B): Promise<B[]> {
    this.cards ??= this.spec.hardware ? Math.max(1, devicesBehind(this.kernelDriver)) : 1;
    const out: B[] = [];
    let first: unknown;
    try {
      for (let i = 0; i < this.cards; i++) out.push(open());
    } catch (err) {
      first = err;
    }
    // The opens run on the device lane together; a card that cannot take one more transform
    // leaves the session spread over those it got.
    const settled = await Promise.allSettled(out.map((b) => b.ready ?? Promise.resolve()));
    const got = out.filter((b, i) => {
      const s = settled[i]!;
      if (s.status === 'fulfilled') return true;
      first ??= s.reason;
      void b.close();
      return false;
    });
    if (got.length === 0) throw first;
    return got;
  }

  override devicesChanged(): void {
    this.cards = undefined;
  }

  /** Cards this driver spreads a session over (after its first session; undefined before). */
  get cardCount(): number | undefined {
    return this.cards;
  }

  /** A cipher driver over cbc(aes) takes HMACs only beside its cipher, through authenc(). */
  get pairsHmac(): boolean {
    return this.spec.craName === 'cbc(aes)';
  }

  override probeSession(_arg: unknown, cri: CryptoIni): boolean {
    const algs = chainOf(cri).map((c) => c.alg);
    // An authenc() driver is one transform for the cipher and its MAC: it takes the pair only.
    if (this.spec.craName.startsWith('authenc(')) return algs.length === 2 && this.own.every((a) => algs.includes(a));
    const foreign = algs.filter((a) => !this.own.includes(a));
    if (foreign.length === 0) return true;
    return this.pairsHmac && algs.includes(C.CRYPTO_AES_CBC) && foreign.every((a) => hmacHashOf(a) !== undefined);
  }

  private options(o: SessionOptions | undefined): AfAlgOptions {
    return o?.execution ? { execution: o.execution } : {};
  }

  async newSession(_arg: unknown, cri: CryptoIni, o?: SessionOptions): Promise<number> {
    const opts = this.options(o);
    const inis = chainOf(cri);
    if (this.spec.craName.startsWith('authenc(')) return this.newAuthencSession(inis, opts);
    const entries: SessionEntry[] = [];
    const opened: Transform[] = [];
    let stats: (() => KernelSessionStats) | undefined;
    let maxRequest = 0;
    try {
      for (const c of inis) {
        const kind = kindOf(c.alg);
        const key = keyOf(c);
        if (kind?.kind === 'aead-auth') {
          entries.push({ alg: c.alg, mlen: c.mlen, transform: null });
          continue;
        }
        const t = await this.open(c, key, inis, opts);
        opened.push(t.transform);
        stats ??= t.stats;
        if (t.maxRequest > 0) maxRequest = maxRequest === 0 ? t.maxRequest : Math.min(maxRequest, t.maxRequest);
        entries.push({ alg: c.alg, mlen: c.mlen, transform: t.transform });
      }
    } catch (err) {
      for (const t of opened) void t.close();
      throw err;
    }
    const session: KernelDriverSession = { entries, stats, maxRequest };
    const cipher = entries.find((e) => e.alg === C.CRYPTO_AES_CBC);
    const mac = entries.find((e) => hmacHashOf(e.alg) !== undefined);
    if (this.pairsHmac && cipher && mac) await this.attachEtm(session, cipher, mac, inis, opts);
    return this.add(session);
  }

  /**
   * A session on an authenc() kernel driver: one transform for cipher and MAC together, which
   * serves requests laid out as encrypt-then-MAC (others fail with EINVAL).
   */
  private async newAuthencSession(inis: CryptoIni[], opts: AfAlgOptions): Promise<number> {
    const ci = inis.find((c) => c.alg === C.CRYPTO_AES_CBC);
    const mi = inis.find((c) => hmacHashOf(c.alg) !== undefined);
    const hash = mi ? hmacHashOf(mi.alg) : undefined;
    const alg = ci && hash ? authencOf(hash.name, keyOf(ci).length) : undefined;
    if (!ci || !mi || !hash || !alg || inis.length !== 2)
      throw this.fw.error('EINVAL', `${this.name} serves AES-CBC with its HMAC, together`, this.name);
    const tagLength = mi.mlen > 0 ? mi.mlen : hash.digestLength;
    const open = (k: Uint8Array): ReturnType<typeof openAfAlgAead> => openAfAlgAead(alg, k, tagLength, this.spec.target, opts, keyOf(mi));
    const b = await awaitOpen(open(keyOf(ci)));
    const cipher: SessionEntry = { alg: ci.alg, mlen: 0, transform: null };
    const auth: SessionEntry = { alg: mi.alg, mlen: tagLength, transform: null };
    return this.add({
      entries: [cipher, auth],
      etm: { cipher, auth, transform: aeadTransform(b, open) },
      stats: () => b.stats!(),
      maxRequest: b.maxRequestBytes ?? 0,
    });
  }

  /** Opens authenc(hmac(H),<this driver>) for the pair; without it the pair runs as two transforms. */
  private async attachEtm(
    session: KernelDriverSession,
    cipher: SessionEntry,
    mac: SessionEntry,
    inis: CryptoIni[],
    opts: AfAlgOptions,
  ): Promise<void> {
    const ci = inis.find((c) => c.alg === cipher.alg)!;
    const mi = inis.find((c) => c.alg === mac.alg)!;
    const hash = hmacHashOf(mac.alg)!;
    const alg = authencOf(hash.name, keyOf(ci).length);
    if (!alg) return;
    const tagLength = mac.mlen > 0 ? mac.mlen : hash.digestLength;
    const target: AfAlgTarget = { ...this.spec.target, bindName: `authenc(hmac(${hash.kernelName}),${this.spec.target.bindName})` };
    try {
      const open = (k: Uint8Array): ReturnType<typeof openAfAlgAead> => openAfAlgAead(alg, k, tagLength, target, opts, keyOf(mi));
      session.etm = { cipher, auth: mac, transform: aeadTransform(await awaitOpen(open(keyOf(ci))), open) };
      // authenc() delivers exactly the tag length it was opened with.
      mac.mlen = tagLength;
    } catch {
      // No authenc over this driver in this kernel: two transforms it is.
    }
  }

  private async open(
    c: CryptoIni,
    key: Uint8Array,
    inis: CryptoIni[],
    opts: AfAlgOptions,
  ): Promise<{ transform: Transform; stats: () => KernelSessionStats; maxRequest: number }> {
    const kind = kindOf(c.alg);
    const alg: Algorithm | undefined = catalogOf(c.alg, key.length);
    const target = this.spec.target;
    const bad = (): Error => this.fw.error('EINVAL', `${this.name}: algorithm ${c.alg} with a ${key.length}-byte key`, this.name);
    if (!alg || !kind) throw bad();
    if (alg.kind === 'cipher') {
      const open = (k: Uint8Array): ReturnType<typeof openAfAlgCipher> => openAfAlgCipher(alg, k, target, opts);
      const bs = await this.perCard(() => open(key));
      const b = bs[0]!;
      return {
        transform: spreadCipher(bs.map((x) => cipherTransform(x, open, alg.mode === 'xts' ? xtsTweak : undefined))),
        stats: () => b.stats!(),
        maxRequest: b.maxRequestBytes ?? 0,
      };
    }
    if (alg.kind === 'aead') {
      const authIds = kind.kind === 'aead' ? kind.auth : [];
      const mate = inis.find((x) => authIds.includes(x.alg));
      const tagLength = mate && mate.mlen > 0 ? mate.mlen : 16;
      const open = (k: Uint8Array): ReturnType<typeof openAfAlgAead> => openAfAlgAead(alg, k, tagLength, target, opts);
      const bs = await this.perCard(() => open(key));
      const b = bs[0]!;
      return { transform: spreadAead(bs.map((x) => aeadTransform(x, open))), stats: () => b.stats!(), maxRequest: b.maxRequestBytes ?? 0 };
    }
    if (alg.kind === 'hash') {
      const b = await awaitOpen(openAfAlgHash(alg, target, opts));
      return { transform: authTransform(b, alg.digestLength, null), stats: () => b.stats!(), maxRequest: 0 };
    }
    if (alg.kind === 'mac') {
      const m = alg;
      // A hash driver serves its HMAC through the hmac template over it; a cipher driver
      // pairing an HMAC binds the kernel's generic hmac(H) for requests authenc() cannot take.
      const bindName = this.own.includes(c.alg)
        ? this.spec.craName === m.hash?.kernelName
          ? `hmac(${target.bindName})`
          : target.bindName
        : m.kernelName;
      const macTarget: AfAlgTarget = { ...target, bindName };
      const open = (k: Uint8Array): ReturnType<typeof openAfAlgMac> => openAfAlgMac(m, k, macTarget, opts);
      const b = await awaitOpen(open(key));
      return { transform: authTransform(b, m.digestLength, open), stats: () => b.stats!(), maxRequest: 0 };
    }
    const b = await awaitOpen(openAfAlgRng(target, key.length > 0 ? key : null, opts));
    return { transform: rngTransform(b), stats: () => b.stats!(), maxRequest: 0 };
  }
}

/** Registers one AF_ALG framework driver; returns its id. */
export function registerAfAlgDriver(fw: Framework, spec: AfAlgDriverSpec): number {
  const d = new AfAlgDriver(fw, spec);
  const id = fw.getDriverId(spec.hardware ? C.CRYPTOCAP_F_HARDWARE : C.CRYPTOCAP_F_SOFTWARE, d.name);
  d.id = id;
  const impl = d.impl();
  const algs = [...d.own];
  if (d.pairsHmac) for (const h of ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']) algs.push(...idsOfKernelName(`hmac(${h})`));
  for (const alg of new Set(algs)) fw.register(id, alg, 0, 0, impl);
  return id;
}
