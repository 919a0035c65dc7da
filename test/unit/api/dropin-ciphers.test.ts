// node:crypto's createCipheriv/createDecipheriv from kcrypto, differentially against
// node:crypto: every cipher kcrypto serves, sizes around the block edges, the synchronous calls
// output by output, and the stream form on the software and default drivers.
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { once } from 'node:events';
import { describe, it } from 'node:test';

import { createCipheriv, createDecipheriv, framework, getCiphers, type Cipheriv, type Decipheriv } from '../../../src/index.js';
import { assertSameError, sameMisuse, thrown, throughStream, type MisuseCase } from '../../support/dropins.js';

const SIZES = [0, 1, 15, 16, 17, 31, 32, 33, 1000, 65_536 + 3];

interface Shape {
  name: string;
  keyLength: number;
  ivLength: number | null;
  aead: boolean;
  ccm: boolean;
  xts: boolean;
}

function shapeOf(name: string): Shape {
  const info = nodeCrypto.getCipherInfo(name)!;
  const lower = name.toLowerCase();
  const aead = /gcm|ccm|poly1305/.test(lower);
  return {
    name,
    keyLength: info.keyLength,
    ivLength: info.ivLength === undefined ? null : aead ? 12 : info.ivLength,
    aead,
    ccm: lower.endsWith('ccm'),
    xts: lower.endsWith('xts'),
  };
}

function keyOf(s: Shape): Buffer {
  const key = nodeCrypto.randomBytes(s.keyLength);
  // XTS refuses a key whose halves are equal; random halves never are.
  return key;
}

function ivOf(s: Shape): Buffer | null {
  return s.ivLength === null ? null : nodeCrypto.randomBytes(s.ivLength);
}

/** Options for both sides: CCM needs its tag length up front. */
function options(s: Shape, extra: object = {}): object {
  return s.ccm ? { authTagLength: 16, ...extra } : extra;
}

/** Feeds `data` in two update() calls (one where `whole`), then final(), on both objects; every output equal. */
function sameCalls(
  k: Cipheriv | Decipheriv,
  n: nodeCrypto.Cipher | nodeCrypto.Decipher,
  data: Buffer,
  where: string,
  whole: boolean,
): Buffer {
  const cut = data.length >> 1;
  // CCM takes one update(); XTS makes each update() a data unit, which must be 16 bytes or more.
  const parts = whole ? [data] : [data.subarray(0, cut), data.subarray(cut)];
  const out: Buffer[] = [];
  for (const p of parts) {
    const a = k.update(p);
    assert.deepEqual(a, n.update(p), `${where}: update() output`);
    out.push(a);
  }
  const f = k.final();
  assert.deepEqual(f, n.final(), `${where}: final() output`);
  out.push(f);
  return Buffer.concat(out);
}

const served = getCiphers();

describe('getCiphers()', () => {
  it('lists node:crypto names kcrypto serves, AES modes and ChaCha20-Poly1305 among them', () => {
    const node = new Set(nodeCrypto.getCiphers());
    for (const n of served) assert.ok(node.has(n), `${n} is a node:crypto name`);
    for (const n of ['aes-128-cbc', 'aes-256-ctr', 'aes-192-ecb', 'aes-256-gcm', 'aes-128-ccm', 'aes-256-xts', 'chacha20-poly1305'])
      assert.ok(served.includes(n), n);
    assert.ok(!served.includes('aes-128-ofb'), 'no kcrypto driver serves OFB');
  });
});

describe('synchronous calls, output by output as node:crypto', () => {
  for (const name of served) {
    const s = shapeOf(name);
    it(name, () => {
      for (const size of SIZES) {
        if (s.xts && size < 16) continue;
        // node:crypto's CCM cannot encrypt an empty message (OpenSSL: tag not set).
        if (s.ccm && (size === 0 || size > 1000)) continue;
        const key = keyOf(s);
        const iv = ivOf(s);
        const data = nodeCrypto.randomBytes(size);
        const aad = nodeCrypto.randomBytes(size % 40);
        const k = createCipheriv(name, key, iv, options(s));
        const n = nodeCrypto.createCipheriv(name, key, iv, options(s) as never) as nodeCrypto.CipherGCM;
        if (s.aead) {
          k.setAAD(aad, { plaintextLength: size });
          n.setAAD(aad, { plaintextLength: size });
        }
        const ct = sameCalls(k, n, data, `${name} encrypt ${size}`, s.ccm || s.xts);
        const tag = s.aead ? n.getAuthTag() : null;
        if (tag) assert.deepEqual(k.getAuthTag(), tag, `${name} ${size}: tag`);
        const d = createDecipheriv(name, key, iv, options(s));
        const nd = nodeCrypto.createDecipheriv(name, key, iv, options(s) as never) as nodeCrypto.DecipherGCM;
        if (tag) {
          d.setAuthTag(tag);
          nd.setAuthTag(tag);
          d.setAAD(aad, { plaintextLength: size });
          nd.setAAD(aad, { plaintextLength: size });
        }
        assert.deepEqual(sameCalls(d, nd, ct, `${name} decrypt ${size}`, s.ccm || s.xts), data);
      }
    });
  }
});

