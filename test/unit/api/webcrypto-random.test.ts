// getRandomValues() and randomUUID() of kcrypto's webcrypto: from getrandom(2) through the addon
// where it loads, with node's checks and DOMException names.
import assert from 'node:assert/strict';
import { webcrypto as nodeWebcrypto } from 'node:crypto';
import { describe, it } from 'node:test';

import { getRandomValues, randomUUID, randomValuesSource, subtle, webcrypto } from '../../../src/index.js';
import { loadAddon } from '../../../src/kernel/bridge/addon.js';
import { outcome } from '../../support/webcrypto.js';

const INTEGER_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
];

describe('webcrypto getRandomValues and randomUUID', () => {
  it('the source is getrandom(2) where the addon loads on Linux, else node:crypto with the reason', () => {
    const info = randomValuesSource();
    const { addon } = loadAddon();
    if (addon && process.platform === 'linux') assert.deepEqual(info, { source: 'getrandom' });
    else assert.ok(info.source === 'node:crypto' && typeof info.reason === 'string', JSON.stringify(info));
    assert.deepEqual(webcrypto.randomSource, info);
  });

  it("the addon's getRandom fills views of any offset and length, 0 to 1 MiB", (t) => {
    const { addon, error } = loadAddon();
    if (!addon?.getRandom) return t.skip(`no addon getRandom here: ${error ?? 'not exported'}`);
    assert.equal(addon.getRandom(new Uint8Array(0)), 0);
    const big = new Uint8Array(1 << 20);
    assert.equal(addon.getRandom(big), 0);
    // 1 MiB of zeros after a fill has probability 2^-8388608: a fill that did nothing.
    assert.ok(big.some((b) => b !== 0));
    const whole = new Uint8Array(64);
    assert.equal(addon.getRandom(new Uint8Array(whole.buffer, 8, 16)), 0);
    assert.ok(whole.subarray(0, 8).every((b) => b === 0) && whole.subarray(24).every((b) => b === 0), 'bytes outside the view untouched');
    assert.ok(whole.subarray(8, 24).some((b) => b !== 0));
  });

  it('fills every integer typed array in place and returns it; 65536 bytes at most', () => {
    for (const Type of INTEGER_ARRAYS) {
      const a = new Type(65536 / Type.BYTES_PER_ELEMENT);
      assert.equal(getRandomValues(a), a);
      assert.ok(
        new Uint8Array(a.buffer).some((b) => b !== 0),
        Type.name,
      );
    }
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    assert.notDeepEqual(webcrypto.getRandomValues(a), webcrypto.getRandomValues(b));
  });

  it('refuses what node refuses, with the same DOMException names', async () => {
    const cases: unknown[] = [
      new Float32Array(4),
      new Float64Array(4),
      new DataView(new ArrayBuffer(4)),
      new ArrayBuffer(4),
      5,
      null,
      undefined,
      'abc',
      new Uint8Array(65537),
      new Uint32Array(16385),
      new BigUint64Array(8193),
    ];
    for (const c of cases) {
      const mine = await outcome(() => Promise.resolve().then(() => getRandomValues(c as Uint8Array)));
      const theirs = await outcome(() => Promise.resolve().then(() => nodeWebcrypto.getRandomValues(c as Uint8Array)));
      assert.equal(mine, theirs, Object.prototype.toString.call(c));
      assert.notEqual(mine, 'resolved');
    }
  });

  it('randomUUID gives version-4 UUIDs, all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const u = i % 2 === 0 ? randomUUID() : webcrypto.randomUUID();
      assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(u);
    }
    assert.equal(seen.size, 2000);
  });

  it('webcrypto has subtle, getRandomValues and randomUUID', () => {
    assert.equal(webcrypto.subtle, subtle);
    assert.equal(typeof webcrypto.getRandomValues, 'function');
    assert.equal(typeof webcrypto.randomUUID, 'function');
  });
});
