/**
 * The `teardown` check: close() with requests in flight. As docs/api.md says, close() waits
 * for every request made before it, which completes exactly; a request made after it rejects
 * with `EBADF`, as does every request of a closed session; a request whose signal fires
 * before it reaches a driver rejects with an `AbortError`, otherwise completes; close()
 * resolves, a second close() too. Every wait is bounded: a request or close() that never
 * settles fails the check instead of hanging it.
 */
import { Buffer } from 'node:buffer';
import { AbortError } from '../../errors.js';
import { AeadSession, CipherSession, HashSession, type Session } from '../../api/session.js';
import type { Check, CheckContext } from '../check.js';
import { describeError } from '../expect.js';
import { randomKeys, specOf } from '../families.js';
import {
  bounded,
  errorMismatch,
  jobKindsOf,
  jobSizes,
  misjudged,
  randomJob,
  sessionClassOf,
  settle,
  tagLengthOf,
  withGot,
  type Job,
  type Outcome,
} from './requests.js';

/** Judges one outcome and counts it under `outcome` when right. */
function judge(ctx: CheckContext, job: Job, outcome: Outcome, driver: string, what: string, outcomeName: string): void {
  const wrong = misjudged(job, outcome, driver);
  if (wrong === undefined) ctx.count(outcomeName);
  else {
    ctx.count('wrong');
    ctx.fail({ message: `${what}: ${wrong}`, reproducer: withGot(job, outcome) });
  }
}

/** Requests of the session's family and keys, the kinds and sizes taken in turn. */
function jobsFor(ctx: CheckContext, keys: ReturnType<typeof randomKeys>, n: number): Job[] {
  const kinds = jobKindsOf(ctx.family);
  const sizes = jobSizes(ctx.family, ctx.depth === 'full');
  return Array.from({ length: n }, (_, i) => randomJob(ctx.family, keys, kinds[i % kinds.length]!, sizes[(i * 5) % sizes.length]!));
}

/** close() right after starting requests: they complete exactly, later ones are EBADF, close resolves. */
async function closeInFlight(ctx: CheckContext, variant: number, n: number): Promise<void> {
  const keys = randomKeys(ctx.family, variant);
  const s = await bounded(ctx.open(sessionClassOf(ctx.family), specOf(ctx.family, keys, tagLengthOf(ctx.family))), 'open');
  const before = jobsFor(ctx, keys, n);
  const after = jobsFor(ctx, keys, 4).map((job): Job => {
    const { expected: _, ...reproducer } = job.reproducer;
    return { ...job, reproducer, expected: { code: 'EBADF' } };
  });
  const pending = before.map((job, i) => settle(job, s, `request ${i} of ${n} made before close()`));
  const closing = bounded(s.close(), `close() with ${n} requests in flight`);
  const late = after.map((job, i) => settle(job, s, `request ${i} made after close()`));
  try {
    await closing;
    ctx.count('close() resolved');
  } catch (err) {
    ctx.count('close() lost');
    ctx.fail({ message: describeError(err) });
  }
  (await Promise.all(pending)).forEach((o, i) =>
    judge(ctx, before[i]!, o, s.driver, `request ${i} of ${n} made before close()`, 'completed before close'),
  );
  (await Promise.all(late)).forEach((o, i) => judge(ctx, after[i]!, o, s.driver, `request ${i} made after close()`, 'EBADF after close'));
  await closedSession(ctx, s);
}

/** Every request kind of a closed session is EBADF, and close() again resolves. */
async function closedSession(ctx: CheckContext, s: Session): Promise<void> {
  const ops: [string, () => Promise<unknown>][] = [];
  if (s instanceof CipherSession)
    ops.push(
      ['encrypt', () => s.encrypt(Buffer.alloc(16), { iv: Buffer.alloc(16) })],
      ['decrypt', () => s.decrypt(Buffer.alloc(16), { iv: Buffer.alloc(16) })],
    );
  if (s instanceof AeadSession)
    ops.push(
      ['encrypt', () => s.encrypt(Buffer.alloc(16), { iv: Buffer.alloc(12) })],
      ['decrypt', () => s.decrypt(Buffer.alloc(16), { iv: Buffer.alloc(12), tag: Buffer.alloc(16) })],
    );
  if (s instanceof HashSession)
    ops.push(
      ['digest', () => s.digest(Buffer.alloc(1))],
      ['update', () => s.update(Buffer.alloc(1))],
      ['final', () => s.final()],
      ['copy', () => s.copy()],
    );
  for (const [name, op] of ops) {
    let wrong: string | undefined;
    try {
      await bounded(op(), `${name}() on a closed session`);
      wrong = 'resolved, expected a KCryptoError EBADF';
    } catch (err) {
      wrong = errorMismatch(err, 'EBADF', s.driver);
    }
    if (wrong === undefined) ctx.count('EBADF after close');
    else {
      ctx.count('wrong');
      ctx.fail({ message: `${name}() on a closed session: ${wrong}` });
    }
  }
  try {
    await bounded(s.close(), 'a second close()');
  } catch (err) {
    ctx.fail({ message: describeError(err) });
  }
}

/** Requests with signals, half aborted at once, then close(): each completes exactly or is an AbortError. */
async function abortThenClose(ctx: CheckContext, variant: number, n: number): Promise<void> {
  const keys = randomKeys(ctx.family, variant);
  const s = await bounded(ctx.open(sessionClassOf(ctx.family), specOf(ctx.family, keys, tagLengthOf(ctx.family))), 'open');
  const jobs = jobsFor(ctx, keys, n);
  const controllers = jobs.map(() => new AbortController());
  const pending = jobs.map((job, i) => settle(job, s, `request ${i} of ${n} with a signal`, controllers[i]!.signal));
  controllers.forEach((c, i) => i % 2 === 1 && c.abort(new Error('teardown check')));
  const closing = bounded(s.close(), `close() with ${n} requests in flight, half aborted`).then(
    () => ctx.count('close() resolved'),
    (err: unknown) => {
      ctx.count('close() lost');
      ctx.fail({ message: describeError(err) });
    },
  );
  const outcomes = await Promise.all(pending);
  await closing;
  outcomes.forEach((o, i) => {
    const what = `request ${i} of ${n}${i % 2 === 1 ? ', aborted after it was made' : ''}`;
    if (i % 2 === 1 && 'error' in o) {
      const e = o.error as { name?: unknown; code?: unknown };
      if (o.error instanceof AbortError || (e?.name === 'AbortError' && e.code === 'ABORT_ERR')) ctx.count('AbortError');
      else judge(ctx, jobs[i]!, o, s.driver, what, 'completed despite abort');
      return;
    }
    judge(ctx, jobs[i]!, o, s.driver, what, i % 2 === 1 ? 'completed despite abort' : 'completed before close');
  });
}

export const teardownCheck: Check = {
  id: 'teardown',
  title: 'close() with requests in flight: each settles once (exact, EBADF after close, AbortError), close() resolves, nothing hangs',
  notApplicable: () => undefined,
  async run(ctx) {
    const full = ctx.depth === 'full';
    const steps: (() => Promise<void>)[] = [() => closeInFlight(ctx, 0, full ? 64 : 16), () => abortThenClose(ctx, 1, full ? 64 : 16)];
    if (full)
      steps.push(
        () => closeInFlight(ctx, 2, 1),
        () => closeInFlight(ctx, 3, 256),
      );
    for (let i = 0; i < steps.length; i++) {
      await steps[i]!();
      ctx.progress(i + 1, steps.length);
    }
  },
};
