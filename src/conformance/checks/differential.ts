/**
 * The differential check: a driver against node:crypto with random keys, IVs, AAD and tag
 * lengths, at message lengths from 0 to 1 MiB around every block and page boundary, whole and
 * split, out of place and in place, and under each execution policy of an engine driver. A
 * mismatch is shrunk to a minimal reproducer before it is reported.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { AeadSession, CipherSession, HashSession } from '../../api/session.js';
import type { Execution } from '../../kernel/bridge/engine/index.js';
import type { Check, CheckContext, Depth, Reproducer, Target } from '../check.js';
import { hex } from '../bytes.js';
import { describeError, kcryptoError } from '../expect.js';
import { ivLengthsFor, randomKeys, sizesFor, specOf, type Family } from '../families.js';
import { minimize, type Trial } from '../minimize.js';
import { noHashState } from '../targets.js';
import {
  aeadSplit,
  aeadWhole,
  cipherInPlace,
  cipherSplit,
  cipherWhole,
  digestProbe,
  type Mismatch,
  type Opener,
  type Probe,
} from './differential-probes.js';

const KIB = 1024;
const MIB = 1024 * KIB;
/** The AES block; every family's alignment divides it. */
const BLOCK = 16;
const PAGE = 4 * KIB;

/**
 * Message lengths of the whole requests under the `auto` policy. `full`: 0 to 1 MiB with every
 * block boundary ±1 that a driver's chunking, padding or tail handling could get wrong — every
 * length up to 4 blocks + 1, k·block ± 1 for k up to 64, every page multiple ± 1 for 4 KiB ·
 * {1, 2, 4, 8, 16}, 64 KiB ± 1, 256 KiB ± 1, 1 MiB − 1 and 1 MiB. `quick`: the block edges of
 * 0 to 3 blocks, one page ± 1, 64 KiB + 16 (just past a common chunk size) and 1 MiB, which
 * keeps one algorithm on one driver around ten seconds on a slow emulated CPU. {@link sizesFor}
 * then keeps the lengths a family accepts (alignment, XTS's one-block minimum).
 */
export function differentialSizes(depth: Depth): number[] {
  if (depth === 'quick') {
    const edges = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK - 1, 2 * BLOCK, 2 * BLOCK + 1, 3 * BLOCK - 1, 3 * BLOCK, 3 * BLOCK + 1];
    return [...edges, PAGE - 1, PAGE, PAGE + 1, 64 * KIB + BLOCK, MIB];
  }
  const sizes = new Set<number>();
  for (let n = 0; n <= 4 * BLOCK + 1; n++) sizes.add(n);
  for (let k = 1; k <= 64; k++) for (const d of [-1, 0, 1]) sizes.add(k * BLOCK + d);
  for (const m of [1, 2, 4, 8, 16]) for (const d of [-1, 0, 1]) sizes.add(m * PAGE + d);
  for (const n of [64 * KIB, 256 * KIB]) for (const d of [-1, 0, 1]) sizes.add(n + d);
  sizes.add(MIB - 1);
  sizes.add(MIB);
  return [...sizes].sort((a, b) => a - b);
}

/**
 * Lengths under the forced policies (`inline`, `threads`): `auto` already runs both at every
 * length (it picks per request), so they get the edges and one large request each.
 */
export function forcedSizes(depth: Depth): number[] {
  return depth === 'quick' ? [0, 1, BLOCK, BLOCK + 1, PAGE, 64 * KIB + BLOCK] : differentialSizes('quick');
}

/** Lengths split through the drop-in: short, a few blocks in uneven pieces, past one 64 KiB request. */
export function splitSizes(depth: Depth): number[] {
  return depth === 'quick'
    ? [17, 3 * BLOCK, PAGE + 1, 64 * KIB + BLOCK]
    : [0, 1, 17, 3 * BLOCK, 1000, PAGE, PAGE + 1, 64 * KIB + BLOCK, 256 * KIB + 1, MIB];
}

/** Lengths run in place through the framework. */
export function inPlaceSizes(depth: Depth): number[] {
  return depth === 'quick' ? [BLOCK, BLOCK + 1, PAGE] : [0, 1, BLOCK, BLOCK + 1, PAGE, PAGE + 1, 64 * KIB + BLOCK, MIB];
}

