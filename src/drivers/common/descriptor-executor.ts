/**
 * The descriptor semantics of crypto(9), for every kcrypto driver: each descriptor of a
 * request transforms or authenticates a region of the request's buffer (`skip`, `len`), with
 * the IV or the MAC at `inject`. IVs are explicit (CRD_F_IV_EXPLICIT), read from the buffer
 * when decrypting, or made up and written there when encrypting (unless CRD_F_IV_PRESENT);
 * keys come from the session or the descriptor (CRD_F_KEY_EXPLICIT); MACs are truncated to the
 * session's `mlen`; CRYPTO_F_IOV buffers are one buffer taken in order. The same algorithm may
 * appear twice in a session: the n-th descriptor of an algorithm uses the n-th entry of it.
 *
 * The driver supplies the transforms (transforms.ts). With transforms that return values the
 * whole request completes before execute() returns; with promises, when the result settles.
 */
import { Buffer } from 'node:buffer';
import { randomBytes, timingSafeEqual } from 'node:crypto';

import { KCryptoError } from '../../errors.js';
import { kindOf, type AeadKind, type CipherKind } from '../../framework/algorithms.js';
import * as C from '../../framework/constants.js';
import type { CryptoDesc, CryptoOp } from '../../framework/structures.js';
import { errnoOf } from '../../errno.js';
import { then, type AeadTransform, type AuthTransform, type Maybe, type Transform } from './transforms.js';
import { borrowScratch, returnScratch } from './scratch.js';

/** One algorithm of a driver session. */
export interface SessionEntry {
  alg: number;
  /** MAC bytes to deliver; 0: the whole digest (AEAD auth entries: the tag length, 0 = 16). */
  mlen: number;
  /** Null for the auth half of an AEAD pair: the cipher's transform does its work. */
  transform: Transform | null;
}

/**
 * A driver session: its entries, and optionally one transform doing a cipher entry and a MAC
 * entry together, encrypt-then-MAC (the kernel's authenc()), used when a request's layout is
 * that of ETA: the MAC region ends where the cipher region ends and covers it.
 */
export interface DriverSession {
  entries: SessionEntry[];
  etm?: { cipher: SessionEntry; auth: SessionEntry; transform: AeadTransform };
}

const errno = {
  EINVAL: errnoOf('EINVAL'),
  EBADMSG: errnoOf('EBADMSG'),
  ENOSPC: errnoOf('ENOSPC'),
  ECANCELED: errnoOf('ECANCELED'),
};

const failures = new WeakMap<CryptoOp, unknown>();
/**
 * Whether any failure was ever kept: until one is, a request has none to clear, and clearing
 * costs a lookup (and the request an identity hash) on every request.
 */
let keptFailures = false;

/**
 * The error behind a failed request's etype, when a transform threw one (a KCryptoError names
 * the system call and driver; etype alone cannot).
 */
export function failureOf(crp: CryptoOp): unknown {
  return failures.get(crp);
}

/** The errno a failure maps to: a KCryptoError's own, else EINVAL. */
export function errnoOfFailure(err: unknown): number {
  return err instanceof KCryptoError && err.errno > 0 ? err.errno : errno.EINVAL;
}

function badMessage(): KCryptoError {
  return new KCryptoError('MAC verification failed', { code: 'EBADMSG', errno: errno.EBADMSG, syscall: 'verify', driver: 'framework' });
}

/** The descriptor's own key with CRD_F_KEY_EXPLICIT (`klen` bits of it), else null (the session's). */
function explicitKey(d: CryptoDesc): Uint8Array | null {
  if (!(d.flags & C.CRD_F_KEY_EXPLICIT) || !d.key) return null;
  return d.key.subarray(0, Math.ceil(d.klen / 8) || d.key.length);
}

function ivLengthOf(d: CryptoDesc, kind: CipherKind | AeadKind): number | null {
  if (d.ivLength === 0) return kind.ivLength;
  return d.ivLength === kind.ivLength || kind.ivLengths?.includes(d.ivLength) ? d.ivLength : null;
}

/**
 * The IV of a cipher descriptor: the explicit one; else, decrypting, the one at `inject`; else
 * a fresh one, written at `inject` unless CRD_F_IV_PRESENT says the packet carries it. Null
 * when `inject` is out of range.
 */
