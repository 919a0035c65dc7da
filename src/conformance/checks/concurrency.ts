/**
 * The `concurrency` check: many requests in flight at once, on one session and across
 * sessions with keys of their own, each settle once and exactly as node:crypto computes them:
 * no request gets another's key, IV, data or output, whichever queue, socket or thread served
 * it; AEAD decryptions with a tampered tag among them reject (EBADMSG), and only those.
 */
import type { Execution } from '../../kernel/bridge/engine/index.js';
import type { Session } from '../../api/session.js';
import type { Check, CheckContext } from '../check.js';
import { randomKeys, specOf, type Keys } from '../families.js';
import { bounded, jobKindsOf, jobSizes, misjudged, randomJob, sessionClassOf, settle, tagLengthOf, withGot, type Job } from './requests.js';

/** One round: `sessions` sessions with `perSession` requests each, all in flight together. */
interface Round {
  sessions: number;
  perSession: number;
  execution?: Execution;
}

function roundsOf(ctx: CheckContext): Round[] {
  const full = ctx.depth === 'full';
  const rounds: Round[] = [
    { sessions: 1, perSession: full ? 64 : 32 },
    { sessions: full ? 8 : 4, perSession: 8 },
  ];
  // Engine drivers run requests inline or on the addon's threads: each path gets the rounds
  // too; at `quick` one session's worth each (opening sessions is what costs on an emulated
  // CPU behind /dev/crypto, and the default policy already ran across sessions).
  if (ctx.target.kernel)
    for (const execution of ['inline', 'threads'] as const)
      rounds.push(
        ...(full
          ? [
              { sessions: 1, perSession: 64, execution },
              { sessions: 8, perSession: 8, execution },
            ]
          : [{ sessions: 1, perSession: 16, execution }]),
      );
  return rounds;
}

async function round(ctx: CheckContext, r: Round, index: number): Promise<void> {
  const f = ctx.family;
  const kinds = jobKindsOf(f);
  const sizes = jobSizes(f, ctx.depth === 'full');
  const opened: { s: Session; keys: Keys }[] = [];
  try {
    for (let i = 0; i < r.sessions; i++) {
      const keys = randomKeys(f, index + i);
      const s = await bounded(ctx.open(sessionClassOf(f), specOf(f, keys, tagLengthOf(f)), r.execution), `open session ${i}`);
      opened.push({ s, keys });
    }
    const jobs: { job: Job; s: Session; what: string }[] = [];
    opened.forEach(({ s, keys }, si) => {
      for (let j = 0; j < r.perSession; j++) {
        const job = randomJob(f, keys, kinds[(si + j) % kinds.length]!, sizes[(si * 7 + j) % sizes.length]!);
        jobs.push({
          job,
          s,
          what: `request ${j} of ${r.perSession} on session ${si} of ${r.sessions}${r.execution ? ` (execution ${r.execution})` : ''}`,
        });
      }
    });
    // Every request is started before any is awaited, so that all are in flight together.
    const outcomes = await Promise.all(jobs.map(({ job, s, what }) => settle(job, s, what)));
    outcomes.forEach((outcome, i) => {
      const { job, s, what } = jobs[i]!;
      const wrong = misjudged(job, outcome, s.driver);
      if (wrong === undefined) ctx.count('code' in job.expected ? `refused ${job.expected.code}` : 'exact');
      else {
        ctx.count('wrong');
        ctx.fail({ message: `${what}: ${wrong}`, reproducer: withGot(job, outcome) });
      }
    });
  } finally {
    await Promise.all(
      opened.map(({ s }, i) =>
        bounded(s.close(), `close() of session ${i}`).catch((err: unknown) => {
          ctx.count('close lost');
          ctx.fail({ message: err instanceof Error ? err.message : String(err) });
        }),
      ),
    );
  }
}

export const concurrencyCheck: Check = {
  id: 'concurrency',
  title: 'many requests in flight on one session and across sessions each settle once, exactly as node:crypto computes them',
  notApplicable: () => undefined,
  async run(ctx) {
    const rounds = roundsOf(ctx);
    for (let i = 0; i < rounds.length; i++) {
      await round(ctx, rounds[i]!, i * 8);
      ctx.progress(i + 1, rounds.length);
    }
  },
};