/** AAD lengths taken in turn: none, shorter than, equal to and longer than a block. */
const AAD_LENGTHS: readonly number[] = [0, 1, 16, 20, 64, 13];

/** Mismatches shrunk per algorithm: each takes up to 40 reruns; the rest are reported as found. */
const MAX_MINIMIZED = 3;

/**
 * Longest message of a mismatch not shrunk (past {@link MAX_MINIMIZED}) that still gets a
 * reproducer: twenty megabyte-sized ones would swell the JSON report by a hundred megabytes.
 */
const MAX_UNSHRUNK_REPRODUCER = 4 * KIB;

/** What a driver's sessions of this family say about the requests they take. */
interface Limits {
  maxRequestBytes: number | undefined;
  alignment: number;
}

async function limitsOf(ctx: CheckContext): Promise<Limits> {
  const s = await openFamily(
    ctx.family,
    (kind, spec) => ctx.open(kind, spec),
    { ...randomKeys(ctx.family), iv: null, aad: Buffer.alloc(0), data: Buffer.alloc(0) },
    tagLengthOf(ctx.family, 0),
  );
  try {
    return { maxRequestBytes: s.maxRequestBytes, alignment: s instanceof CipherSession ? s.alignment : 1 };
  } finally {
    await s.close();
  }
}

/** A session of the family's class with the keys of `t`. */
function openFamily(f: Family, open: Opener, t: Trial, tagLength: number): Promise<CipherSession | AeadSession | HashSession> {
  const keys = t.authKey ? { key: t.key, authKey: t.authKey } : { key: t.key };
  if (f.kind === 'cipher') return open(CipherSession, specOf(f, keys));
  if (f.kind === 'aead') return open(AeadSession, specOf(f, keys, tagLength));
  return open(HashSession, specOf(f, keys));
}

/** The tag length of the `i`-th case (taken in turn), or 0 for a family without one. */
function tagLengthOf(f: Family, i: number): number {
  return f.kind === 'aead' ? f.tagLengths[i % f.tagLengths.length]! : 0;
}

/** The `i`-th random case of `size` bytes: key lengths, IV lengths and AAD lengths taken in turn. */
function trialOf(f: Family, size: number, i: number): Trial {
  const keys = randomKeys(f, i);
  const data = randomBytes(size);
  const base = { key: keys.key, ...(keys.authKey ? { authKey: keys.authKey } : {}), data };
  if (f.kind === 'cipher') return { ...base, iv: f.ivLength > 0 ? randomBytes(f.ivLength) : null, aad: Buffer.alloc(0) };
  if (f.kind === 'aead') {
    const ivs = ivLengthsFor(f, size);
    return { ...base, iv: randomBytes(ivs[i % ivs.length]!), aad: randomBytes(AAD_LENGTHS[i % AAD_LENGTHS.length]!) };
  }
  return { ...base, iv: null, aad: Buffer.alloc(0) };
}

/** Bytes one request of `n` message bytes puts through the driver (an AEAD's AAD and tag included). */
function requestBytes(f: Family, n: number, t: Trial, tagLength: number): number {
  return f.kind === 'aead' ? t.aad.length + n + tagLength : n;
}

/** Whether the family and driver take a message of `n` bytes with the other inputs of `t`. */
function accepts(f: Family, limits: Limits, tagLength: number, n: number, t: Trial): boolean {
  if (sizesFor(f, [n]).length === 0 || n % limits.alignment !== 0) return false;
  if (limits.maxRequestBytes !== undefined && requestBytes(f, n, t, tagLength) > limits.maxRequestBytes) return false;
  return f.kind !== 'aead' || ivLengthsFor(f, n).includes(t.iv!.length);
}

/** The probes of one whole-request case under an execution policy. */
function wholeProbes(f: Family, open: Opener, target: Target, tagLength: number): Probe[] {
  if (f.kind === 'cipher') return [cipherWhole(f, open)];
  if (f.kind === 'aead') return [aeadWhole(f, open, tagLength)];
  const probes = [digestProbe(f, open, 'whole'), digestProbe(f, open, 'parts')];
  if (noHashState(target) === undefined) probes.push(digestProbe(f, open, 'update-final'));
  return probes;
}

