/**
 * The property of test/support/properties.ts one layer down, on the addon's loopback engine (a
 * test double that XORs its input into its output, in the addon, where the ASan build sees
 * every access): random sequences of requests of random sizes, split in segments, on sessions
 * of each execution policy, several in flight, inputs detached while they wait or run, and
 * sessions closed under them. Each request settles once, with its output for the bytes it was
 * given, or refused as documented: EBADF once its session is closed, a TypeError when its input
 * was detached before it reached the addon.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { KCryptoError } from '../../src/errors.js';
import type { NativeAddon } from '../../src/kernel/bridge/addon.js';
import { KernelSession, Op, type Execution } from '../../src/kernel/bridge/engine/index.js';
import { describeError } from './errors.js';
import { propertyFailure, propertyParameters } from './properties.js';

const XOR = 0x5a;
const SIZES = [0, 1, 15, 16, 17, 4096, 65_537, 1 << 20];

export type LoopOp =
  | { t: 'req'; s: number; size: number; segments: number; shared: boolean; wait: boolean; detach: boolean }
  | { t: 'close'; s: number }
  | { t: 'settle' };

const op: fc.Arbitrary<LoopOp> = fc.oneof(
  {
    arbitrary: fc.record({
      t: fc.constant('req' as const),
      s: fc.nat(5),
      size: fc.constantFrom(...SIZES),
      segments: fc.integer({ min: 1, max: 3 }),
      shared: fc.boolean(),
      wait: fc.boolean(),
      detach: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
    }),
    weight: 8,
  },
  { arbitrary: fc.record({ t: fc.constant('close' as const), s: fc.nat(5) }), weight: 1 },
  { arbitrary: fc.constant({ t: 'settle' as const }), weight: 1 },
);

/** The sessions of a sequence: each execution policy, a fast engine and one that takes 300 µs a request. */
const SESSIONS: [Execution, number][] = [
  ['inline', 0],
  ['threads', 0],
  ['auto', 0],
  ['threads', 300],
  ['auto', 300],
];

async function runLoopSequence(addon: NativeAddon, ops: readonly LoopOp[]): Promise<void> {
  const sessions = SESSIONS.map(([execution, delay]) => ({
    ks: new KernelSession(addon.openLoopback!(delay, 0), 'test:loopback', true, execution),
    closed: false,
  }));
  const all: Promise<void>[] = [];
  const failures: unknown[] = [];
  for (const [i, o] of ops.entries()) {
    if (o.t === 'settle') {
      await Promise.all(all);
      continue;
    }
    const s = sessions[o.s % sessions.length]!;
    if (o.t === 'close') {
      s.closed = true;
      all.push(s.ks.close());
      continue;
    }
    const segments: Uint8Array[] = [];
    const buffers: ArrayBuffer[] = [];
    let left = o.size;
    for (let k = 0; k < o.segments; k++) {
      const n = k === o.segments - 1 ? left : Math.floor(left / (o.segments - k));
      left -= n;
      const backing = o.shared ? new SharedArrayBuffer(n + 1) : new ArrayBuffer(n + 1);
      if (!o.shared) buffers.push(backing as ArrayBuffer);
      const v = new Uint8Array(backing, 1, n);
      for (let j = 0; j < n; j++) v[j] = (j * 31 + k) & 0xff;
      segments.push(v);
    }
    const bytes = Buffer.concat(segments);
    const out = Buffer.alloc(o.size);
    const closed = s.closed;
    const p = s.ks.request(Op.Encrypt, segments.length === 1 ? segments[0]! : segments, out, null, 0);
    const detached = o.detach && buffers.length > 0 && o.size > 0;
    if (detached) for (const b of buffers) structuredClone(b, { transfer: [b] });
    const checked = p.then(
      (n) => {
        assert.ok(!closed, 'a request on a closed session completed');
        assert.equal(n, o.size, 'bytes written');
        assert.ok(out.equals(Buffer.from(bytes.map((b) => b ^ XOR))), 'the output is of the bytes given');
      },
      (err: unknown) => {
        if (closed) {
          assert.ok(err instanceof KCryptoError && err.code === 'EBADF', `expected EBADF, got ${describeError(err)}`);
          return;
        }
        assert.ok(detached && err instanceof TypeError && err.message.includes('detached'), `unexpected failure: ${describeError(err)}`);
      },
    );
    const tracked = checked.catch((err: unknown) => {
      failures.push(new Error(`op ${i} ${JSON.stringify(o)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
    });
    all.push(tracked);
    if (o.wait) await tracked;
    if (failures.length > 0) break;
  }
  await Promise.all(all);
  await Promise.all(sessions.map((s) => s.ks.close()));
  if (failures.length > 0) throw failures[0];
}

/** Checks the loopback property; returns how many sequences ran (see checkSequences for the failure message). */
export async function checkLoopbackSequences(addon: NativeAddon, defaultRuns: number): Promise<number> {
  const details = await fc.check(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 16 }), (ops) => runLoopSequence(addon, ops)),
    propertyParameters(defaultRuns) as fc.Parameters<[LoopOp[]]>,
  );
  if (details.failed) throw propertyFailure(details, 'the loopback engine');
  return details.numRuns;
}