describe('failures of final(), as node:crypto gives them', () => {
  it('a tampered GCM tag, ChaCha20-Poly1305 tag and CCM tag', () => {
    for (const name of ['aes-256-gcm', 'chacha20-poly1305', 'aes-128-ccm']) {
      const s = shapeOf(name);
      const [key, iv] = [keyOf(s), ivOf(s)];
      const c = createCipheriv(name, key, iv, options(s));
      const ct = Buffer.concat([c.update(Buffer.from('attack at dawn')), c.final()]);
      const tag = c.getAuthTag();
      tag[0]! ^= 1;
      const run = (m: typeof nodeCrypto | { createDecipheriv: typeof createDecipheriv }) => () => {
        const d = m.createDecipheriv(name, key, iv, options(s)) as nodeCrypto.DecipherGCM;
        d.setAuthTag(tag);
        if (s.ccm) d.setAAD(Buffer.alloc(0), { plaintextLength: ct.length });
        d.update(ct);
        d.final();
      };
      assertSameError(thrown(run({ createDecipheriv })), thrown(run(nodeCrypto)), `${name} bad tag`);
    }
  });

  it('bad padding and a wrong final block length', () => {
    const key = nodeCrypto.randomBytes(16);
    const iv = nodeCrypto.randomBytes(16);
    const junk = nodeCrypto.randomBytes(32);
    junk[31] = 0;
    const badPad = (m: { createDecipheriv: typeof nodeCrypto.createDecipheriv }) => () => {
      const d = m.createDecipheriv('aes-128-cbc', key, iv);
      d.update(junk);
      d.final();
    };
    assertSameError(thrown(badPad({ createDecipheriv: createDecipheriv as never })), thrown(badPad(nodeCrypto)), 'bad padding');
    const unaligned = (m: { createCipheriv: typeof nodeCrypto.createCipheriv }) => () => {
      const c = m.createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      c.update(Buffer.alloc(20));
      c.final();
    };
    assertSameError(thrown(unaligned({ createCipheriv: createCipheriv as never })), thrown(unaligned(nodeCrypto)), 'unpadded, unaligned');
  });
});

describe('streams through the driver, as node:crypto', () => {
  for (const driver of ['software', 'fastest']) {
    for (const name of ['aes-128-cbc', 'aes-256-cbc', 'aes-192-ctr', 'aes-256-ecb', 'aes-128-xts', 'aes-256-gcm', 'chacha20-poly1305']) {
      it(`${name} on ${driver}`, async () => {
        const s = shapeOf(name);
        for (const size of [0, 1, 16, 17, 4095, 200_003, 1 << 20]) {
          if (s.xts && size < 16) continue;
          const [key, iv] = [keyOf(s), ivOf(s)];
          const data = nodeCrypto.randomBytes(size);
          const k = createCipheriv(name, key, iv, { driver });
          // XTS: node:crypto makes each write a data unit of its own, so both sides get one write.
          const ct = await throughStream(k, data, s.xts ? 0 : undefined);
          const n = nodeCrypto.createCipheriv(name, key, iv) as nodeCrypto.CipherGCM;
          const ref = Buffer.concat([n.update(data), n.final()]);
          assert.ok(ct.equals(ref), `${name} ${size} on ${driver}: ciphertext`);
          const d = createDecipheriv(name, key, iv, { driver });
          if (s.aead) {
            assert.deepEqual(k.getAuthTag(), n.getAuthTag(), 'tag');
            d.setAuthTag(n.getAuthTag());
          }
          assert.ok((await throughStream(d, ref, s.xts ? 0 : undefined)).equals(data), `${name} ${size} on ${driver}: plaintext`);
        }
      });
    }
  }

  it('a tampered tag and bad padding fail the stream with node:crypto’s error', async () => {
    const key = nodeCrypto.randomBytes(32);
    const iv = nodeCrypto.randomBytes(12);
    const c = nodeCrypto.createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([c.update(nodeCrypto.randomBytes(5000)), c.final()]);
    const tag = c.getAuthTag();
    tag[3]! ^= 0x40;
    const d = createDecipheriv('aes-256-gcm', key, iv, { driver: 'software' });
    d.setAuthTag(tag);
    const expected = thrown(() => {
      const nd = nodeCrypto.createDecipheriv('aes-256-gcm', key, iv);
      nd.setAuthTag(tag);
      nd.update(ct);
      nd.final();
    });
    await assert.rejects(throughStream(d, ct), (err) => (assertSameError(err, expected, 'stream bad tag'), true));

    const junk = nodeCrypto.randomBytes(4096);
    junk[4095] = 0;
    const cbcIv = nodeCrypto.randomBytes(16);
    const nd = nodeCrypto.createDecipheriv('aes-256-cbc', key, cbcIv);
    nd.update(junk);
    const badPad = thrown(() => nd.final());
    await assert.rejects(
      throughStream(createDecipheriv('aes-256-cbc', key, cbcIv, { driver: 'fastest' }), junk),
      (err) => (assertSameError(err, badPad, 'stream bad padding'), true),
    );
  });
});