function resolveIv(
  buf: Buffer,
  d: CryptoDesc,
  ivLength: number,
  encrypt: boolean,
  out: Buffer = buf,
  written?: [number, number][],
): Buffer | null {
  if (ivLength === 0) return Buffer.alloc(0);
  const fits = d.inject >= 0 && d.inject + ivLength <= buf.length;
  let iv: Buffer;
  if (d.flags & C.CRD_F_IV_EXPLICIT) iv = Buffer.from(d.iv.length === ivLength ? d.iv : d.iv.subarray(0, ivLength));
  else if (encrypt) iv = randomBytes(ivLength);
  else if (fits) iv = Buffer.from(buf.subarray(d.inject, d.inject + ivLength));
  else return null;
  if (iv.length !== ivLength) return null;
  // Encrypting, the IV (explicit or made up) goes into the packet unless it is there already.
  if (encrypt && !(d.flags & C.CRD_F_IV_PRESENT)) {
    if (!fits || d.inject + ivLength > out.length) return null;
    iv.copy(out, d.inject);
    written?.push([d.inject, d.inject + ivLength]);
  }
  return iv;
}

function inRange(buf: Buffer, d: CryptoDesc): boolean {
  return Number.isSafeInteger(d.skip) && Number.isSafeInteger(d.len) && d.skip >= 0 && d.len >= 0 && d.skip + d.len <= buf.length;
}

interface Job {
  crp: CryptoOp;
  /** Read by the descriptors. */
  buf: Buffer;
  /** Written by a cipher descriptor: `buf`, or the separate output (CryptoOp.obuf). */
  out: Buffer;
  /** `out` is the consumer's obuf and never read after a failure (CRYPTO_F_KC_OBUF_DISPOSABLE). */
  outDisposable: boolean;
  /** The regions of `out` written, [from, to), when it is not `buf`. */
  written: [number, number][];
  session: DriverSession;
  descs: CryptoDesc[];
  /** The entry each descriptor uses. */
  entryOf: (SessionEntry | undefined)[];
  /** Descriptors already done with another (an AEAD's auth half, an ETA pair); null until one is. */
  consumed: Set<number> | null;
  /** See execute(). */
  commit: (() => boolean) | undefined;
  /** The copy `out` (or `buf` and `out`) is, when the request works on one. */
  scratch: Buffer | null;
}