/** The reproducer of a (minimized) mismatch, every byte string as hex. */
function reproducerOf(f: Family, probe: Probe, t: Trial, m: Mismatch): Reproducer {
  const r: Reproducer = { algorithm: f.kernelName, operation: m.operation, data: hex(m.input) };
  if (f.kind !== 'hash') r.key = hex(t.key);
  if (t.authKey) r.authKey = hex(t.authKey);
  if (t.iv) r.iv = hex(t.iv);
  if (f.kind === 'aead') r.aad = hex(t.aad);
  if (m.tag) r.tag = hex(m.tag);
  if (probe.tagLength !== undefined) r.tagLength = probe.tagLength;
  if (m.expected) r.expected = hex(m.expected);
  r.got = typeof m.got === 'string' ? m.got : hex(m.got);
  return r;
}

/** Runs the check's cases on one algorithm of one driver; shared state is the minimizing budget. */
class Run {
  private minimized = 0;
  private done = 0;

  constructor(
    private readonly ctx: CheckContext,
    private readonly limits: Limits,
    private readonly total: number,
  ) {}

  step(): void {
    this.ctx.progress(++this.done, this.total);
  }

  /** Runs a probe on a case; a mismatch is shrunk (while the budget lasts) and recorded. */
  async probe(probe: Probe, t: Trial, where: string): Promise<void> {
    const { ctx } = this;
    const f = ctx.family;
    let verdict;
    try {
      verdict = await probe.run(t);
    } catch (err) {
      ctx.fail({ message: `${where}, ${probe.what}, ${t.data.length} bytes: the reference failed: ${describeError(err)}` });
      return;
    }
    if (verdict === undefined || typeof verdict === 'string') {
      ctx.count(verdict ?? probe.what);
      return;
    }
    let found = { trial: t, failure: verdict };
    let note: string;
    let shrunk = false;
    if (this.minimized < MAX_MINIMIZED) {
      this.minimized++;
      shrunk = true;
      const m = await minimize(t, verdict, {
        retry: async (c) => {
          const v = await probe.run(c);
          return typeof v === 'object' ? v : undefined;
        },
        accepts: (n, c) => accepts(f, this.limits, probe.tagLength ?? 0, n, c),
      });
      found = m;
      note =
        m.trial.data.length === t.data.length
          ? ` (no shorter case fails; ${m.tries} tried)`
          : ` (shrunk from ${t.data.length} bytes, ${m.tries} tried)`;
    } else note = ` (not shrunk: the first ${MAX_MINIMIZED} mismatches were)`;
    const params = `${found.trial.key.length}-byte key${found.trial.iv ? `, ${found.trial.iv.length}-byte IV` : ''}${f.kind === 'aead' ? `, ${found.trial.aad.length}-byte AAD, ${probe.tagLength}-byte tag` : ''}`;
    ctx.fail({
      message: `${where}, ${probe.what}, ${found.failure.operation} of ${found.trial.data.length} bytes (${params}): ${found.failure.message}${note}`,
      ...(shrunk || found.trial.data.length <= MAX_UNSHRUNK_REPRODUCER
        ? { reproducer: reproducerOf(f, probe, found.trial, found.failure) }
        : {}),
    });
  }

  /** Expects the driver to refuse a case up front with `code` (E2BIG, EINVAL). */
  async refusal(open: Opener, t: Trial, tagLength: number, code: string, why: string, where: string): Promise<void> {
    const { ctx } = this;
    const f = ctx.family;
    try {
      const s = await openFamily(f, open, t, tagLength);
      try {
        const call =
          s instanceof CipherSession
            ? s.encrypt(t.data, t.iv ? { iv: t.iv } : undefined)
            : s instanceof AeadSession
              ? s.encrypt(t.data, { iv: t.iv!, aad: t.aad })
              : s.digest(t.data);
        await assert.rejects(call, kcryptoError(code));
      } finally {
        await s.close();
      }
      ctx.count(`refused up front (${code})`);
    } catch (err) {
      ctx.fail({ message: `${where}, ${t.data.length} bytes: expected ${code} (${why}): ${describeError(err)}` });
    }
  }
}

