/**
 * The `hash-copy` check: a hash or MAC state copied mid-message (`copy()`) goes on on its own:
 * the original and the copy, fed different tails, each finish with the digest of their own
 * message; a copy of an untouched state is the empty message's; `final()` leaves a fresh state.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { HashSession } from '../../api/session.js';
import { hex, preview } from '../bytes.js';
import type { Check, CheckContext } from '../check.js';
import { describeError } from '../expect.js';
import { randomKeys, refDigest, specOf, type HashFamily, type MacFamily } from '../families.js';
import { noHashState } from '../targets.js';
import { bounded } from './requests.js';

/** Head and tail lengths: around the 64- and 128-byte hash blocks, and one long head at `full`. */
function shapes(full: boolean): { head: number; tails: [number, number] }[] {
  const quick = [
    { head: 1000, tails: [777, 4101] as [number, number] },
    { head: 64, tails: [0, 129] as [number, number] },
  ];
  if (!full) return quick;
  return [
    ...quick,
    { head: 0, tails: [1, 64] },
    { head: 1, tails: [63, 128] },
    { head: 127, tails: [1, 0] },
    { head: 65536 + 5, tails: [65536, 3] },
  ];
}

async function oneCopy(
  ctx: CheckContext,
  f: HashFamily | MacFamily,
  keyVariant: number,
  head: Buffer,
  tails: [Buffer, Buffer],
): Promise<void> {
  const { key } = randomKeys(f, keyVariant);
  const base = { algorithm: f.kernelName, operation: 'copy' as const, ...(f.kind === 'mac' ? { key: hex(key) } : {}) };
  const where = `head of ${head.length} bytes, tails of ${tails[0].length} and ${tails[1].length}`;
  const s = await bounded(ctx.open(HashSession, specOf(f, { key })), 'open');
  const copies: HashSession[] = [];
  const expect = async (got: Promise<Buffer>, parts: Buffer[], what: string): Promise<void> => {
    const expected = refDigest(f, key, parts);
    let value: Buffer;
    try {
      value = await bounded(got, what);
    } catch (err) {
      ctx.count('wrong');
      ctx.fail({
        message: `${where}: ${what}: ${describeError(err)}`,
        reproducer: { ...base, data: hex(Buffer.concat(parts)), expected: hex(expected), got: describeError(err) },
      });
      return;
    }
    if (value.equals(expected)) ctx.count('exact');
    else {
      ctx.count('wrong');
      ctx.fail({
        message: `${where}: ${what}: ${preview(value)}, expected ${preview(expected)} (the digest of the ${Buffer.concat(parts).length} bytes in data)`,
        reproducer: { ...base, data: hex(Buffer.concat(parts)), expected: hex(expected), got: hex(value) },
      });
    }
  };
  try {
    copies.push(await bounded(s.copy(), 'copy() of a fresh state'));
    await bounded(s.update([head.subarray(0, head.length >> 1), head.subarray(head.length >> 1)]), 'update(head)');
    const fork = await bounded(s.copy(), 'copy() mid-message');
    copies.push(fork);
    await Promise.all([bounded(s.update(tails[0]), 'update() of the original'), bounded(fork.update(tails[1]), 'update() of the copy')]);
    await expect(s.final(), [head, tails[0]], 'the original after copy()');
    await expect(fork.final(), [head, tails[1]], 'the copy');
    await expect(copies[0]!.final(), [], 'the copy of the fresh state');
    await bounded(s.update(tails[1]), 'update() after final()');
    await expect(s.final(), [tails[1]], 'a message after final()');
  } finally {
    await Promise.all([s, ...copies].map((x) => bounded(x.close(), 'close()')));
  }
}

export const hashCopyCheck: Check = {
  id: 'hash-copy',
  title: 'a hash or MAC state copied mid-message goes on independently of the original, both exact',
  notApplicable(f, target) {
    if (f.kind !== 'hash' && f.kind !== 'mac') return 'not a hash or MAC: no running state to copy';
    return noHashState(target);
  },
  async run(ctx) {
    const f = ctx.family as HashFamily | MacFamily;
    const full = ctx.depth === 'full';
    const list = shapes(full);
    const variants = full && f.kind === 'mac' ? 3 : 1;
    const total = list.length * variants;
    let done = 0;
    for (let v = 0; v < variants; v++) {
      for (const { head, tails } of list) {
        const bytes = [randomBytes(head), randomBytes(tails[0]), randomBytes(tails[1])] as const;
        try {
          await oneCopy(ctx, f, v + 1, bytes[0], [bytes[1], bytes[2]]);
        } catch (err) {
          ctx.count('wrong');
          ctx.fail({ message: `head of ${head} bytes: ${describeError(err)}` });
        }
        ctx.progress(++done, total);
      }
    }
  },
};