function viewOf(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * Runs `crp` on `session`; resolves with 0 or the errno of the failure (never rejects).
 *
 * With `commit`, the request works on a copy of its buffer, copied back only when it has
 * succeeded and `commit()` still says so. A driver whose device can go away passes it: once the
 * framework has handed the request back with EAGAIN, its consumer resubmits the same buffer
 * elsewhere, and a late completion on the gone device (or one descriptor of a chain done before
 * it went) must not write into it.
 */
export function execute(crp: CryptoOp, session: DriverSession, commit?: () => boolean): Maybe<number> {
  const raw = crp.buf;
  const obuf = crp.obuf;
  const descs: CryptoDesc[] = [];
  for (let d: CryptoDesc | null = crp.desc; d; d = d.next) descs.push(d);
  if (obuf && (Array.isArray(raw) || descs.length !== 1 || kindOf(descs[0]!.alg)?.kind !== 'cipher' || obuf.length < raw.length))
    return errno.EINVAL;
  // `buf` is read, `out` written: the same buffer but with a separate output buffer. A device's
  // request writes a scratch copy (see `commit`); an iovec is gathered into a copy anyway.
  let buf: Buffer;
  let out: Buffer;
  let scratch: Buffer | null = null;
  const disposable = obuf !== null && (crp.flags & C.CRYPTO_F_KC_OBUF_DISPOSABLE) !== 0;
  if (Array.isArray(raw)) buf = out = Buffer.concat(raw);
  else if (obuf) {
    buf = viewOf(raw);
    // A separate output buffer needs no scratch copy when the consumer never reads it after a
    // failure (CRYPTO_F_KC_OBUF_DISPOSABLE), or when its one request's transform guards it:
    // the input is never written, and the engine writes nothing into the output once the
    // request may have been handed back. A copy of 64 KiB on this thread costs about as much
    // as the rest of the request's JavaScript work together (lab, TCG).
    out = commit && !disposable && !guardedCipher(session, descs[0]!) ? (scratch = borrowScratch(obuf.length)) : viewOf(obuf);
  } else if (commit) {
    buf = out = scratch = borrowScratch(raw.length);
    scratch.set(raw);
  } else buf = out = viewOf(raw);
  const entryOf = descs.length === 1 ? [entryFor(session, descs[0]!.alg)] : entriesOf(descs, session);
  for (let i = 0; i < descs.length; i++) if (entryOf[i] === undefined || !inRange(buf, descs[i]!)) return errno.EINVAL;
  if (descs.length === 0) return errno.EINVAL;
  const job: Job = {
    crp,
    buf,
    out,
    outDisposable: disposable && out !== buf,
    written: [],
    session,
    descs,
    entryOf,
    consumed: null,
    commit,
    scratch,
  };
  if (keptFailures) failures.delete(crp);
  let result: Maybe<number>;
  try {
    result = step(job, 0);
  } catch (err) {
    return failed(crp, err);
  }
  return result instanceof Promise
    ? result.then(
        (rc) => finish(job, rc),
        (err: unknown) => failed(crp, err),
      )
    : finish(job, result);
}

/** A request whose transform threw `err`: its errno, the error kept for failureOf(). */
function failed(crp: CryptoOp, err: unknown): number {
  keptFailures = true;
  failures.set(crp, err);
  return errnoOfFailure(err);
}

/** After the descriptors ran with `rc`: commits a copy, scatters an iovec back, sets olen. */
function finish(job: Job, rc: number): number {
  if (rc !== 0) return rc;
  const { crp, buf, out, scratch, descs } = job;
  const raw = crp.buf;
  const obuf = crp.obuf;
  if (job.commit) {
    if (!job.commit()) return errno.ECANCELED;
    if (obuf) {
      if (scratch) for (const [from, to] of job.written) obuf.set(out.subarray(from, to), from);
    } else if (!Array.isArray(raw)) raw.set(buf);
  }
  if (scratch) returnScratch(scratch);
  // Scattered back only when something was written into the buffer (not for a hash into crp.mac).
  if (Array.isArray(raw) && (crp.mac === null || descs.some((d) => kindOf(d.alg)?.kind !== 'auth'))) {
    let off = 0;
    for (const seg of raw) {
      buf.copy(seg, 0, off, off + seg.length);
      off += seg.length;
    }
  }
  if (crp.olen === 0 || !hasComp(descs)) crp.olen = buf.length;
  return 0;
}

function hasComp(descs: CryptoDesc[]): boolean {
  for (const d of descs) if (kindOf(d.alg)?.kind === 'comp') return true;
  return false;
}

/** The session's first entry for `alg`. */
function entryFor(session: DriverSession, alg: number): SessionEntry | undefined {
  for (const e of session.entries) if (e.alg === alg) return e;
  return undefined;
}

/** The entry each descriptor uses: the n-th descriptor of an algorithm, the n-th entry of it (else the first). */
function entriesOf(descs: CryptoDesc[], session: DriverSession): (SessionEntry | undefined)[] {
  const seen = new Map<number, number>();
  return descs.map((d) => {
    const n = seen.get(d.alg) ?? 0;
    seen.set(d.alg, n + 1);
    return session.entries.filter((e) => e.alg === d.alg)[n] ?? session.entries.find((e) => e.alg === d.alg);
  });
}

/** Whether the session's transform for the one cipher descriptor `d` guards its output. */
function guardedCipher(session: DriverSession, d: CryptoDesc): boolean {
  const t = session.entries.find((e) => e.alg === d.alg)?.transform;
  return t?.kind === 'cipher' && t.guardsOutput === true;
}

function step(job: Job, i: number): Maybe<number> {
  for (; i < job.descs.length; i++) {
    if (job.consumed?.has(i)) continue;
    const r = one(job, i);
    if (typeof r === 'number') {
      if (r !== 0) return r;
      continue;
    }
    const next = i + 1;
    return r.then((rc) => (rc !== 0 ? rc : step(job, next)));
  }
  return 0;
}

function one(job: Job, i: number): Maybe<number> {
  const d = job.descs[i]!;
  const entry = job.entryOf[i]!;
  const kind = kindOf(d.alg);
  const t = entry.transform;
  if (!kind) return errno.EINVAL;
  const etm = etmPair(job, i);
  if (etm) return etm();
  if (t?.kind === 'cipher' && kind.kind === 'cipher') return cipher(job, d, kind, t);
  if (t?.kind === 'aead' && kind.kind === 'aead') return aead(job, i, kind, t);
  if (t?.kind === 'auth') return auth(job, d, entry, t);
  if (t?.kind === 'rng') {
    const region = job.buf.subarray(d.skip, d.skip + d.len);
    return then(t.generate(d.len), (out) => {
      region.set(out.subarray(0, d.len));
      return 0;
    });
  }
  if (t?.kind === 'comp') {
    // As FreeBSD's cryptosoft: any of CRD_F_COMP's bits means compress.
    return then(t.run((d.flags & C.CRD_F_COMP) !== 0, job.buf.subarray(d.skip, d.skip + d.len)), (out) => {
      if (d.skip + out.length > job.buf.length) return errno.ENOSPC;
      job.buf.set(out, d.skip);
      job.crp.olen = d.skip + out.length;
      return 0;
    });
  }
  // The auth half of an AEAD without its cipher descriptor in this request.
  return errno.EINVAL;
}

function cipher(job: Job, d: CryptoDesc, kind: CipherKind, t: Extract<Transform, { kind: 'cipher' }>): Maybe<number> {
  if (d.len % kind.block !== 0 || (kind.minLength !== undefined && d.len > 0 && d.len < kind.minLength)) return errno.EINVAL;
  const ivLength = ivLengthOf(d, kind);
  if (ivLength === null) return errno.EINVAL;
  const encrypt = (d.flags & C.CRD_F_ENCRYPT) !== 0;
  const iv = resolveIv(job.buf, d, ivLength, encrypt, job.out, job.written);
  if (!iv) return errno.EINVAL;
  const region = regionOf(job.buf, d);
  const target = job.out === job.buf ? region : regionOf(job.out, d);
  job.written.push([d.skip, d.skip + d.len]);
  return then(t.run(encrypt, iv, region, explicitKey(d), target, job.outDisposable), (out) => {
    if (out !== target) target.set(out.subarray(0, target.length));
    return 0;
  });
}

/** Where a MAC or tag of `length` bytes is read or written: crp.mac, else the buffer at `inject`. */
function macSlot(job: Job, d: CryptoDesc | undefined, length: number): Uint8Array | null {
  if (d && !job.crp.mac) return d.inject >= 0 && d.inject + length <= job.buf.length ? job.buf.subarray(d.inject, d.inject + length) : null;
  const mac = job.crp.mac;
  if (!mac || mac.length < length) return null;
  return mac.length === length ? mac : mac.subarray(0, length);
}

function aead(job: Job, i: number, kind: AeadKind, t: AeadTransform): Maybe<number> {
  const d = job.descs[i]!;
  const authIndex = job.descs.findIndex((x, j) => j !== i && kind.auth.includes(x.alg));
  const authDesc = authIndex >= 0 ? job.descs[authIndex] : undefined;
  const authEntry = authIndex >= 0 ? job.entryOf[authIndex] : job.session.entries.find((e) => kind.auth.includes(e.alg));
  if (authIndex >= 0) (job.consumed ??= new Set()).add(authIndex);
  const tagLength = authEntry && authEntry.mlen > 0 ? authEntry.mlen : 16;
  const ivLength = ivLengthOf(d, kind);
  if (ivLength === null) return errno.EINVAL;
  const encrypt = (d.flags & C.CRD_F_ENCRYPT) !== 0;
  const iv = resolveIv(job.buf, d, ivLength, encrypt);
  if (!iv) return errno.EINVAL;
  const aad = authDesc ? job.buf.subarray(authDesc.skip, authDesc.skip + authDesc.len) : new Uint8Array(0);
  const slot = macSlot(job, authDesc, tagLength);
  if (!slot) return errno.EINVAL;
  const region = job.buf.subarray(d.skip, d.skip + d.len);
  const key = explicitKey(d);
  if (encrypt) {
    return then(t.seal(iv, aad, region, tagLength, key), ({ out, tag }) => {
      region.set(out.subarray(0, region.length));
      slot.set(tag.subarray(0, tagLength));
      return 0;
    });
  }
  return then(t.open(iv, aad, region, Buffer.from(slot), key), (out) => {
    region.set(out.subarray(0, region.length));
    return 0;
  });
}

function auth(job: Job, d: CryptoDesc, entry: SessionEntry, t: AuthTransform): Maybe<number> {
  const region = regionOf(job.buf, d);
  if (d.flags & C.CRD_F_KC_UPDATE) return then(t.update([region]), () => 0);
  if (d.flags & C.CRD_F_KC_FINAL)
    return then(
      then(region.length > 0 ? t.update([region]) : undefined, () => t.final()),
      (full) => deliverMac(job, d, entry, full),
    );
  // A whole digest to write (not to verify): the transform may write it in its slot at once.
  const whole = !(d.flags & C.CRD_F_KC_VERIFY) && (entry.mlen === 0 || entry.mlen === t.digestLength);
  const slot = whole ? macSlot(job, d, t.digestLength) : null;
  const into = slot ? viewOf(slot) : undefined;
  const iv = d.flags & C.CRD_F_IV_EXPLICIT ? d.iv.subarray(0, d.ivLength || 12) : null;
  return then(t.digest(region, explicitKey(d), iv, into), (full) => (full === into ? 0 : deliverMac(job, d, entry, full)));
}

/** The region a descriptor covers: the buffer itself when it covers all of it (no view to make). */
function regionOf(buf: Buffer, d: CryptoDesc): Buffer {
  return d.skip === 0 && d.len === buf.length ? buf : buf.subarray(d.skip, d.skip + d.len);
}

function deliverMac(job: Job, d: CryptoDesc, entry: SessionEntry, full: Uint8Array): number {
  const mac = entry.mlen > 0 && entry.mlen < full.length ? full.subarray(0, entry.mlen) : full;
  const slot = macSlot(job, d, mac.length);
  if (!slot) return errno.EINVAL;
  if (d.flags & C.CRD_F_KC_VERIFY) {
    if (!timingSafeEqual(Buffer.from(slot), Buffer.from(mac))) throw badMessage();
    return 0;
  }
  slot.set(mac);
  return 0;
}

/**
 * When the session has an ETA transform and descriptor `i` starts an ETA pair laid out as
 * authenc() needs (encrypting: cipher then MAC; decrypting with CRD_F_KC_VERIFY: MAC then
 * cipher; the MAC region = associated data ‖ cipher region), the pair as one operation.
 */
function etmPair(job: Job, i: number): (() => Maybe<number>) | null {
  const etm = job.session.etm;
  if (!etm) return null;
  const j = i + 1;
  if (j >= job.descs.length) return null;
  const [a, b] = [job.entryOf[i], job.entryOf[j]];
  const first = job.descs[i]!;
  const second = job.descs[j]!;
  const encrypt = a === etm.cipher && b === etm.auth && (first.flags & C.CRD_F_ENCRYPT) !== 0;
  const decrypt = a === etm.auth && b === etm.cipher && (second.flags & C.CRD_F_ENCRYPT) === 0 && (first.flags & C.CRD_F_KC_VERIFY) !== 0;
  if (!encrypt && !decrypt) return null;
  const c = encrypt ? first : second;
  const m = encrypt ? second : first;
  if (m.skip > c.skip || m.skip + m.len !== c.skip + c.len || explicitKey(c) || explicitKey(m)) return null;
  const kind = kindOf(c.alg);
  if (kind?.kind !== 'cipher' || c.len % kind.block !== 0) return null;
  return () => {
    (job.consumed ??= new Set()).add(j);
    const iv = resolveIv(job.buf, c, kind.ivLength, encrypt);
    if (!iv) return errno.EINVAL;
    const tagLength = etm.auth.mlen;
    const slot = macSlot(job, m, tagLength);
    if (!slot) return errno.EINVAL;
    const aad = job.buf.subarray(m.skip, c.skip);
    const region = job.buf.subarray(c.skip, c.skip + c.len);
    if (encrypt) {
      return then(etm.transform.seal(iv, aad, region, tagLength, null), ({ out, tag }) => {
        region.set(out.subarray(0, region.length));
        slot.set(tag.subarray(0, tagLength));
        return 0;
      });
    }
    return then(etm.transform.open(iv, aad, region, Buffer.from(slot), null), (out) => {
      region.set(out.subarray(0, region.length));
      return 0;
    });
  };
}
