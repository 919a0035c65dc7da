// node:crypto's createHash/createHmac/hash from kcrypto, differentially against node:crypto:
// every hash kcrypto serves, synchronous and streamed, copies mid-message, and misuse.
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { describe, it } from 'node:test';

import { createHash, createHmac, getHashes, hash } from '../../../src/index.js';
import { sameMisuse, thrown, throughStream, type MisuseCase } from '../../support/dropins.js';

const served = getHashes();
const SIZES = [0, 1, 63, 64, 65, 1000, 200_003];

describe('getHashes()', () => {
  it('lists node:crypto names kcrypto serves', () => {
    const node = new Set(nodeCrypto.getHashes());
    for (const n of served) assert.ok(node.has(n), n);
    for (const n of ['sha1', 'sha256', 'sha512', 'sha3-256', 'md5', 'RSA-SHA256']) assert.ok(served.includes(n), n);
    assert.ok(!served.includes('shake256'), 'no kcrypto driver serves SHAKE');
  });
});

describe('synchronous digests, as node:crypto', () => {
  for (const name of served) {
    it(name, () => {
      for (const size of SIZES) {
        const data = nodeCrypto.randomBytes(size);
        const key = nodeCrypto.randomBytes(size % 100);
        assert.equal(
          createHash(name).update(data).digest('hex'),
          nodeCrypto.createHash(name).update(data).digest('hex'),
          `${name} ${size}`,
        );
        assert.deepEqual(
          createHmac(name, key).update(data).digest(),
          nodeCrypto.createHmac(name, key).update(data).digest(),
          `hmac ${name} ${size}`,
        );
        assert.equal(hash(name, data), nodeCrypto.createHash(name).update(data).digest('hex'), `hash() ${name} ${size}`);
      }
    });
  }

  it('copy() mid-message goes on independently', () => {
    const h = createHash('sha256').update('head');
    const c = h.copy();
    h.update('one');
    c.update('two');
    assert.equal(h.digest('hex'), nodeCrypto.createHash('sha256').update('headone').digest('hex'));
    assert.equal(c.digest('base64'), nodeCrypto.createHash('sha256').update('headtwo').digest('base64'));
  });
});

describe('streams through the driver, as node:crypto', () => {
  for (const driver of ['software', 'fastest']) {
    for (const name of ['sha1', 'sha256', 'sha512', 'sha3-256']) {
      it(`${name} and its HMAC on ${driver}`, async () => {
        for (const size of [0, 1, 4096, 1 << 20]) {
          const data = nodeCrypto.randomBytes(size);
          const key = nodeCrypto.randomBytes(32);
          assert.deepEqual(await throughStream(createHash(name, { driver }), data), nodeCrypto.createHash(name).update(data).digest());
          assert.deepEqual(
            await throughStream(createHmac(name, key, { driver }), data),
            nodeCrypto.createHmac(name, key).update(data).digest(),
          );
        }
      });
    }

    it(`copy() of a stream on ${driver} takes the state after what was written`, async () => {
      const h = createHash('sha256', { driver });
      h.write(Buffer.from('head'));
      const c = h.copy();
      const [a, b] = await Promise.all([throughStream(h, Buffer.from('one')), throughStream(c, Buffer.from('two'))]);
      assert.deepEqual(a, nodeCrypto.createHash('sha256').update('headone').digest());
      assert.deepEqual(b, nodeCrypto.createHash('sha256').update('headtwo').digest());
    });
  }
});

describe('misuse, as node:crypto', () => {
  const cases: MisuseCase[] = [
    ['unknown hash', (m) => m.createHash('nope')],
    [
      'update after digest',
      (m) => {
        const h = m.createHash('sha256');
        h.digest();
        h.update('x');
      },
    ],
    [
      'digest twice',
      (m) => {
        const h = m.createHash('sha256');
        h.digest();
        h.digest();
      },
    ],
    [
      'HMAC update after digest',
      (m) => {
        const h = m.createHmac('sha256', 'k');
        h.digest();
        h.update('x');
      },
    ],
    ['HMAC key of the wrong type', (m) => m.createHmac('sha256', 5 as never)],
    ['data of the wrong type', (m) => m.createHash('sha256').update(5 as never)],
    ['hash() of an unknown algorithm', (m) => (m as unknown as { hash: typeof hash }).hash('nope', 'x')],
  ];
  sameMisuse(cases, { createHash, createHmac, hash });

  it('a synchronous digest on a kernel driver throws ERR_KCRYPTO_SYNC_UNAVAILABLE', () => {
    const err = thrown(() => createHash('sha256', { driver: 'kernel' }).update('x'));
    assert.equal((err as { code?: string }).code, 'ERR_KCRYPTO_SYNC_UNAVAILABLE');
  });
});
