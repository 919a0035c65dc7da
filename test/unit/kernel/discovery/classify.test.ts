import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DriverKind, classifyDriver } from '../../../../src/kernel/discovery/classify.js';
import { parseProcCrypto } from '../../../../src/kernel/discovery/proc-crypto.js';
import { readFixture } from '../../../support/package-root.js';

interface Case {
  driver: string;
  module: string;
  type?: string;
  async?: boolean;
  internal?: boolean;
  kind: DriverKind;
}

const CASES: Case[] = [
  // Device drivers, by module or by name.
  { driver: 'virtio_crypto_aes_cbc', module: 'virtio_crypto', async: true, kind: 'hardware' },
  { driver: 'virtio_crypto_aes_cbc', module: 'kernel', async: true, kind: 'hardware' }, // virtio built in (6.12)
  { driver: 'virtio-crypto-rsa', module: 'virtio_crypto', type: 'akcipher', kind: 'hardware' },
  { driver: 'cbc-aes-caam', module: 'caam_jr', async: true, kind: 'hardware' },
  { driver: 'cbc-aes-caam-qi2', module: 'dpaa2_caam', async: true, kind: 'hardware' },
  { driver: 'qat_aes_cbc', module: 'intel_qat', async: true, kind: 'hardware' }, // not "intel" = CPU
  { driver: 'cbc-aes-ccp', module: 'ccp_crypto', async: true, kind: 'hardware' },
  { driver: 'cbc-aes-ccree', module: 'ccree', async: true, kind: 'hardware' },
  { driver: 'cbc-aes-sun8i-ce', module: 'sun8i_ce', async: true, kind: 'hardware' }, // not arm64 "-ce"
  { driver: 'cbc-aes-omap', module: 'omap_aes_driver', async: true, kind: 'hardware' },
  { driver: 'cbc-aes-talitos', module: 'talitos', async: true, kind: 'hardware' },
  { driver: 'atmel-cbc-aes', module: 'atmel_aes', async: true, kind: 'hardware' },
  { driver: 'mv-cbc-aes', module: 'marvell_cesa', async: true, kind: 'hardware' },
  { driver: 'nx-aes-cbc', module: 'nx_crypto', kind: 'hardware' },
  { driver: 'cbc-aes-s5p', module: 's5p_sss', async: true, kind: 'hardware' },
  { driver: 'cbc-aes-rk', module: 'rk_crypto', async: true, kind: 'hardware' },
  { driver: 'stm32-cbc-aes', module: 'stm32_cryp', async: true, kind: 'hardware' },
  { driver: 'safexcel-cbc-aes', module: 'crypto_safexcel', async: true, kind: 'hardware' },
  { driver: 'cbc-aes-dcp', module: 'kernel', async: true, kind: 'hardware' },
  { driver: 'hisi_sec_aes_cbc', module: 'hisi_sec2', async: true, kind: 'hardware' },
  // CPU instructions.
  { driver: 'cbc-aes-aesni', module: 'aesni_intel', async: true, kind: 'accelerated' },
  { driver: 'cbc-aes-ce', module: 'aes_ce_blk', kind: 'accelerated' },
  { driver: 'sha2-ce', module: 'kernel', kind: 'accelerated' },
  { driver: 'sha256-avx2', module: 'sha256_ssse3', kind: 'accelerated' },
  { driver: 'sha256-ni', module: 'kernel', kind: 'accelerated' },
  { driver: 'ghash-clmulni', module: 'ghash_clmulni_intel', type: 'ahash', async: true, kind: 'accelerated' },
  { driver: 'chacha20-simd', module: 'chacha_x86_64', kind: 'accelerated' },
  { driver: 'poly1305-simd', module: 'poly1305_x86_64', kind: 'accelerated' },
  { driver: 'aes-asm', module: 'aes_x86_64', type: 'cipher', kind: 'accelerated' },
  { driver: 'crc32c-intel', module: 'crc32c_intel', kind: 'accelerated' },
  { driver: 'chacha20-neon', module: 'chacha_neon', kind: 'accelerated' },
  { driver: 'blake2s-256-x86', module: 'kernel', kind: 'accelerated' },
  { driver: 'authenc(hmac(sha256-avx2),cbc-aes-aesni)', module: 'authenc', type: 'aead', async: true, kind: 'accelerated' },
  // Software.
  { driver: 'sha256-generic', module: 'kernel', kind: 'software' },
  { driver: 'sha256-lib', module: 'kernel', kind: 'software' },
  { driver: 'cbc(aes-generic)', module: 'kernel', kind: 'software' },
  { driver: 'gcm_base(ctr(aes-generic),ghash-generic)', module: 'gcm', type: 'aead', async: false, kind: 'software' },
  { driver: 'drbg_nopr_hmac_sha256', module: 'kernel', type: 'rng', kind: 'software' },
  { driver: 'jitterentropy_rng', module: 'jitterentropy_rng', type: 'rng', kind: 'software' },
  // async on a wrapper says nothing about hardware.
  { driver: 'cryptd(cbc(aes-generic))', module: 'cryptd', async: true, kind: 'software' },
  { driver: 'pcrypt(authenc(hmac(sha256-generic),cbc(aes-generic)))', module: 'pcrypt', type: 'aead', async: true, kind: 'software' },
  // An asynchronous driver with no marker at all: the async rule.
  { driver: 'cbc-aes-newchip', module: 'newchip_crypto', async: true, kind: 'hardware' },
];

