/**
 * Property-based tests of openSession()'s sessions: random sequences of open, encrypt, decrypt,
 * digest, update, final, copy, close and abort on one driver, with random sizes (empty, block
 * edges, the session's maxRequestBytes ± 1, several MiB), random data forms (strings in an
 * encoding, DataViews and typed arrays at odd offsets, SharedArrayBuffer views, views over
 * detached buffers) and several requests in flight at once on one or several sessions.
 *
 * The model says, for each request as it is made, what it must settle with: node:crypto's
 * output for the same bytes, or a documented error (misuse: a TypeError or RangeError with
 * Node's code; what a driver answered: a KCryptoError with code, errno, syscall and driver; an
 * AbortError; ERR_INVALID_STATE for data detached while in flight). Every promise must settle
 * exactly once, a closed sequence must leave the process's descriptors as it found them.
 * fast-check shrinks a failing sequence; its seed and path replay it
 * (KCRYPTO_PROPERTY_SEED, KCRYPTO_PROPERTY_PATH); KCRYPTO_PROPERTY_RUNS scales the runs.
 */
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';

import fc from 'fast-check';

import { AbortError, KCryptoError, openSession, type AeadSession, type CipherSession, type HashSession } from '../../src/index.js';
import { describeError } from './errors.js';
import { canCountFds, leakedFds, openFds } from './fds.js';

/** The session kinds the sequences use: node:crypto names, each checked against node:crypto. */
export const KINDS = ['cbc', 'ctr', 'gcm', 'sha256'] as const;
export type Kind = (typeof KINDS)[number];

const NAMES: Record<Exclude<Kind, 'sha256'>, string> = { cbc: 'aes-128-cbc', ctr: 'aes-256-ctr', gcm: 'aes-128-gcm' };
const KEY_BYTES: Record<Exclude<Kind, 'sha256'>, number> = { cbc: 16, ctr: 32, gcm: 16 };

/** A request's size: a fixed length, near the session's maxRequestBytes, or large. */
export type Size = number | 'max-1' | 'max' | 'max+1' | 'big';
/** The form a request's data takes. */
export type Form =
  | 'buffer'
  | 'u8-odd'
  | 'dataview-odd'
  | 'u16'
  | 'shared'
  | 'hex'
  | 'base64'
  | 'latin1'
  | 'utf8'
  | 'utf16le'
  | 'bad-encoding'
  | 'pieces'
  | 'detached-empty';
/** `pre`: the signal is aborted before the call; `soon`: right after it. */
export type Abort = 'none' | 'pre' | 'soon';

export type Op =
  | { t: 'open'; kind: Kind }
  | {
      t: 'req';
      /** The session: an index into every session opened so far (closed ones too). */
      s: number;
      /** The method: an index into the kind's methods (see METHODS). */
      m: number;
      size: Size;
      form: Form;
      abort: Abort;
      /** Await it before the next operation; otherwise it stays in flight. */
      wait: boolean;
      /** Detach the data's ArrayBuffer right after the call. */
      detach: boolean;
      seed: number;
    }
  | { t: 'copy'; s: number }
  | { t: 'close'; s: number; wait: boolean }
  | { t: 'settle' };

const METHODS: Record<Kind, readonly string[]> = {
  cbc: ['encrypt', 'decrypt'],
  ctr: ['encrypt', 'decrypt'],
  gcm: ['encrypt', 'decrypt', 'decrypt-forged'],
  sha256: ['digest', 'update', 'update', 'final'],
};

const FIXED_SIZES = [0, 1, 15, 16, 17, 31, 32, 33, 255, 256, 257, 4095, 4096, 4097, 65_535, 65_536, 65_537];

/** Bounds of a run: how large 'big' is, and how long a sequence. */
export interface Scale {
  /** Bytes of a 'big' request (several MiB on the host, less in the emulated lab). */
  big: number;
  maxOps: number;
}

