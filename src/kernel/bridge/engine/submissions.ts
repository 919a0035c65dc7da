/**
 * Submissions to the addon's threads, gathered and handed over together: the requests a turn
 * submits (a burst of continuations after a batch of completions, a Promise.all) cross into
 * the addon in one call, take each lane's lock once and wake at most one thread per lane --
 * crypto(9)'s CRYPTO_F_BATCH, for every threaded request. They are sent at the end of the
 * current microtask run, or at once when BATCH_MAX wait: a request waits no longer than the
 * synchronous code that submitted it.
 */
import { SubmitArg, SubmitShape, type NativeAddon, type NativeSession } from '../addon.js';
import { fromNativeThrow, systemError } from '../status.js';
import { errnoOf } from '../../../errno.js';
import type { Pending } from './completions.js';
import { inputSize, type Input } from './request.js';

/** Submissions sent in one call at most; the argument array holds this many jobs' numbers. */
export const BATCH_MAX = 256;

/** Why the addon did not queue a job of a batch (native JobError). */
const JobError = { closed: 1, arguments: 2 } as const;

export class Submissions {
  /** The numbers of the jobs waiting (SubmitArg.count per job, in order), in memory that does not move. */
  readonly args = new Float64Array(new ArrayBuffer(SubmitArg.count * BATCH_MAX * 8));
  /** [session, input, output, iv] per job waiting; the session null where it is the previous job's. */
  private refs: unknown[] = [];
  /** The session of the last job waiting. */
  private last: NativeSession | null = null;
  private waiting: Pending[] = [];
  private scheduled = false;
  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** `fail` answers a request the addon refused to queue. */
  constructor(
    private readonly addon: NativeAddon,
    private readonly fail: (p: Pending, err: Error) => void,
  ) {
    addon.setSubmitArgs(this.args);
  }

  /** Where the next job's numbers go in {@link args}: write them there, then call {@link add}. */
  get offset(): number {
    return this.waiting.length * SubmitArg.count;
  }

  /**
   * Queues `p` (its id taken) on `lane`: 0 for CPU-bound work, which competes with this thread
   * for cores; 1 for device waits, which sleep in the kernel. `deadlineMs` 0: none.
   */
  queue(native: NativeSession, p: Pending, lane: number, deadlineMs: number): void {
    const a = this.args;
    const o = this.offset;
    a[o + SubmitArg.id] = p.id;
    a[o + SubmitArg.lane] = lane;
    a[o + SubmitArg.op] = p.op;
    a[o + SubmitArg.assocLen] = p.assocLen;
    a[o + SubmitArg.stream] = p.stream;
    a[o + SubmitArg.deadlineMs] = deadlineMs;
    a[o + SubmitArg.disposable] = p.outputDisposable ? 1 : 0;
    this.add(native, p.input, p.output, p.iv, p);
  }

  /** Queues the job whose numbers were just written at {@link offset} (all but its shape, written here). */
  add(native: NativeSession, input: Input, output: Uint8Array | null, iv: Uint8Array | null, p: Pending): void {
    const same = native === this.last;
    this.args[this.offset + SubmitArg.inputLength] = inputSize(input);
    this.args[this.offset + SubmitArg.shape] =
      (same ? SubmitShape.sameSession : 0) | (output === null ? SubmitShape.noOutput : 0) | (iv === null ? SubmitShape.noIv : 0);
    this.refs.push(same ? null : native, input, output, iv);
    this.last = native;
    this.waiting.push(p);
    if (this.waiting.length === BATCH_MAX) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushLater);
    }
  }

  /** Sends every job waiting. */
  flush(): void {
    const n = this.waiting.length;
    if (n === 0) return;
    const refs = this.refs;
    const waiting = this.waiting;
    this.refs = [];
    this.waiting = [];
    this.last = null;
    if (n === 1) {
      // One job: submit() reads the numbers at offset 0, with no array to walk.
      try {
        (refs[0] as NativeSession).submit(refs[1] as Input, refs[2] as Uint8Array | null, refs[3] as Uint8Array | null);
      } catch (err) {
        const p = waiting[0]!;
        this.fail(p, err instanceof TypeError ? err : fromNativeThrow(err, p.session.driver, 'session is closed'));
      }
      return;
    }
    const refused = this.addon.submitBatch(n, ...refs);
    if (!refused) return;
    for (let i = 0; i + 2 < refused.length; i += 3) {
      const p = waiting[refused[i] as number]!;
      const message = refused[i + 2] as string;
      this.fail(
        p,
        refused[i + 1] === JobError.closed ? systemError(errnoOf('EBADF'), 'validate', p.session.driver, message) : new TypeError(message),
      );
    }
  }
}
