/**
 * What the `vectors` check does with one vector, whatever its source: the bookkeeping of a
 * case (its outcome counted, or its failure recorded with a reproducer), the session kept
 * across vectors that share a key, and the assertions every kind of vector shares
 * (a parameter the interface cannot express, an `acceptable` decryption).
 */
import assert from 'node:assert/strict';

import type { Session } from '../../api/session.js';
import type { CheckContext, Reproducer } from '../check.js';
import { assertSameBytes, hex } from '../bytes.js';
import { describeError, kcryptoError, misuseError } from '../expect.js';

/** What a failure message says about the vector: its file, tcId, flags and comment. */
export interface VectorLabel {
  /** `aes_gcm_test.json tcId 12 [ModifiedTag]`, `known answer (FIPS 197 C.1)`, … */
  readonly name: string;
  readonly comment?: string;
}

/**
 * The reproducer of the request under way: the runner fills in the request before it runs
 * ({@link Case.request}) and what the driver gave after ({@link Case.gave}), so a failure
 * reports the request that failed, not the one before it.
 */
export class Case {
  readonly reproducer: Reproducer;

  constructor(algorithm: string, fixed: Omit<Reproducer, 'algorithm' | 'operation' | 'data'> = {}) {
    this.reproducer = { algorithm, operation: 'encrypt', data: '', ...fixed };
  }

  /** The request about to run: operation, input, what it must give; the last answer is dropped. */
  request(operation: Reproducer['operation'], data: Uint8Array, expected: string | Uint8Array, extra: Partial<Reproducer> = {}): void {
    const r = this.reproducer;
    delete r.got;
    delete r.tag;
    Object.assign(r, { operation, data: hex(data), expected: typeof expected === 'string' ? expected : hex(expected) }, extra);
  }

  /** What the driver gave (bytes), returned for chaining. */
  gave<T extends Uint8Array>(out: T): T {
    this.reproducer.got = hex(out);
    return out;
  }
}

/** Runs one vector: counts the outcome its body returns, or records its failure. */
export async function runCase(ctx: CheckContext, label: VectorLabel, c: Case, body: () => Promise<string>): Promise<void> {
  try {
    ctx.count(await body());
  } catch (err) {
    const r = c.reproducer;
    const got = r.got === undefined || !(err instanceof assert.AssertionError) ? describeError(err) : r.got;
    ctx.fail({
      message: `${label.name}${label.comment ? ` ${label.comment}` : ''} on ${ctx.target.label}: ${describeError(err)}`,
      reproducer: { ...r, got },
    });
  }
}

/** The label of a Wycheproof vector. */
export function wycheproofLabel(file: string, test: { tcId: number; flags: string[]; comment: string }): VectorLabel {
  return { name: `${file} tcId ${test.tcId} [${test.flags.join(',')}]`, comment: test.comment };
}

/**
 * Keeps the session of the last key: vectors sharing a key (a valid one and its tampered
 * variants) are adjacent, and holding one session at a time bounds the open descriptors.
 */
export class LastSession<S extends Session> {
  private id = '';
  private session: S | undefined;

  async get(id: string, open: () => Promise<S>): Promise<S> {
    if (this.session && id === this.id) return this.session;
    await this.close();
    this.session = await open();
    this.id = id;
    return this.session;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }
}

/** The misuse errors of a parameter the interface does not offer, by code. */
const INEXPRESSIBLE = {
  ERR_CRYPTO_INVALID_KEYLEN: 'RangeError',
  ERR_CRYPTO_INVALID_AUTH_TAG: 'TypeError',
  ERR_CRYPTO_INVALID_IV: 'TypeError',
} as const;

/** What a reproducer says an inexpressible vector must give. */
export const INEXPRESSIBLE_EXPECTED = 'refused as node:crypto refuses it (ERR_CRYPTO_INVALID_KEYLEN, _AUTH_TAG or _IV)';

/** Asserts `err` is node:crypto's refusal of a key, tag or IV length; returns its code. */
function inexpressible(err: unknown): string {
  const code = String((err as { code?: unknown } | null)?.code);
  const cls = INEXPRESSIBLE[code as keyof typeof INEXPRESSIBLE];
  assert.ok(cls, `expected a key, tag or IV length refused as node:crypto refuses it, got ${describeError(err)}`);
  misuseError(cls, code)(err);
  return code;
}

/**
 * Asserts a parameter set the interface does not offer is refused as node:crypto refuses it: at
 * open, or else by every request that carries it. The outcome is `inexpressible (…)`, which is
 * not a pass of the vector: the report says how many could not be put to the driver.
 */
export async function refusedAsInexpressible<S extends Session>(
  c: Case,
  open: () => Promise<S>,
  uses: readonly ((s: S) => Promise<unknown>)[],
): Promise<string> {
  let s: S;
  try {
    s = await open();
  } catch (err) {
    return `inexpressible (${inexpressible(err)} at open)`;
  }
  const codes = new Set<string>();
  try {
    for (const use of uses)
      await assert.rejects(
        use(s).then((out) => {
          c.reproducer.got = out instanceof Uint8Array ? hex(out) : 'accepted';
          return out;
        }),
        (err: unknown) => {
          codes.add(inexpressible(err));
          return true;
        },
      );
  } finally {
    await s.close();
  }
  return `inexpressible (${[...codes].join(', ')} per request)`;
}

/** An `acceptable` vector may be refused (EBADMSG) or accepted, but never decrypt to other bytes. */
export async function acceptable(c: Case, decryption: Promise<Buffer>, msg: Buffer, driver: string): Promise<string> {
  let pt: Buffer;
  try {
    pt = c.gave(await decryption);
  } catch (err) {
    kcryptoError('EBADMSG', driver)(err);
    return 'acceptable (refused)';
  }
  assertSameBytes(pt, msg, 'decrypted');
  return 'acceptable (accepted)';
}

/** Asserts a decryption is refused as a forgery: KCryptoError EBADMSG from the session's driver. */
export async function refusedAsForgery(c: Case, decryption: Promise<Buffer>, driver: string): Promise<void> {
  await assert.rejects(
    decryption.then((pt) => c.gave(pt)),
    kcryptoError('EBADMSG', driver),
  );
}