/** The operations of a sequence on sessions of `kinds`. */
export function opArbitrary(kinds: readonly Kind[]): fc.Arbitrary<Op> {
  const size: fc.Arbitrary<Size> = fc.oneof(
    { arbitrary: fc.constantFrom(...FIXED_SIZES), weight: 8 },
    { arbitrary: fc.constantFrom<Size>('max-1', 'max', 'max+1'), weight: 2 },
    { arbitrary: fc.constant<Size>('big'), weight: 1 },
  );
  const form = fc.constantFrom<Form>(
    'buffer',
    'u8-odd',
    'dataview-odd',
    'u16',
    'shared',
    'hex',
    'base64',
    'latin1',
    'utf8',
    'utf16le',
    'bad-encoding',
    'pieces',
    'detached-empty',
  );
  const req = fc.record({
    t: fc.constant('req' as const),
    s: fc.nat(15),
    m: fc.nat(3),
    size,
    form,
    abort: fc.oneof({ arbitrary: fc.constant<Abort>('none'), weight: 6 }, { arbitrary: fc.constantFrom<Abort>('pre', 'soon'), weight: 1 }),
    wait: fc.boolean(),
    detach: fc.oneof({ arbitrary: fc.constant(false), weight: 8 }, { arbitrary: fc.constant(true), weight: 1 }),
    seed: fc.nat(),
  });
  return fc.oneof(
    { arbitrary: req, weight: 10 },
    { arbitrary: fc.record({ t: fc.constant('open' as const), kind: fc.constantFrom(...kinds) }), weight: 1 },
    { arbitrary: fc.record({ t: fc.constant('copy' as const), s: fc.nat(15) }), weight: 1 },
    { arbitrary: fc.record({ t: fc.constant('close' as const), s: fc.nat(15), wait: fc.boolean() }), weight: 1 },
    { arbitrary: fc.constant({ t: 'settle' as const }), weight: 1 },
  );
}

