// Keys of kcrypto's subtle: import/export round trips with node's crypto.subtle both ways (raw
// and jwk), node:crypto CryptoKeys used directly, and key bytes kept out of sight.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';

import { KCryptoKey, subtle } from '../../../src/index.js';
import { nodeSubtle, outcome, type SubtleLike } from '../../support/webcrypto.js';

/** Node's subtle, with either format taken by one signature. */
const loose = nodeSubtle as unknown as SubtleLike;

const ALGORITHMS: { alg: Record<string, unknown>; usages: string[] }[] = [
  ...['AES-CBC', 'AES-CTR', 'AES-GCM'].flatMap((name) =>
    [128, 192, 256].map((length) => ({ alg: { name, length }, usages: ['encrypt', 'decrypt'] })),
  ),
  ...['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'].flatMap((hash) => [
    { alg: { name: 'HMAC', hash }, usages: ['sign', 'verify'] },
    { alg: { name: 'HMAC', hash, length: 136 }, usages: ['verify'] },
  ]),
];

const label = (a: Record<string, unknown>): string => JSON.stringify(a);
interface AnyKey {
  algorithm: unknown;
  usages: unknown;
  extractable: boolean;
  type: string;
}
const shape = (k: unknown): unknown => {
  const key = k as AnyKey;
  return { type: key.type, extractable: key.extractable, algorithm: key.algorithm, usages: key.usages };
};
const same = (o: unknown): unknown => JSON.parse(JSON.stringify(o));

describe('webcrypto key round trips with node', () => {
  for (const { alg, usages } of ALGORITHMS) {
    it(`${label(alg)}: node → kcrypto → node and kcrypto → node → kcrypto, raw and jwk`, async () => {
      const theirs = (await nodeSubtle.generateKey(alg as never, true, usages as never)) as unknown as Parameters<
        typeof nodeSubtle.exportKey
      >[1];
      for (const format of ['raw', 'jwk'] as const) {
        const exported = await loose.exportKey(format, theirs);
        const mine = await subtle.importKey(format, exported as never, alg as never, true, usages as never);
        assert.deepEqual(same(shape(mine)), same(shape(theirs)), `${format}: the key's algorithm and usages`);
        assert.deepEqual(same(await subtle.exportKey(format, mine)), same(exported), `${format}: exported back`);
        if (format === 'raw')
          assert.deepEqual(Buffer.from((await subtle.exportKey('raw', mine)) as ArrayBuffer), Buffer.from(exported as ArrayBuffer));
      }
      const generated = await subtle.generateKey(alg as never, true, usages as never);
      for (const format of ['raw', 'jwk'] as const) {
        const exported = await subtle.exportKey(format, generated);
        const back = await nodeSubtle.importKey(format as 'raw', exported as never, alg as never, true, usages as never);
        assert.deepEqual(same(shape(back)), same(shape(generated)), `${format}: node's import of kcrypto's key`);
        assert.deepEqual(same(await loose.exportKey(format, back)), same(exported), `${format}: node exports the same`);
      }
    });
  }

  it("generated keys: node's default lengths, random bytes (two keys differ)", async () => {
    for (const { alg, usages } of ALGORITHMS) {
      const [a, b] = [
        await subtle.generateKey(alg as never, true, usages as never),
        await subtle.generateKey(alg as never, true, usages as never),
      ];
      const theirs = (await nodeSubtle.generateKey(alg as never, true, usages as never)) as unknown as AnyKey;
      assert.deepEqual(same(a.algorithm), same(theirs.algorithm), label(alg));
      assert.notDeepEqual(
        Buffer.from((await subtle.exportKey('raw', a)) as ArrayBuffer),
        Buffer.from((await subtle.exportKey('raw', b)) as ArrayBuffer),
      );
    }
  });
});

describe("node:crypto's CryptoKeys in kcrypto's subtle", () => {
  it('an extractable one is used as it is: same ciphertext and signature as node gives', async () => {
    const aes = await nodeSubtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
    const params = { name: 'AES-GCM', iv: randomBytes(12), additionalData: randomBytes(7) };
    const data = randomBytes(1000);
    const ct = Buffer.from(await subtle.encrypt(params, aes, data));
    assert.deepEqual(ct, Buffer.from(await nodeSubtle.encrypt(params, aes, data)));
    assert.deepEqual(Buffer.from(await subtle.decrypt(params, aes, ct)), data);
    const hmac = await nodeSubtle.generateKey({ name: 'HMAC', hash: 'SHA-384' }, true, ['sign']);
    assert.deepEqual(Buffer.from(await subtle.sign('HMAC', hmac, data)), Buffer.from(await nodeSubtle.sign('HMAC', hmac, data)));
    assert.deepEqual(same(await subtle.exportKey('jwk', hmac)), same(await nodeSubtle.exportKey('jwk', hmac)));
    // Its usages still hold: a sign-only key does not verify.
    assert.equal(await outcome(() => subtle.verify('HMAC', hmac, new Uint8Array(48), data)), 'DOMException/InvalidAccessError');
  });

  it('a non-extractable one is refused (InvalidAccessError), its bytes are not read', async () => {
    const aes = await nodeSubtle.generateKey({ name: 'AES-CBC', length: 128 }, false, ['encrypt']);
    assert.equal(
      await outcome(() => subtle.encrypt({ name: 'AES-CBC', iv: randomBytes(16) }, aes, randomBytes(16))),
      'DOMException/InvalidAccessError',
    );
  });

  it('a key of an algorithm kcrypto does not serve is a NotSupportedError', async () => {
    const kw = await nodeSubtle.generateKey({ name: 'AES-KW', length: 128 }, true, ['wrapKey']);
    assert.equal(await outcome(() => subtle.exportKey('raw', kw)), 'DOMException/NotSupportedError');
  });
});

describe('KCryptoKey', () => {
  it('keeps its bytes out of sight: not a property, not in util.inspect or JSON', async () => {
    const raw = randomBytes(32);
    const key = await subtle.importKey('raw', raw, 'AES-GCM', true, ['encrypt']);
    assert.deepEqual(Reflect.ownKeys(key).sort(), ['algorithm', 'extractable', 'type', 'usages']);
    const shown = inspect(key, { showHidden: true, depth: Infinity, getters: true }) + JSON.stringify(key);
    for (const form of [raw.toString('hex'), raw.toString('base64'), raw.toString('base64url'), [...raw].join(', ')])
      assert.ok(!shown.includes(form), `key bytes visible: ${shown}`);
    assert.equal(Object.prototype.toString.call(key), '[object CryptoKey]');
    assert.ok(Object.isFrozen(key.algorithm) && Object.isFrozen(key.usages));
  });

  it('cannot be constructed by users (TypeError)', () => {
    const Ctor = KCryptoKey as unknown as new (...args: unknown[]) => unknown;
    assert.throws(() => new Ctor(Symbol('x'), { name: 'AES-GCM', length: 128 }, true, ['encrypt'], new Uint8Array(16)), TypeError);
  });

  it("is not a node:crypto CryptoKey: node's subtle refuses it (TypeError)", async () => {
    const key = await subtle.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt']);
    assert.equal(await outcome(() => nodeSubtle.exportKey('raw', key as never)), 'TypeError/TypeError');
  });
});
