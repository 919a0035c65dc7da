/**
 * What the drop-in suites share: streaming a message through a cipher or hash object in
 * random-sized chunks, and comparing a failure with node:crypto's for the same call.
 */
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { randomInt } from 'node:crypto';
import { it } from 'node:test';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** `data` in chunks of 1 byte up to `max`, each size random. */
export function* randomChunks(data: Buffer, max = 70_000): Generator<Buffer> {
  for (let at = 0; at < data.length;) {
    const n = Math.min(data.length - at, randomInt(1, max + 1));
    yield data.subarray(at, at + n);
    at += n;
  }
}

/**
 * What `t` outputs for `data` written to it through stream.pipeline(): in random chunks of up
 * to `max` bytes, or in one write where `max` is 0.
 */
export async function throughStream(t: Transform, data: Buffer, max?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(max === 0 ? [data] : randomChunks(data, max)), t, sink);
  return Buffer.concat(out);
}

/** What `fn` threw (fails when it does not throw). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a throw');
}

/** The same error, as node:crypto gives it: class, message, `code` (and OpenSSL's fields). */
export function assertSameError(actual: unknown, expected: unknown, where: string): void {
  const a = actual as Error & Record<string, unknown>;
  const e = expected as Error & Record<string, unknown>;
  assert.equal(a?.constructor?.name, e.constructor.name, `${where}: error class`);
  assert.equal(a.message, e.message, `${where}: message`);
  for (const field of ['code', 'library', 'reason']) assert.equal(a[field], e[field], `${where}: ${field}`);
}

/** A misuse case: what it is, and the call, made on node:crypto or on kcrypto in its place. */
export type MisuseCase = [what: string, call: (m: typeof nodeCrypto) => unknown];

/** One test per case: kcrypto's functions (`ours`, node:crypto-shaped) fail as node:crypto's do. */
export function sameMisuse(cases: readonly MisuseCase[], ours: object): void {
  const kcrypto = ours as typeof nodeCrypto;
  for (const [what, call] of cases) {
    it(what, () =>
      assertSameError(
        thrown(() => call(kcrypto)),
        thrown(() => call(nodeCrypto)),
        what,
      ),
    );
  }
}
