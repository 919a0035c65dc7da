// The node:crypto drop-ins streamed through every kernel driver of AES-CBC, AES-CTR and
// SHA-256 (the CPU's drivers through AF_ALG, the virtio-crypto card, /dev/crypto) and through
// `driver: 'kernel'`, against node:crypto; and their synchronous calls refused on each.
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { describe, it } from 'node:test';

import { createCipheriv, createDecipheriv, createHash, createHmac } from '../../src/index.js';
import { describeDrivers, driverCases, SOFTWARE_CASE, type DriverCase } from '../support/drivers.js';
import { assertSameError, thrown, throughStream } from '../support/dropins.js';
import { CIPHERS, HASHES, MACS, type Family } from '../support/families.js';

/** Sizes: empty, block edges, several requests of the stream's size (64 KiB), with a tail. */
const SIZES = [0, 1, 16, 17, 65_536 * 3 + 5];

/**
 * Runs `body` on each kernel driver case of `f` (describeDrivers first checks each opens as
 * itself), then on `driver: 'kernel'` (the kernel's own pick) where AF_ALG reaches one.
 */
async function onKernelDrivers(f: Family, body: (c: DriverCase, options: { skip?: string }) => void): Promise<void> {
  const cases = (await driverCases(f)).filter((c) => c !== SOFTWARE_CASE);
  describeDrivers(f, cases, body);
  // A pass narrowed to some drivers (KCRYPTO_TEST_DRIVERS: the /dev/crypto fixtures) leaves 'kernel' to the main pass.
  if (process.env['KCRYPTO_TEST_DRIVERS']) return;
  const afalg = cases.find((c) => c.label.startsWith('afalg:'));
  const skip = afalg === undefined ? 'AF_ALG lists no driver for it here' : afalg.skip;
  describe(`${f.kernelName} on driver: 'kernel'`, () => {
    body({ driver: 'kernel', label: 'kernel', kernel: true, required: false }, skip === undefined ? {} : { skip });
  });
}

for (const mode of ['cbc', 'ctr'] as const) {
  const f = CIPHERS.find((c) => c.mode === mode)!;
  await onKernelDrivers(f, (c, options) => {
    it(`createCipheriv/createDecipheriv streams as node:crypto`, options, async () => {
      for (const bits of [128, 256]) {
        const name = `aes-${bits}-${mode}`;
        for (const size of SIZES) {
          const key = nodeCrypto.randomBytes(bits / 8);
          const iv = nodeCrypto.randomBytes(16);
          const data = nodeCrypto.randomBytes(size);
          const n = nodeCrypto.createCipheriv(name, key, iv);
          const ref = Buffer.concat([n.update(data), n.final()]);
          const ct = await throughStream(createCipheriv(name, key, iv, { driver: c.driver }), data);
          assert.ok(ct.equals(ref), `${name} ${size} on ${c.label}: ciphertext`);
          const pt = await throughStream(createDecipheriv(name, key, iv, { driver: c.driver }), ref);
          assert.ok(pt.equals(data), `${name} ${size} on ${c.label}: plaintext`);
        }
      }
    });

    if (mode === 'cbc') {
      it('bad padding fails the stream as node:crypto fails final()', options, async () => {
        const key = nodeCrypto.randomBytes(16);
        const iv = nodeCrypto.randomBytes(16);
        const junk = nodeCrypto.randomBytes(65_536 + 32);
        junk[junk.length - 1] = 0;
        const nd = nodeCrypto.createDecipheriv('aes-128-cbc', key, iv);
        nd.update(junk);
        const expected = thrown(() => nd.final());
        await assert.rejects(throughStream(createDecipheriv('aes-128-cbc', key, iv, { driver: c.driver }), junk), (err) => {
          assertSameError(err, expected, c.label);
          return true;
        });
      });
    }

    it('synchronous update() is refused on a kernel driver, never blocking the event loop', options, () => {
      const cipher = createCipheriv(`aes-128-${mode}`, Buffer.alloc(16), Buffer.alloc(16), { driver: c.driver });
      if (c.driver === 'openssl') {
        // OpenSSL runs in this process: its synchronous calls are node:crypto's.
        const n = nodeCrypto.createCipheriv(`aes-128-${mode}`, Buffer.alloc(16), Buffer.alloc(16));
        assert.deepEqual(cipher.update('x'.repeat(40)), n.update('x'.repeat(40)));
        return;
      }
      const err = thrown(() => cipher.update('x'));
      assert.equal((err as { code?: string }).code, 'ERR_KCRYPTO_SYNC_UNAVAILABLE');
    });
  });
}

for (const f of [HASHES.find((h) => h.kernelName === 'sha256')!, MACS.find((m) => m.kernelName === 'hmac(sha256)')!]) {
  await onKernelDrivers(f, (c, options) => {
    it(`${f.kind === 'mac' ? 'createHmac' : 'createHash'} streams as node:crypto`, options, async () => {
      for (const size of SIZES) {
        const data = nodeCrypto.randomBytes(size);
        const key = nodeCrypto.randomBytes(32);
        const [ours, ref] =
          f.kind === 'mac'
            ? [createHmac('sha256', key, { driver: c.driver }), nodeCrypto.createHmac('sha256', key)]
            : [createHash('sha256', { driver: c.driver }), nodeCrypto.createHash('sha256')];
        assert.deepEqual(await throughStream(ours, data), ref.update(data).digest(), `${size} on ${c.label}`);
      }
    });
  });
}
