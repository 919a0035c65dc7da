/**
 * Requests with a known answer, shared by the behaviour checks (concurrency, teardown): a
 * random request of a family, what node:crypto says it must give (bytes, or the error code a
 * driver must reject it with), how to start it on a session, and how to judge what came back.
 * Every wait is bounded, so that a driver that never answers fails the check instead of
 * hanging the run.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { AeadSession, CipherSession, HashSession, type Session } from '../../api/session.js';
import { KCryptoError } from '../../errors.js';
import { hex, preview } from '../bytes.js';
import type { Reproducer, SessionClass } from '../check.js';
import { describeError } from '../expect.js';
import { ivLengthsFor, refAead, refCipher, refDigest, sizesFor, type Family, type Keys } from '../families.js';

/**
 * How long one request, or one close(), may take before it counts as lost: 30 s (an emulated
 * CPU is slow; a lost request never comes), or `KCRYPTO_CONFORMANCE_SETTLE_MS` where set
 * (slower hardware; the kit's own tests, which wait for requests their drivers lose).
 */
export function settleMs(): number {
  const set = Number(process.env['KCRYPTO_CONFORMANCE_SETTLE_MS']);
  return Number.isFinite(set) && set > 0 ? set : 30_000;
}

/** The session class of a family. */
export function sessionClassOf(f: Family): SessionClass<Session> {
  return f.kind === 'cipher' ? CipherSession : f.kind === 'aead' ? AeadSession : HashSession;
}

/** The tag length sessions of `f` are opened with (the first listed), undefined for the rest. */
export function tagLengthOf(f: Family): number | undefined {
  return f.kind === 'aead' ? f.tagLengths[0] : undefined;
}

/**
 * `p`, or a rejection naming `what` once `ms` have passed without it settling. The timer is
 * cleared as soon as `p` settles, so a finished check leaves nothing behind.
 */
export function bounded<T>(p: Promise<T>, what: string, ms = settleMs()): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** What a request must give: these bytes, or a KCryptoError with this code. */
export type Expected = { bytes: Buffer } | { code: string };

/** One request with its known answer. */
export interface Job {
  /** The request in bytes (expected filled in, got left for the judge). */
  reproducer: Reproducer;
  expected: Expected;
  /** Starts the request on a session of the job's keys (and tag length). */
  start(s: Session, signal?: AbortSignal): Promise<Buffer>;
}

/** The kinds of request {@link randomJob} makes. */
export type JobKind = 'encrypt' | 'decrypt' | 'tampered' | 'digest';

/** Request kinds of a family, for a mix: ciphers and AEADs both ways (AEADs with some tampered tags), hashes digest. */
export function jobKindsOf(f: Family): readonly JobKind[] {
  if (f.kind === 'cipher') return ['encrypt', 'decrypt'];
  if (f.kind === 'aead') return ['encrypt', 'decrypt', 'encrypt', 'decrypt', 'encrypt', 'decrypt', 'encrypt', 'tampered'];
  return ['digest'];
}

/** Request sizes of the behaviour checks: small at `quick` (they test bookkeeping, not throughput), a few large at `full`. */
export function jobSizes(f: Family, full: boolean): number[] {
  return sizesFor(f, full ? [0, 16, 64, 1000, 4096, 16384, 65536 + 16] : [16, 64, 1024]);
}

