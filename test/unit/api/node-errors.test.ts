// The misuse error constructors build what Node's own checks build: the same class, code and
// message for the same value, compared with errors Node throws here.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { lookupService } from 'node:dns';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { DATA, invalidArgType, invalidArgValue, missingArgs, outOfRange, unknownEncoding } from '../../../src/api/node-errors.js';

/** What `fn` throws (it must throw). */
function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  assert.fail(`${fn.toString()} did not throw`);
}

/** The built-in class an error is an instance of (Node's own derive from these). */
function classOf(err: unknown): string {
  if (err instanceof RangeError) return 'RangeError';
  if (err instanceof TypeError) return 'TypeError';
  return err instanceof Error ? 'Error' : typeof err;
}

function assertSame(ours: Error & { code?: string }, node: Error & { code?: string }): void {
  assert.equal(classOf(ours), classOf(node));
  assert.equal(ours.name, node.name);
  assert.equal(ours.code, node.code);
  assert.equal(ours.message, node.message);
  assert.equal(String(ours), String(node));
}

class Widget {
  readonly size = 1;
}

const VALUES: [string, unknown][] = [
  ['a number', 5],
  ['minus zero', -0],
  ['NaN', NaN],
  ['Infinity', -Infinity],
  ['a bigint', 5n],
  ['a boolean', false],
  ['a symbol', Symbol('s')],
  [
    'a named function',
    function named() {
      return 1;
    },
  ],
  ['an arrow function', () => 0],
  ['an object', { a: 1 }],
  ['an array', [1, 2]],
  ['a null-prototype object', Object.create(null)],
  ['a class instance', new Widget()],
  ['a Map', new Map()],
  ['a short string', 'secret'],
  ["a string with '", "it's"],
  ['a long string', 'x'.repeat(40)],
  ["a long string with '", `'${'y'.repeat(40)}`],
  ['null', null],
  ['undefined', undefined],
];

describe('node-style misuse errors', () => {
  for (const [what, value] of VALUES) {
    it(`ERR_INVALID_ARG_TYPE for ${what} reads as Node's`, () => {
      // update() takes strings; randomBytes() takes numbers.
      if (typeof value === 'string')
        assertSame(
          invalidArgType('size', 'number', value),
          thrown(() => randomBytes(value as never)),
        );
      else
        assertSame(
          invalidArgType('data', DATA, value),
          thrown(() => createHash('sha256').update(value as string)),
        );
    });
  }

  it('ERR_INVALID_ARG_TYPE names a dotted name a property, as for options.signal', async () => {
    const node = await sleep(1, undefined, { signal: 5 as unknown as AbortSignal }).then(
      () => assert.fail('no rejection'),
      (err: unknown) => err as Error,
    );
    assertSame(invalidArgType('options.signal', 'AbortSignal', 5), node);
    assert.equal(
      invalidArgType('cipher', 'string', 5).message,
      thrown(() => createCipheriv(5 as unknown as string, Buffer.alloc(16), null)).message,
    );
  });

  it('ERR_INVALID_ARG_VALUE as createCipheriv() words a bad authTagLength', () => {
    const node = thrown(() =>
      createCipheriv('aes-128-gcm', Buffer.alloc(16), Buffer.alloc(12), { authTagLength: '16' as unknown as number }),
    );
    assertSame(invalidArgValue('options.authTagLength', '16'), node);
    assert.ok(invalidArgValue('x', 1, 'is invalid', true) instanceof RangeError);
  });

  it('ERR_OUT_OF_RANGE prints large integers with separators, as randomBytes() does', () => {
    for (const n of [-1, 2 ** 31, 2 ** 40, -(2 ** 40)]) {
      const node = thrown(() => randomBytes(n));
      const ours = outOfRange('size', '>= 0 && <= 1', n);
      assert.ok(ours instanceof RangeError);
      assert.equal(ours.code, node.code);
      assert.equal(ours.message.split('. Received ')[1], node.message.split('. Received ')[1], `received ${n}`);
    }
  });

  it('ERR_MISSING_ARGS lists names as Node does', () => {
    const node = thrown(() => (lookupService as unknown as () => void)());
    assertSame(missingArgs('address', 'port', 'callback'), node);
    assertSame(
      missingArgs('url'),
      thrown(() => new (URL as unknown as new () => URL)()),
    );
    assert.equal(missingArgs(['a', 'b']).message, 'The "a" or "b" argument must be specified');
  });

  it('ERR_UNKNOWN_ENCODING as Buffer.from() throws it', () => {
    assertSame(
      unknownEncoding('klingon'),
      thrown(() => Buffer.from('x', 'klingon' as BufferEncoding)),
    );
  });

  it('a stack starts with the class and the code, as Node writes it', () => {
    const err = invalidArgType('key', 'Buffer', 5);
    assert.match(err.stack ?? '', /^TypeError \[ERR_INVALID_ARG_TYPE\]: The "key" argument/);
    assert.equal(err.name, 'TypeError');
    assert.deepEqual(Object.keys(err), ['code']);
  });
});
