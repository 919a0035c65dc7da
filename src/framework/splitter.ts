/**
 * Split sessions: a chain no single driver has (a cipher on a device, its MAC in software) is
 * opened as one sub-session per part, each on the driver the crid picks for it, and behaves as
 * one session. A request runs its descriptors part by part, in the order they appear, over the
 * same buffer; a part whose driver went away comes back with EAGAIN and its new sid, and is
 * resubmitted there, so the caller never sees the move. The splitter is itself a driver that
 * registers no algorithm: the framework gives it only the chains nothing else takes.
 */
import { kindOf } from './algorithms.js';
import { CRYPTO_F_IOV, CRYPTOCAP_F_HARDWARE, CRYPTOCAP_F_SOFTWARE } from './constants.js';
import type { Framework } from './framework.js';
import { CryptoDesc, type CryptoIni, type CryptoOp } from './structures.js';

interface Part {
  sid: bigint;
  /** The algorithms of the chain this part serves, in chain order. */
  algs: number[];
}

interface SplitSession {
  parts: Part[];
}

/** Cuts a chain into parts: an AEAD cipher with its auth half, every other algorithm alone. */
function partsOf(cri: CryptoIni): CryptoIni[] {
  const all: CryptoIni[] = [];
  for (let c: CryptoIni | null = cri; c; c = c.next) all.push(c);
  const used = new Set<CryptoIni>();
  const parts: CryptoIni[] = [];
  for (const c of all) {
    if (used.has(c)) continue;
    used.add(c);
    const head = c.clone();
    head.next = null;
    const k = kindOf(c.alg);
    const pairWith = k?.kind === 'aead' ? k.auth : k?.kind === 'aead-auth' ? k.ciphers : [];
    const mate = all.find((x) => !used.has(x) && pairWith.includes(x.alg));
    if (mate) {
      used.add(mate);
      const m = mate.clone();
      m.next = null;
      head.next = m;
    }
    parts.push(head);
  }
  return parts;
}

function copyDesc(d: CryptoDesc): CryptoDesc {
  const c = new CryptoDesc();
  Object.assign(c, {
    skip: d.skip,
    len: d.len,
    inject: d.inject,
    flags: d.flags,
    alg: d.alg,
    key: d.key,
    klen: d.klen,
    iv: d.iv,
    ivLength: d.ivLength,
  });
  return c;
}

/** Registers the splitter on `fw`; returns its driver id. */
export function registerSplitter(fw: Framework, name = 'split0'): number {
  const id = fw.getDriverId(CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE, name);
  const sessions = new Map<number, SplitSession>();
  let nextLid = 0;
  const EAGAIN = fw.errno('EAGAIN');

  const impl = {
    async newSession(_arg: unknown, cri: CryptoIni, options?: Parameters<Framework['newSession']>[2]): Promise<number> {
      const parts: Part[] = [];
      try {
        for (const p of partsOf(cri)) {
          const driver = fw.selectDriver(p, CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE);
          if (driver === undefined || driver === id)
            throw fw.error('EOPNOTSUPP', `no driver supports algorithm ${p.alg}${p.next ? ` with ${p.next.alg}` : ''}`);
          const algs = [p.alg, ...(p.next ? [p.next.alg] : [])];
          parts.push({ sid: await fw.newSession(p, driver, options), algs });
        }
      } catch (err) {
        for (const p of parts) await fw.freeSession(p.sid);
        throw err;
      }
      const lid = nextLid++;
      sessions.set(lid, { parts });
      return lid;
    },
    async freeSession(_arg: unknown, sid: bigint): Promise<void> {
      const lid = Number(sid & 0xffffffffn);
      const s = sessions.get(lid);
      sessions.delete(lid);
      for (const p of s?.parts ?? []) await fw.freeSession(p.sid);
    },
    process(_arg: unknown, crp: CryptoOp): number {
      const s = sessions.get(Number(crp.sid & 0xffffffffn));
      if (!s) return fw.errno('EINVAL');
      // Which part each descriptor goes to: the n-th descriptor of an algorithm to the part
      // holding the n-th occurrence of it in the chain.
      const seen = new Map<number, number>();
      const groups = new Map<Part, CryptoDesc[]>();
      const order: Part[] = [];
      for (let d: CryptoDesc | null = crp.desc; d; d = d.next) {
        const n = seen.get(d.alg) ?? 0;
        seen.set(d.alg, n + 1);
        const holders = s.parts.filter((p) => p.algs.includes(d.alg));
        const part = holders[n] ?? holders[0];
        if (!part) {
          crp.etype = fw.errno('EINVAL');
          fw.done(crp);
          return 0;
        }
        if (!groups.has(part)) {
          groups.set(part, []);
          order.push(part);
        }
        groups.get(part)!.push(copyDesc(d));
      }
      const runPart = (i: number): void => {
        if (i === order.length) {
          fw.done(crp);
          return;
        }
        const part = order[i]!;
        const descs = groups.get(part)!;
        const sub = fw.getReq(0);
        sub.sid = part.sid;
        sub.buf = crp.buf;
        // One cipher descriptor alone may have a separate output (a chain of one part).
        sub.obuf = crp.obuf;
        sub.flags = crp.flags & CRYPTO_F_IOV;
        sub.mac = crp.mac;
        descs.forEach((d, j) => (d.next = descs[j + 1] ?? null));
        sub.desc = descs[0]!;
        sub.callback = (r) => {
          if (r.etype === EAGAIN) {
            // The part's driver went away and its session moved: follow it, unseen.
            part.sid = r.sid;
            r.sid = part.sid;
            fw.dispatch(r);
            return;
          }
          if (r.etype !== 0) {
            crp.etype = r.etype;
            fw.done(crp);
            return;
          }
          crp.olen = r.olen;
          runPart(i + 1);
        };
        fw.dispatch(sub);
      };
      runPart(0);
      return 0;
    },
  };
  fw.attachSplitter(id, impl);
  return id;
}
