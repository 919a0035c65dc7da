// `kcrypto bench`'s command line: what each option parses to, and the message each mistake
// gets (the command prints it with the usage text and exits 2).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { benchCommand } from '../../../src/cli/bench-command.js';
import {
  BenchUsageError,
  DEFAULT_DEPTHS,
  DEFAULT_SIZES,
  DEFAULT_TIME_MS,
  parseBenchArgs,
  parseSize,
  sizeArgument,
} from '../../../src/cli/bench/options.js';

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseBenchArgs(argv),
    (err: unknown) => err instanceof BenchUsageError && message.test(err.message),
    `${argv.join(' ')} should fail with ${message}`,
  );
}

describe('kcrypto bench options', () => {
  it('defaults: AES-256-CBC and SHA-256, 64 B to 1 MiB, 1, 8 and 64 in flight, every driver', () => {
    const o = parseBenchArgs([]);
    assert.deepEqual(
      o.algorithms.map((a) => a.name),
      ['aes-256-cbc', 'sha256'],
    );
    assert.deepEqual(o.sizes, [64, 1024, 16384, 65536, 1048576]);
    assert.deepEqual(o.sizes, [...DEFAULT_SIZES]);
    assert.deepEqual(o.depths, [...DEFAULT_DEPTHS]);
    assert.deepEqual(o.drivers, []);
    assert.equal(o.timeMs, DEFAULT_TIME_MS);
    assert.equal(o.json, false);
    assert.equal(o.svg, null);
    assert.equal(o.noNative, false);
  });

  it('sizes take k and m suffixes (KiB, MiB), sorted with repeats dropped', () => {
    assert.equal(parseSize('64'), 64);
    assert.equal(parseSize('1k'), 1024);
    assert.equal(parseSize('16K'), 16384);
    assert.equal(parseSize('1m'), 1048576);
    assert.equal(parseSize('2MiB'), 2 * 1048576);
    assert.deepEqual(parseBenchArgs(['--sizes', '1m,64,1k,64']).sizes, [64, 1024, 1048576]);
    for (const n of [64, 1024, 16384, 1048576, 48]) assert.equal(parseSize(sizeArgument(n)), n);
  });

  it('every option, in both --name value and --name=value forms', () => {
    const o = parseBenchArgs([
      '--algorithm',
      'aes-128-ctr,sha512',
      '--algorithm=sha256',
      '--sizes=16,4k',
      '--depth',
      '4,1',
      '--driver',
      'software',
      '--driver=openssl,fastest',
      '--driver',
      'software',
      '--time',
      '25',
      '--json',
      '--svg',
      'chart.svg',
      '--no-native',
    ]);
    assert.deepEqual(
      o.algorithms.map((a) => a.name),
      ['aes-128-ctr', 'sha512', 'sha256'],
    );
    assert.deepEqual(o.sizes, [16, 4096]);
    assert.deepEqual(o.depths, [1, 4]);
    assert.deepEqual(o.drivers, ['software', 'openssl', 'fastest']);
    assert.equal(o.timeMs, 25);
    assert.equal(o.json, true);
    assert.equal(o.svg, 'chart.svg');
    assert.equal(o.noNative, true);
  });

  it('mistakes name the option and what is wrong', () => {
    usageError(['--quick'], /unknown option --quick/);
    usageError(['--sizes'], /--sizes needs a value/);
    usageError(['--sizes', '--json'], /--sizes needs a value/);
    usageError(['--sizes', '12q'], /--sizes: "12q" is not a size/);
    usageError(['--sizes', '0'], /--sizes: 0 is out of range/);
    usageError(['--sizes', '65m'], /--sizes: 65m is out of range/);
    usageError(['--sizes', ','], /--sizes needs at least one value/);
    usageError(['--depth', '0'], /--depth: 0 is out of range/);
    usageError(['--depth', '2048'], /--depth: 2048 is out of range/);
    usageError(['--depth', '1.5'], /--depth: "1.5" is not a whole number/);
    usageError(['--time', '0'], /--time: "0" is not a time/);
    usageError(['--time', 'fast'], /--time: "fast" is not a time/);
    usageError(['--svg='], /--svg needs a file name/);
    usageError(['--algorithm', 'rot13'], /--algorithm rot13: unknown algorithm/);
    usageError(['--algorithm', 'aes-256-gcm'], /authenticated ciphers are not benchmarked/);
    // CBC takes whole blocks; a hash takes any length.
    usageError(['--algorithm', 'aes-256-cbc', '--sizes', '100'], /aes-256-cbc takes whole 16-byte blocks .* not 100/);
    assert.deepEqual(parseBenchArgs(['--algorithm', 'sha256', '--sizes', '100']).sizes, [100]);
  });

  it('the command prints the mistake and the usage on stderr and exits 2; a host option gets a hint', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: { isTTY: false, write: (t: string) => err.push(t) } };
    assert.equal(await benchCommand(['--depth', 'x'], io), 2);
    assert.deepEqual(out, []);
    assert.match(err.join(''), /^kcrypto bench: --depth: "x" is not a whole number\n\nusage: kcrypto bench /);
    err.length = 0;
    assert.equal(await benchCommand(['--rounds', '3'], io), 2);
    assert.match(err.join(''), /kcrypto bench --host --rounds/);
    err.length = 0;
    const missing = join(tmpdir(), `kcrypto-no-such-dir-${process.pid}`);
    assert.equal(await benchCommand(['--svg', join(missing, 'chart.svg')], io), 2);
    assert.ok(err.join('').endsWith(`: no directory ${missing}\n`), err.join(''));
    assert.equal(await benchCommand(['--help'], io), 0);
    assert.match(out.join(''), /--svg FILE/);
  });
});