/** Deterministic bytes (xorshift) from a seed: fast for MiBs, and replayed by the seed. */
function bytesOf(seed: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = (seed | 0) ^ 0x9e3779b9 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** What a request must settle with. */
type Check = (v: unknown) => void | Promise<void>;
type Expect =
  | { value: Check }
  | { error: Check }
  /** Either: for outcomes that depend on timing (an abort racing the driver, a detach). */
  | { either: [Check, Check] };

function misuse(cls: typeof TypeError | typeof RangeError, code: string): (e: unknown) => void {
  return (e) => {
    assert.ok(!(e instanceof KCryptoError) && e instanceof cls, `expected ${cls.name} ${code}, got ${describeError(e)}`);
    assert.equal((e as { code?: unknown }).code, code, describeError(e));
  };
}

function kerror(code: string, driver: string): (e: unknown) => void {
  return (e) => {
    assert.ok(e instanceof KCryptoError, `expected KCryptoError ${code}, got ${describeError(e)}`);
    assert.equal(e.code, code, describeError(e));
    assert.equal(typeof e.errno, 'number');
    assert.ok(e.errno > 0 && e.syscall.length > 0, describeError(e));
    assert.equal(e.driver, driver, describeError(e));
  };
}

const aborted = (e: unknown): void => {
  assert.ok(e instanceof AbortError && e.code === 'ABORT_ERR', `expected AbortError, got ${describeError(e)}`);
};

/** A request's data in the op's form, the bytes it stands for, and its encoding option. */
interface Data {
  data: string | ArrayBufferView | (string | ArrayBufferView)[];
  bytes: Buffer;
  encoding?: BufferEncoding;
  /** The ArrayBuffer a detach takes away (none for strings and shared memory). */
  buffer?: ArrayBuffer;
  /** Misuse this form is, whatever else (an unknown encoding). */
  misuse?: (e: unknown) => void;
}

function dataOf(form: Form, raw: Buffer, allowPieces: boolean): Data {
  const n = raw.length;
  switch (form) {
    case 'u8-odd': {
      const ab = new ArrayBuffer(n + 7);
      const v = new Uint8Array(ab, 3, n);
      v.set(raw);
      return { data: v, bytes: raw, buffer: ab };
    }
    case 'dataview-odd': {
      const ab = new ArrayBuffer(n + 5);
      new Uint8Array(ab, 1, n).set(raw);
      return { data: new DataView(ab, 1, n), bytes: raw, buffer: ab };
    }
    case 'u16': {
      if (n % 2 !== 0) return dataOf('buffer', raw, allowPieces);
      const ab = new ArrayBuffer(n + 4);
      new Uint8Array(ab, 2, n).set(raw);
      return { data: new Uint16Array(ab, 2, n / 2), bytes: raw, buffer: ab };
    }
    case 'shared': {
      const v = new Uint8Array(new SharedArrayBuffer(n + 1), 1, n);
      v.set(raw);
      return { data: v, bytes: raw };
    }
    case 'hex':
    case 'base64':
    case 'latin1':
      return { data: raw.toString(form), bytes: raw, encoding: form };
    case 'utf8': {
      const ascii = Buffer.from(raw.map((b) => b & 0x7f));
      return { data: ascii.toString('latin1'), bytes: ascii };
    }
    case 'utf16le':
      if (n % 2 !== 0) return dataOf('hex', raw, allowPieces);
      return { data: raw.toString('utf16le'), bytes: raw, encoding: 'utf16le' };
    case 'bad-encoding':
      return {
        data: raw.toString('latin1'),
        bytes: raw,
        encoding: 'no-such-encoding' as BufferEncoding,
        misuse: misuse(TypeError, 'ERR_UNKNOWN_ENCODING'),
      };
    case 'pieces': {
      if (!allowPieces) return dataOf('u8-odd', raw, allowPieces);
      const cut = Math.floor(n / 3);
      return { data: [raw.subarray(0, cut), Buffer.from(raw.subarray(cut)).toString('hex')], bytes: raw, encoding: 'hex' };
    }
    case 'detached-empty': {
      // The bytes of a view over a detached ArrayBuffer: none, as node:crypto reads them.
      const ab = new ArrayBuffer(16);
      const v = new DataView(ab, 2, 8);
      structuredClone(ab, { transfer: [ab] });
      return { data: v, bytes: Buffer.alloc(0) };
    }
    case 'buffer':
      return { data: Buffer.from(raw), bytes: raw };
  }
}

interface Live {
  kind: Kind;
  session: CipherSession | AeadSession | HashSession;
  key: Buffer;
  closed: boolean;
  /** Hash state: updates (bytes) and finals (null), each with whether it was applied. */
  log: { bytes: Buffer | null; ok: Promise<boolean> }[];
  /** Every request of this session still in flight (copy() waits for them). */
  inflight: Promise<unknown>[];
  /** The driver keeps no hash state (the BSDs' /dev/crypto): update, final and copy are ENOTSUP. */
  stateless: boolean;
}

/** What one driver's sequences run on. */
export interface Target {
  driver: string;
  /** Kinds the driver serves (see {@link kindsOn}). */
  kinds: readonly Kind[];
  scale: Scale;
}

/** The kinds of {@link KINDS} that open on `driver` (a kernel driver serves one or two). */
export async function kindsOn(driver: string): Promise<Kind[]> {
  const kinds: Kind[] = [];
  for (const kind of KINDS) {
    try {
      const s = await openKind(driver, kind, nodeCrypto.randomBytes(32));
      await s.close();
      kinds.push(kind);
    } catch {
      // not served here
    }
  }
  return kinds;
}

function openKind(driver: string, kind: Kind, key: Buffer): Promise<CipherSession | AeadSession | HashSession> {
  if (kind === 'sha256') return openSession({ hash: 'sha256' }, { driver });
  return openSession({ cipher: NAMES[kind], key: key.subarray(0, KEY_BYTES[kind]) }, { driver });
}

async function stateless(s: HashSession): Promise<boolean> {
  try {
    await s.update(new Uint8Array(0));
    return false;
  } catch (err) {
    if (err instanceof KCryptoError && err.code === 'ENOTSUP') return true;
    throw err;
  }
}

/** Runs one sequence; throws (an assertion) on the first broken invariant. */
export async function runSequence(t: Target, ops: readonly Op[]): Promise<void> {
  const fdsBefore = canCountFds() ? openFds() : null;
  const sessions: Live[] = [];
  const all: Promise<void>[] = [];
  const failures: unknown[] = [];
  const open = async (kind: Kind): Promise<void> => {
    const key = nodeCrypto.randomBytes(32);
    const session = await openKind(t.driver, kind, key);
    const live: Live = { kind, session, key, closed: false, log: [], inflight: [], stateless: false };
    if (session.kind === 'hash') live.stateless = await stateless(session);
    sessions.push(live);
  };
  for (const kind of t.kinds) await open(kind);
  let index = 0;
  for (const op of ops) {
    const where = `op ${index++} ${JSON.stringify(op)}`;
    if (op.t === 'open') await open(op.kind);
    else if (op.t === 'settle') await Promise.all(all);
    else if (op.t === 'close') {
      const live = sessions[op.s % sessions.length]!;
      live.closed = true;
      const p = live.session.close();
      if (op.wait) await p;
      else all.push(p);
    } else if (op.t === 'copy') {
      const live = sessions[op.s % sessions.length]!;
      if (live.kind !== 'sha256') continue;
      await Promise.allSettled(live.inflight);
      const hash = live.session as HashSession;
      const p = hash.copy();
      if (live.closed) {
        await assert.rejects(p, (e) => (kerror('EBADF', hash.driver)(e), true), where);
        continue;
      }
      if (live.stateless) {
        await assert.rejects(p, (e) => (kerror('ENOTSUP', hash.driver)(e), true), where);
        continue;
      }
      const copy = await p;
      const fed = await applied(live.log);
      sessions.push({
        kind: 'sha256',
        session: copy,
        key: live.key,
        closed: false,
        log: [{ bytes: fed, ok: Promise.resolve(true) }],
        inflight: [],
        stateless: false,
      });
    } else {
      const live = sessions[op.s % sessions.length]!;
      const r = request(live, op, t.scale);
      const checked = r.then(
        () => undefined,
        (err: unknown) => {
          failures.push(
            new Error(`${where} on ${t.driver} (a ${live.kind} session): ${err instanceof Error ? err.message : String(err)}`, {
              cause: err,
            }),
          );
        },
      );
      live.inflight.push(checked);
      all.push(checked);
      if (op.wait) await checked;
    }
    if (failures.length > 0) break;
  }
  await Promise.all(all);
  await Promise.all(sessions.map((s) => s.session.close()));
  if (failures.length > 0) throw failures[0];
  if (fdsBefore) {
    const leaked = leakedFds(fdsBefore, openFds());
    assert.deepEqual(leaked, [], `descriptors left open after the sequence on ${t.driver}`);
  }
}

/** The bytes a hash state was fed: the applied updates since its last applied final. */
async function applied(log: Live['log']): Promise<Buffer> {
  let parts: Buffer[] = [];
  for (const e of log) {
    if (!(await e.ok)) continue;
    if (e.bytes === null) parts = [];
    else parts.push(e.bytes);
  }
  return Buffer.concat(parts);
}

/**
 * Whether an update was applied: when it resolved. One that rejected fed nothing -- ERR_INVALID_STATE
 * (data detached before a driver read it) included.
 */
function updateOutcome(p: Promise<unknown>): Promise<boolean> {
  return p.then(
    () => true,
    () => false,
  );
}

/**
 * Makes one request as the op says and checks how it settles. The call itself must not throw;
 * its promise must settle once (a second settlement of a native promise is impossible, so
 * "once" is: it settles, and with what the model expects).
 */
async function request(live: Live, op: Extract<Op, { t: 'req' }>, scale: Scale): Promise<void> {
  const s = live.session;
  const methods = METHODS[live.kind];
  const method = methods[op.m % methods.length]!;
  const max = s.maxRequestBytes;
  const tagLength = s.kind === 'aead' ? s.tagLength : 0;
  const size =
    op.size === 'big'
      ? scale.big
      : typeof op.size === 'number'
        ? op.size
        : max === undefined
          ? 65_536 + { 'max-1': -1, max: 0, 'max+1': 1 }[op.size]
          : Math.max(0, max - (s.kind === 'aead' ? tagLength : 0) + { 'max-1': -1, max: 0, 'max+1': 1 }[op.size]);
  const raw = bytesOf(op.seed, method === 'final' ? 0 : size);
  const ac = new AbortController();
  if (op.abort === 'pre') ac.abort(new Error('pre'));
  const signal = op.abort === 'none' ? undefined : ac.signal;
  const driver = s.driver;
  let expect: Expect;
  let promise: Promise<unknown>;
  let d: Data | undefined;
  // What the request is, apart from how it settles: misuse and refusals come first.
  const refused = (): ((e: unknown) => void) | undefined => {
    if (live.closed) return kerror('EBADF', driver);
    if (d?.misuse) return d.misuse;
    return undefined;
  };
  if (live.kind === 'sha256') {
    const h = s as HashSession;
    if (method === 'final') {
      const before = [...live.log];
      promise = h.final(signal ? { signal } : undefined);
      live.log.push({
        bytes: null,
        ok: promise.then(
          () => true,
          () => false,
        ),
      });
      const fedBefore = applied(before);
      expect = live.closed
        ? { error: kerror('EBADF', driver) }
        : live.stateless
          ? noState(op.abort, driver)
          : digestOf(fedBefore, op.abort);
      return check(promise, expect);
    }
    d = dataOf(op.form, raw, true);
    const options = { ...(d.encoding ? { encoding: d.encoding } : {}), ...(signal ? { signal } : {}) };
    promise = method === 'digest' ? h.digest(d.data, options) : h.update(d.data, options);
    if (op.abort === 'soon') ac.abort(new Error('soon'));
    const detached = detachIf(op, d);
    const pre = op.abort === 'pre' ? aborted : undefined;
    if (method === 'update') {
      const err = refused() ?? pre;
      live.log.push({ bytes: d.bytes, ok: updateOutcome(promise) });
      expect = err ? { error: err } : live.stateless ? noState(op.abort, driver, detached) : timing(op.abort, detached, () => undefined);
    } else {
      // As for ciphers and AEADs: the driver's limit is looked at before the signal.
      const err = refused() ?? (max !== undefined && d.bytes.length > max ? kerror('E2BIG', driver) : undefined) ?? pre;
      const want = nodeCrypto.createHash('sha256').update(d.bytes).digest();
      expect = err
        ? { error: err }
        : timing(op.abort, detached, (v) => assert.ok(Buffer.isBuffer(v) && v.equals(want), 'digest differs from node:crypto'));
    }
    return check(promise, expect);
  }
  const name = NAMES[live.kind];
  const key = live.key.subarray(0, KEY_BYTES[live.kind]);
  if (live.kind === 'gcm') {
    const a = s as AeadSession;
    const iv = bytesOf(op.seed + 1, 12);
    const aad = bytesOf(op.seed + 2, op.seed % 3 === 0 ? 0 : (op.seed % 40) + 1);
    const enc = nodeCrypto.createCipheriv('aes-128-gcm', key, iv, { authTagLength: tagLength });
    enc.setAAD(aad);
    const ct = Buffer.concat([enc.update(raw), enc.final()]);
    const tag = enc.getAuthTag();
    const tooBig = (n: number): ((e: unknown) => void) | undefined =>
      max !== undefined && aad.length + n + tagLength > max ? kerror('E2BIG', driver) : undefined;
    if (method === 'encrypt') {
      d = dataOf(op.form, raw, false);
      const options = { iv, aad, ...(d.encoding ? { encoding: d.encoding } : {}), ...(signal ? { signal } : {}) };
      promise = a.encrypt(d.data as string, options);
      if (op.abort === 'soon') ac.abort(new Error('soon'));
      const detached = detachIf(op, d);
      const err = refused() ?? tooBig(d.bytes.length) ?? (op.abort === 'pre' ? aborted : undefined);
      // A form whose bytes differ from raw (utf8 clears the top bits): node:crypto of those bytes.
      const e2 = nodeCrypto.createCipheriv('aes-128-gcm', key, iv, { authTagLength: tagLength });
      e2.setAAD(aad);
      const want = Buffer.concat([e2.update(d.bytes), e2.final()]);
      const wantTag = e2.getAuthTag();
      expect = err
        ? { error: err }
        : timing(op.abort, detached, (v) => {
            const out = v as { ciphertext: Buffer; tag: Buffer };
            assert.ok(out.ciphertext.equals(want) && out.tag.equals(wantTag), 'GCM output differs from node:crypto');
          });
    } else {
      const forged = method === 'decrypt-forged';
      const t2 = Buffer.from(tag);
      if (forged) t2[0]! ^= 1;
      d = dataOf(op.form === 'utf8' || op.form === 'bad-encoding' ? 'buffer' : op.form, ct, false);
      const options = { iv, aad, tag: t2, ...(d.encoding ? { encoding: d.encoding } : {}), ...(signal ? { signal } : {}) };
      promise = a.decrypt(d.data as string, options);
      if (op.abort === 'soon') ac.abort(new Error('soon'));
      const detached = detachIf(op, d);
      // The detached-empty form is no ciphertext at all: its tag is then forged.
      const bad = forged || d.bytes.length !== ct.length;
      const err = refused() ?? tooBig(d.bytes.length) ?? (op.abort === 'pre' ? aborted : undefined);
      expect = err
        ? { error: err }
        : bad
          ? { error: (e) => (isTiming(op.abort, detached, e) ? undefined : kerror('EBADMSG', driver)(e)) }
          : timing(op.abort, detached, (v) => assert.ok(Buffer.isBuffer(v) && v.equals(raw), 'GCM plaintext differs'));
    }
    return check(promise, expect);
  }
  const c = s as CipherSession;
  const iv = bytesOf(op.seed + 1, 16);
  d = dataOf(op.form, raw, false);
  const options = { iv, ...(d.encoding ? { encoding: d.encoding } : {}), ...(signal ? { signal } : {}) };
  promise = method === 'encrypt' ? c.encrypt(d.data as string, options) : c.decrypt(d.data as string, options);
  if (op.abort === 'soon') ac.abort(new Error('soon'));
  const detached = detachIf(op, d);
  const n = d.bytes.length;
  const alg = c.algorithm;
  const err =
    refused() ??
    (n % alg.alignment !== 0 || (n < alg.minLength && n !== 0) ? misuse(RangeError, 'ERR_OUT_OF_RANGE') : undefined) ??
    (max !== undefined && n > max ? kerror('E2BIG', driver) : undefined) ??
    (n % c.alignment !== 0 ? kerror('EINVAL', driver) : undefined) ??
    (op.abort === 'pre' ? aborted : undefined);
  if (err) expect = { error: err };
  else {
    const x = (method === 'encrypt' ? nodeCrypto.createCipheriv : nodeCrypto.createDecipheriv)(name, key, iv);
    x.setAutoPadding(false);
    const want = Buffer.concat([x.update(d.bytes), x.final()]);
    expect = timing(op.abort, detached, (v) => {
      const out = method === 'encrypt' ? (v as { ciphertext: Buffer }).ciphertext : (v as Buffer);
      assert.ok(Buffer.isBuffer(out) && out.equals(want), `${name} ${method} of ${n} bytes differs from node:crypto`);
    });
  }
  return check(promise, expect);
}

/**
 * A hash state call on a driver that keeps none: ENOTSUP from the driver, unless its signal
 * took it back first (an aborted signal is looked at before the request goes to a driver; one
 * aborted after the call races it there).
 */
function noState(abort: Abort, driver: string, detached = false): Expect {
  if (abort === 'pre') return { error: aborted };
  const notsup = kerror('ENOTSUP', driver);
  if (abort === 'none' && !detached) return { error: notsup };
  // Taken back by the signal, or refused for its detached data, before the driver answered.
  return { error: (e) => (isTiming(abort, detached, e) ? undefined : notsup(e)) };
}

/** The expectation of a request that may race an abort or a detach: its value, or that error. */
function timing(abort: Abort, detached: boolean, value: (v: unknown) => void): Expect {
  if (abort !== 'soon' && !detached) return { value };
  return {
    either: [
      value,
      (e) => assert.ok(isTiming(abort, detached, e), `expected a value, an AbortError or ERR_INVALID_STATE, got ${describeError(e)}`),
    ],
  };
}

function isTiming(abort: Abort, detached: boolean, e: unknown): boolean {
  if (abort === 'soon' && e instanceof AbortError) return true;
  if (detached && e instanceof TypeError && (e as { code?: string }).code === 'ERR_INVALID_STATE') return true;
  return false;
}

function digestOf(fed: Promise<Buffer>, abort: Abort): Expect {
  const value = async (v: unknown): Promise<void> => {
    const want = nodeCrypto
      .createHash('sha256')
      .update(await fed)
      .digest();
    assert.ok(Buffer.isBuffer(v) && v.equals(want), 'final() differs from node:crypto over the applied updates');
  };
  if (abort === 'pre') return { error: aborted };
  return abort === 'soon' ? { either: [value, aborted] } : { value };
}

/** Detaches the data's ArrayBuffer when the op says so and it has one; whether it did. */
function detachIf(op: Extract<Op, { t: 'req' }>, d: Data): boolean {
  if (!op.detach || d.buffer === undefined || d.bytes.length === 0) return false;
  structuredClone(d.buffer, { transfer: [d.buffer] });
  return true;
}

async function check(promise: Promise<unknown>, expect: Expect): Promise<void> {
  assert.ok(promise instanceof Promise, 'a request returns a promise');
  let outcome: { value: unknown } | { error: unknown };
  try {
    outcome = { value: await promise };
  } catch (error) {
    outcome = { error };
  }
  if ('value' in expect) {
    if ('error' in outcome) assert.fail(`expected a value, got ${describeError(outcome.error)}`);
    await expect.value(outcome.value);
  } else if ('error' in expect) {
    if ('value' in outcome) assert.fail('expected an error, got a value');
    await expect.error(outcome.error);
  } else if ('value' in outcome) await expect.either[0](outcome.value);
  else await expect.either[1](outcome.error);
}

/** Runs, seeds and path from the environment (KCRYPTO_PROPERTY_RUNS, _SEED, _PATH). */
export function propertyParameters(defaultRuns: number): fc.Parameters<[Op[]]> {
  const runs = Number(process.env['KCRYPTO_PROPERTY_RUNS'] ?? defaultRuns);
  const seed = process.env['KCRYPTO_PROPERTY_SEED'];
  const path = process.env['KCRYPTO_PROPERTY_PATH'];
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : defaultRuns,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
    // A failure's sequence is replayed whole while shrinking: keep that bounded on slow drivers.
    maxSkipsPerRun: 100,
  };
}

