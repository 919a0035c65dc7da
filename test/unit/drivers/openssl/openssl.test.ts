// The openssl driver (OpenSSL's EVP through the addon) through the public API, byte for byte
// against node:crypto, inline and on the CPU lane's threads. The lab's conformance suites
// (Wycheproof, differential, errors, streaming, parallel) run it as one more driver case.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { CipherSession, HashSession, drivers, openSession, type Execution } from '../../../../src/index.js';
import { kcryptoError, misuseError } from '../../../support/errors.js';

const EXECUTIONS: readonly Execution[] = ['inline', 'threads', 'auto'];
const SIZES = [0, 16, 64, 4096, 65536 + 32, 1 << 20];

/** node:crypto's raw encryption (no padding). */
function nodeCipher(name: string, key: Buffer, iv: Buffer | null, data: Buffer): Buffer {
  const c = createCipheriv(name, key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

async function cipherOn(execution: Execution, cipher: string, key: Buffer): Promise<CipherSession> {
  const s = await openSession({ cipher, key }, { driver: 'openssl', execution });
  assert.ok(s instanceof CipherSession);
  assert.equal(s.driver, 'openssl');
  return s;
}

describe('openssl driver', () => {
  it('is listed, available, with the AES modes, the hashes and their HMACs', async () => {
    const d = (await drivers()).find((x) => x.name === 'openssl');
    assert.ok(d, 'openssl missing from drivers()');
    assert.equal(d.available, true, d.reason);
    assert.equal(d.interface, 'openssl');
    assert.equal(d.kind, 'software');
    for (const a of ['cbc(aes)', 'ctr(aes)', 'ecb(aes)', 'xts(aes)', 'sha256', 'sha512', 'hmac(sha256)'])
      assert.ok(d.algorithms.includes(a), `${a} not listed: ${d.algorithms.join(', ')}`);
  });

  for (const execution of EXECUTIONS) {
    describe(`execution ${execution}`, () => {
      for (const [cipher, keyLength, ivLength] of [
        ['aes-128-cbc', 16, 16],
        ['aes-256-cbc', 32, 16],
        ['aes-192-ctr', 24, 16],
        ['aes-128-ecb', 16, 0],
        ['aes-256-xts', 64, 16],
      ] as const) {
        it(`${cipher}: encrypt and decrypt match node:crypto at ${SIZES.join(', ')} bytes`, async () => {
          const key = randomBytes(keyLength);
          const s = await cipherOn(execution, cipher, key);
          try {
            for (const size of SIZES) {
              if (cipher.endsWith('xts') && size < 16) continue;
              const data = randomBytes(size);
              const iv = ivLength > 0 ? randomBytes(ivLength) : undefined;
              const expected = nodeCipher(cipher, key, iv ?? null, data);
              const { ciphertext } = await s.encrypt(data, iv ? { iv } : {});
              assert.ok(ciphertext.equals(expected), `${cipher} ${size} B: ciphertext differs from node:crypto`);
              const back = await s.decrypt(ciphertext, iv ? { iv } : {});
              assert.ok(back.equals(data), `${cipher} ${size} B: decrypt does not give the plaintext back`);
            }
          } finally {
            await s.close();
          }
        });
      }

      it('SHA-256, SHA-512, SHA3-256 and HMAC-SHA-256 digests match node:crypto, one-shot and incremental', async () => {
        const key = randomBytes(40);
        for (const [spec, expect] of [
          [{ hash: 'sha256' }, (d: Buffer) => createHash('sha256').update(d).digest()],
          [{ hash: 'sha512' }, (d: Buffer) => createHash('sha512').update(d).digest()],
          [{ hash: 'sha3-256' }, (d: Buffer) => createHash('sha3-256').update(d).digest()],
          [{ hmac: 'sha256', key }, (d: Buffer) => createHmac('sha256', key).update(d).digest()],
        ] as const) {
          const s = await openSession(spec, { driver: 'openssl', execution });
          assert.ok(s instanceof HashSession);
          try {
            for (const size of SIZES) {
              const data = randomBytes(size);
              assert.ok((await s.digest(data)).equals(expect(data)), `${JSON.stringify(spec)} ${size} B`);
            }
            const a = randomBytes(1000);
            const b = randomBytes(3000);
            await s.update(a);
            const copy = await s.copy();
            await s.update(b);
            assert.ok((await s.final()).equals(expect(Buffer.concat([a, b]))), 'update, update, final');
            assert.ok((await copy.final()).equals(expect(a)), 'the copy keeps the state it was made from');
            await copy.close();
          } finally {
            await s.close();
          }
        }
      });
    });
  }

  it('8 requests of 1 MiB in flight on threads all complete, each correct, on the CPU lane', async () => {
    const key = randomBytes(16);
    const s = await cipherOn('threads', 'aes-128-cbc', key);
    try {
      const iv = randomBytes(16);
      const data = Array.from({ length: 8 }, () => randomBytes(1 << 20));
      const out = await Promise.all(data.map((d) => s.encrypt(d, { iv })));
      out.forEach((o, i) => assert.ok(o.ciphertext.equals(nodeCipher('aes-128-cbc', key, iv, data[i]!)), `request ${i}`));
      const st = s.stats();
      assert.ok(st, 'an engine session has stats');
      assert.equal(st.threaded, 8);
      assert.equal(st.inline, 0);
      assert.equal(st.errors, 0);
    } finally {
      await s.close();
    }
  });

  it('misuse throws as node:crypto does; what the driver refuses is a KCryptoError naming it', async () => {
    await assert.rejects(
      openSession({ cipher: 'aes-128-cbc', key: randomBytes(15) }, { driver: 'openssl' }),
      misuseError('RangeError', 'ERR_CRYPTO_INVALID_KEYLEN'),
    );
    // XTS keys with equal halves: OpenSSL refuses them (a known weak key).
    const half = randomBytes(16);
    await assert.rejects(
      openSession({ cipher: 'aes-128-xts', key: Buffer.concat([half, half]) }, { driver: 'openssl' }),
      kcryptoError('EINVAL', 'openssl'),
    );
    await assert.rejects(
      openSession({ cipher: 'aes-128-gcm', key: randomBytes(16) }, { driver: 'openssl' }),
      kcryptoError('EINVAL', 'openssl'),
    );
    const s = await cipherOn('inline', 'aes-128-cbc', randomBytes(16));
    await assert.rejects(s.encrypt(randomBytes(17), { iv: randomBytes(16) }), misuseError('RangeError', 'ERR_OUT_OF_RANGE'));
    await s.close();
    await assert.rejects(s.encrypt(randomBytes(16), { iv: randomBytes(16) }), kcryptoError('EBADF'));
  });
});