describe('misuse, as node:crypto', () => {
  const key = Buffer.alloc(16, 1);
  const iv = Buffer.alloc(16, 2);
  const cases: MisuseCase[] = [
    ['unknown cipher', (m) => m.createCipheriv('nope-128', key, iv)],
    ['bad key length', (m) => m.createCipheriv('aes-128-cbc', Buffer.alloc(5), iv)],
    ['bad IV length', (m) => m.createCipheriv('aes-128-cbc', key, Buffer.alloc(5))],
    ['key of the wrong type', (m) => m.createCipheriv('aes-128-cbc', 5 as never, iv)],
    ['CCM without authTagLength', (m) => m.createCipheriv('aes-128-ccm', key, iv.subarray(0, 12))],
    ['GCM tag length not allowed', (m) => m.createDecipheriv('aes-128-gcm', key, iv.subarray(0, 12)).setAuthTag(Buffer.alloc(3))],
    [
      'update after final',
      (m) => {
        const c = m.createCipheriv('aes-128-cbc', key, iv);
        c.final();
        c.update('more');
      },
    ],
    ['getAuthTag before final', (m) => m.createCipheriv('aes-128-gcm', key, iv.subarray(0, 12)).getAuthTag()],
    [
      'setAuthTag on a Cipher',
      (m) => (m.createCipheriv('aes-128-gcm', key, iv.subarray(0, 12)) as unknown as nodeCrypto.DecipherGCM).setAuthTag(Buffer.alloc(16)),
    ],
  ];
  sameMisuse(cases, { createCipheriv, createDecipheriv });
});

describe('kcrypto’s extension: the driver option', () => {
  it('a synchronous call on a kernel driver throws, naming the stream and promise forms', () => {
    const c = createCipheriv('aes-128-cbc', Buffer.alloc(16), Buffer.alloc(16), { driver: 'kernel' });
    const err = thrown(() => c.update(Buffer.alloc(16)));
    assert.equal((err as { code?: string }).code, 'ERR_KCRYPTO_SYNC_UNAVAILABLE');
    assert.match(err.message, /stream.*openSession/);
    c.destroy();
  });

  it('an object streaming through a driver refuses synchronous calls', async () => {
    const c = createCipheriv('aes-128-ctr', Buffer.alloc(16), Buffer.alloc(16), { driver: 'software' });
    c.write(Buffer.alloc(100));
    const err = thrown(() => c.update(Buffer.alloc(16)));
    assert.equal((err as { code?: string }).code, 'ERR_KCRYPTO_STREAMING');
    c.end();
    c.resume();
    await once(c, 'end');
  });

  it('a driver that is not a string is a TypeError', () => {
    const err = thrown(() => createCipheriv('aes-128-cbc', Buffer.alloc(16), Buffer.alloc(16), { driver: 5 as never }));
    assert.ok(err instanceof TypeError);
    assert.equal((err as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
  });

  it('a GCM IV the drivers do not take streams on node:crypto where the choice allows', async () => {
    const key = nodeCrypto.randomBytes(16);
    const iv = nodeCrypto.randomBytes(16);
    const data = nodeCrypto.randomBytes(1000);
    const n = nodeCrypto.createCipheriv('aes-128-gcm', key, iv);
    const ref = Buffer.concat([n.update(data), n.final()]);
    const k = createCipheriv('aes-128-gcm', key, iv);
    assert.ok((await throughStream(k, data)).equals(ref));
    assert.deepEqual(k.getAuthTag(), n.getAuthTag());
  });
});

describe('a stream through a driver: requests and back-pressure', () => {
  it('cuts 8 MiB into 64 KiB requests, never more than 4 in flight', async () => {
    const key = nodeCrypto.randomBytes(16);
    const iv = nodeCrypto.randomBytes(16);
    const data = nodeCrypto.randomBytes(8 << 20);
    const openssl = () => framework.stats().find((d) => d.name === 'openssl');
    const before = openssl()?.requests ?? 0;
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, openssl()?.inFlight ?? 0)), 0);
    const k = createCipheriv('aes-128-ctr', key, iv, { driver: 'openssl' });
    try {
      const out = await throughStream(k, data, 1 << 20);
      const n = nodeCrypto.createCipheriv('aes-128-ctr', key, iv);
      assert.ok(out.equals(Buffer.concat([n.update(data), n.final()])));
    } finally {
      clearInterval(sample);
    }
    assert.equal(openssl()!.requests - before, 128, '8 MiB in 64 KiB requests');
    assert.ok(most <= 4, `at most 4 requests in flight (saw ${most})`);
  });
});