/**
 * The error a failed property throws: where it failed, fast-check's seed and path (to replay it),
 * the shrunk sequence and its error.
 */
export function propertyFailure<T extends unknown[]>(details: fc.RunDetails<T>, where: string): Error {
  const err = details.errorInstance;
  return new Error(
    [
      `property failed on ${where} after ${details.numRuns} sequence(s), shrunk ${details.numShrinks} time(s)`,
      `replay: KCRYPTO_PROPERTY_SEED=${details.seed} KCRYPTO_PROPERTY_PATH=${details.counterexamplePath ?? ''}`,
      `counterexample: ${JSON.stringify(details.counterexample?.[0])}`,
      `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    ].join('\n'),
    { cause: err },
  );
}

/**
 * Checks the property on `t` and returns how many sequences ran. A failure's message carries
 * fast-check's seed and path (to replay it), the shrunk sequence and its error.
 */
export async function checkSequences(t: Target, defaultRuns: number): Promise<number> {
  const details = await fc.check(
    fc.asyncProperty(fc.array(opArbitrary(t.kinds), { minLength: 1, maxLength: t.scale.maxOps }), (ops) => runSequence(t, ops)),
    propertyParameters(defaultRuns),
  );
  if (details.failed) throw propertyFailure(details, `${t.driver} (kinds ${t.kinds.join(', ')})`);
  return details.numRuns;
}