export const differentialCheck: Check = {
  id: 'differential',
  title: 'agrees with node:crypto on random inputs from 0 to 1 MiB, whole, split and in place, under every execution policy',
  notApplicable: () => undefined,
  async run(ctx) {
    const f = ctx.family;
    const limits = await limitsOf(ctx);
    const executions: readonly Execution[] = ctx.target.kernel ? ['auto', 'inline', 'threads'] : ['auto'];
    const plan = executions.map((e) => ({
      execution: e,
      sizes: sizesFor(f, e === 'auto' ? differentialSizes(ctx.depth) : forcedSizes(ctx.depth)),
    }));
    const split = f.kind === 'cipher' || (f.kind === 'aead' && f.mode !== 'authenc') ? sizesFor(f, splitSizes(ctx.depth)) : [];
    const inPlace = f.kind === 'cipher' ? sizesFor(f, inPlaceSizes(ctx.depth)) : [];
    const run = new Run(ctx, limits, plan.reduce((n, p) => n + p.sizes.length, 0) + split.length + inPlace.length);
    const noState = f.kind === 'hash' || f.kind === 'mac' ? noHashState(ctx.target) : undefined;
    if (noState !== undefined) ctx.count(`update()/final(): n/a, ${noState}`);
    if (f.kind === 'aead' && f.mode === 'authenc') ctx.count('split: n/a, authenc has no node:crypto name and so no drop-in');

    for (const { execution, sizes } of plan) {
      const open: Opener = (kind, spec) => ctx.open(kind, spec, execution);
      const where = ctx.target.kernel ? `execution ${execution}` : 'no execution policy';
      for (const [i, size] of sizes.entries()) {
        const t = trialOf(f, size, i);
        const tagLength = tagLengthOf(f, i);
        const max = limits.maxRequestBytes;
        if (max !== undefined && requestBytes(f, t.data.length, t, tagLength) > max) {
          // The kernel cannot take this mode in pieces, nor this much in one request.
          await run.refusal(open, t, tagLength, 'E2BIG', `over the ${max}-byte request limit`, where);
        } else if (size % limits.alignment !== 0) {
          // A driver stricter than the mode (XTS through /dev/crypto: whole blocks only).
          await run.refusal(open, t, tagLength, 'EINVAL', `not a multiple of the driver's ${limits.alignment}-byte blocks`, where);
        } else {
          for (const probe of wholeProbes(f, open, ctx.target, tagLength)) await run.probe(probe, t, where);
        }
        run.step();
      }
    }

    const auto: Opener = (kind, spec) => ctx.open(kind, spec, 'auto');
    for (const [i, size] of split.entries()) {
      const t = trialOf(f, size, i);
      const tagLength = tagLengthOf(f, i);
      if (size % limits.alignment !== 0) ctx.count('split: beyond what the driver takes, refusal checked on whole requests');
      else if (f.kind === 'cipher') await run.probe(cipherSplit(f, ctx.target.driver, limits.alignment), t, 'drop-in stream');
      else if (f.kind === 'aead') {
        const max = limits.maxRequestBytes;
        // The stream gathers an AEAD's message into one request, which the limit refuses.
        if (max !== undefined && requestBytes(f, t.data.length, t, tagLength) > max)
          ctx.count('split: over the request limit, E2BIG checked on whole requests');
        else await run.probe(aeadSplit(f, ctx.target.driver, tagLength), t, 'drop-in stream');
      }
      run.step();
    }

    for (const [i, size] of inPlace.entries()) {
      if (f.kind !== 'cipher') break;
      const t = trialOf(f, size, i);
      if ((limits.maxRequestBytes !== undefined && size > limits.maxRequestBytes) || size % limits.alignment !== 0)
        ctx.count('in place: beyond what the driver takes, refusal checked on whole requests');
      else await run.probe(cipherInPlace(f, auto), t, 'framework request');
      run.step();
    }
  },
};
