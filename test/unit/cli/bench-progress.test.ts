// The progress bar of `kcrypto bench` draws only on a terminal: a log or a pipe gets nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createProgress } from '../../../src/cli/bench/progress.js';

/** The terminal's erase-to-end-of-line sequence. */
const ERASE_LINE = '\x1b[K';

describe('kcrypto bench progress bar', () => {
  it('writes nothing when the stream is not a TTY', () => {
    for (const isTTY of [false, undefined]) {
      const writes: string[] = [];
      const p = createProgress({ isTTY, write: (t: string) => writes.push(t) });
      p.start(3);
      p.step('a');
      p.step('b');
      p.done();
      assert.equal(p.enabled, false);
      assert.deepEqual(writes, []);
    }
  });

  it('on a TTY: redraws one line with the count and the label, and erases it when done', () => {
    const writes: string[] = [];
    const p = createProgress({ isTTY: true, columns: 60, write: (t: string) => writes.push(t) });
    p.start(2);
    p.step('sha256 64 B × 1: software');
    p.step('sha256 64 B × 1: openssl');
    p.done();
    assert.equal(writes.length, 3);
    assert.equal(writes[0], `\r[${'-'.repeat(24)}] 1/2 sha256 64 B × 1: software${ERASE_LINE}`);
    assert.equal(writes[1], `\r[${'#'.repeat(12)}${'-'.repeat(12)}] 2/2 sha256 64 B × 1: openssl${ERASE_LINE}`);
    assert.equal(writes[2], `\r${ERASE_LINE}`);
    // A label longer than the terminal is cut, not wrapped onto a new line.
    const long: string[] = [];
    const q = createProgress({ isTTY: true, columns: 40, write: (t: string) => long.push(t) });
    q.start(1);
    q.step('x'.repeat(100));
    assert.ok(long[0]!.replace('\r', '').replace(ERASE_LINE, '').length <= 39);
    // A terminal that reports 0 columns (script(1)) is taken as 80 wide, not cut to nothing.
    const zero: string[] = [];
    const z = createProgress({ isTTY: true, columns: 0, write: (t: string) => zero.push(t) });
    z.start(1);
    z.step('sha256 1 MiB × 64: fastest');
    assert.ok(zero[0]!.includes('sha256 1 MiB × 64: fastest'), zero[0]);
  });
});