/** A random request of `kind` on a session of `f` with `keys` (and the family's tag length). */
export function randomJob(f: Family, keys: Keys, kind: JobKind, size: number): Job {
  const base = { algorithm: f.kernelName, key: hex(keys.key), ...(keys.authKey ? { authKey: hex(keys.authKey) } : {}) };
  const data = randomBytes(size);
  if (f.kind === 'hash' || f.kind === 'mac') {
    const expected = refDigest(f, keys.key, [data]);
    return {
      reproducer: { ...base, operation: 'digest', data: hex(data), expected: hex(expected) },
      expected: { bytes: expected },
      start: (s, signal) => (s as HashSession).digest(data, signal ? { signal } : undefined),
    };
  }
  if (f.kind === 'cipher') {
    const iv = f.ivLength > 0 ? randomBytes(f.ivLength) : null;
    const decrypt = kind !== 'encrypt';
    const expected = refCipher(f, keys.key, iv, data, decrypt);
    const options = iv ? { iv } : {};
    return {
      reproducer: {
        ...base,
        operation: decrypt ? 'decrypt' : 'encrypt',
        ...(iv ? { iv: hex(iv) } : {}),
        data: hex(data),
        expected: hex(expected),
      },
      expected: { bytes: expected },
      start: (s, signal) => {
        const c = s as CipherSession;
        const o = signal ? { ...options, signal } : options;
        return decrypt ? c.decrypt(data, o) : c.encrypt(data, o).then((r) => r.ciphertext);
      },
    };
  }
  const tagLength = tagLengthOf(f)!;
  const ivLengths = ivLengthsFor(f, size);
  const iv = randomBytes(ivLengths[Math.floor(Math.random() * ivLengths.length)]!);
  const aad = randomBytes(Math.random() < 0.5 ? 0 : 20);
  const ref = refAead(f, keys, iv, aad, data, tagLength);
  const common = { ...base, iv: hex(iv), aad: hex(aad), tagLength };
  if (kind === 'encrypt') {
    const expected = Buffer.concat([ref.ciphertext, ref.tag]);
    return {
      reproducer: { ...common, operation: 'encrypt', data: hex(data), expected: hex(expected) },
      expected: { bytes: expected },
      start: (s, signal) =>
        (s as AeadSession).encrypt(data, { iv, aad, ...(signal ? { signal } : {}) }).then((r) => Buffer.concat([r.ciphertext, r.tag])),
    };
  }
  const tag = Buffer.from(ref.tag);
  if (kind === 'tampered') tag[Math.floor(Math.random() * tag.length)]! ^= 1 << Math.floor(Math.random() * 8);
  return {
    reproducer: {
      ...common,
      operation: 'decrypt',
      tag: hex(tag),
      data: hex(ref.ciphertext),
      ...(kind === 'tampered' ? {} : { expected: hex(data) }),
    },
    expected: kind === 'tampered' ? { code: 'EBADMSG' } : { bytes: data },
    start: (s, signal) => (s as AeadSession).decrypt(ref.ciphertext, { iv, aad, tag, ...(signal ? { signal } : {}) }),
  };
}

/** How a request settled. */
export type Outcome = { value: Buffer } | { error: unknown };

/** Starts a job and captures how it settles, bounded; `settled` counts the settlements (a promise settles once, a driver's callback may not). */
export function settle(job: Job, s: Session, what: string, signal?: AbortSignal): Promise<Outcome> {
  let started: Promise<Buffer>;
  try {
    started = job.start(s, signal);
  } catch (error) {
    // A request method must reject, never throw: judged like any other wrong answer.
    return Promise.resolve({ error: new Error(`${what}: threw synchronously instead of rejecting: ${describeError(error)}`) });
  }
  return bounded(
    started.then(
      (value): Outcome => ({ value }),
      (error: unknown): Outcome => ({ error }),
    ),
    what,
  ).catch((error: unknown): Outcome => ({ error }));
}

/**
 * Why an outcome is wrong for a job on `driver`, or undefined when it is right: the exact
 * bytes, or a KCryptoError with the expected code, an errno, a syscall and this driver.
 */
export function misjudged(job: Job, outcome: Outcome, driver: string): string | undefined {
  if ('value' in outcome) {
    if ('code' in job.expected) return `resolved with ${preview(outcome.value)}, expected a KCryptoError ${job.expected.code}`;
    return outcome.value.equals(job.expected.bytes)
      ? undefined
      : `resolved with ${preview(outcome.value)}, expected ${preview(job.expected.bytes)}`;
  }
  const err = outcome.error;
  if (!('code' in job.expected)) return `rejected: ${describeError(err)}`;
  return errorMismatch(err, job.expected.code, driver);
}

/** Why `err` is not a complete KCryptoError `code` from `driver`, or undefined. */
export function errorMismatch(err: unknown, code: string, driver: string): string | undefined {
  if (!(err instanceof KCryptoError)) return `expected a KCryptoError ${code}, got ${describeError(err)}`;
  if (err.code !== code) return `expected ${code}, got ${describeError(err)}`;
  if (typeof err.errno !== 'number' || err.errno <= 0) return `${code} with errno ${String(err.errno)}`;
  if (typeof err.syscall !== 'string' || err.syscall === '') return `${code} without a syscall`;
  if (err.driver !== driver) return `${code} names driver ${err.driver}, expected ${driver}`;
  return undefined;
}

/** The reproducer of a job with what the driver gave. */
export function withGot(job: Job, outcome: Outcome): Reproducer {
  return { ...job.reproducer, got: 'value' in outcome ? hex(outcome.value) : describeError(outcome.error) };
}