describe('classifyDriver', () => {
  for (const c of CASES) {
    it(`${c.driver} (${c.module}) → ${c.kind}`, () => {
      const r = classifyDriver({
        driver: c.driver,
        module: c.module,
        type: c.type ?? 'skcipher',
        async: c.async,
        internal: c.internal ?? false,
      });
      assert.equal(r.kind, c.kind, r.reason);
      assert.ok(r.reason.length > 0);
      assert.equal(r.userReachable, true);
    });
  }

  it('names the evidence in the reason', () => {
    const hw = classifyDriver({ driver: 'virtio_crypto_aes_cbc', module: 'virtio_crypto', type: 'skcipher', async: true, internal: false });
    assert.match(hw.reason, /virtio_crypto/);
    const cpu = classifyDriver({ driver: 'sha256-avx2', module: 'sha256_ssse3', type: 'shash', internal: false });
    assert.match(cpu.reason, /avx2/);
    const async = classifyDriver({ driver: 'cbc-aes-newchip', module: 'newchip_crypto', type: 'skcipher', async: true, internal: false });
    assert.match(async.reason, /asynchronous/);
  });

  it('marks internal and larval entries as not user-reachable', () => {
    const inner = classifyDriver({ driver: '__cbc-aes-aesni', module: 'aesni_intel', type: 'skcipher', async: false, internal: true });
    assert.equal(inner.userReachable, false);
    assert.equal(inner.kind, 'accelerated');
    const cryptd = classifyDriver({ driver: 'cryptd(__generic-gcm-aesni)', module: 'cryptd', type: 'aead', async: true, internal: true });
    assert.equal(cryptd.userReachable, false);
    assert.notEqual(cryptd.kind, 'hardware');
    const larval = classifyDriver({ driver: 'cbc(aes-generic)', module: 'kernel', type: 'larval', internal: false });
    assert.equal(larval.userReachable, false);
  });

  it('finds hardware only in virtio-crypto on the QEMU guest capture', () => {
    const es = parseProcCrypto(readFixture('proc-crypto-6.1-qemu.txt'));
    for (const e of es) {
      const r = classifyDriver(e);
      const virtio = e.module.includes('virtio') || e.driver.includes('virtio');
      assert.equal(r.kind === 'hardware', virtio, `${e.driver}: ${r.kind} (${r.reason})`);
      if (e.internal) assert.equal(r.userReachable, false, e.driver);
      if (e.module === 'aesni_intel') assert.equal(r.kind, 'accelerated', e.driver);
      if (e.driver.endsWith('-generic')) assert.equal(r.kind, 'software', e.driver);
    }
    assert.ok(es.some((e) => classifyDriver(e).kind === 'hardware'));
  });
});
