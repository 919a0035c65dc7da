import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type AfAlgNative, type AfAlgType, PROBE_NAMES, afalgTypeOf } from '../../../../src/kernel/discovery/afalg-probe.js';
import { type DiscoverKernelOptions, type KernelDriver, discoverKernel } from '../../../../src/kernel/discovery/discover.js';
import { parseProcCrypto } from '../../../../src/kernel/discovery/proc-crypto.js';
import { readFixture } from '../../../support/package-root.js';

const TEXT = readFixture('proc-crypto-6.1-qemu.txt');
const ENTRIES = parseProcCrypto(TEXT);
/** Linux x86_64 values, as the addon would report them. */
const LINUX: Record<string, number> = { EPERM: 1, ENOENT: 2, EACCES: 13, EINVAL: 22, EAFNOSUPPORT: 97 };
const ENOENT = 2;

/** Never touches the host: /proc/crypto, modprobe.d and the command line are all injected. */
function options(extra: DiscoverKernelOptions = {}): DiscoverKernelOptions {
  const restriction = { value: null, privilege: { privileged: true, reason: 'test' } };
  return { procCryptoText: TEXT, modprobeFiles: [], cmdline: null, platform: 'linux', restriction, ...extra };
}

/** A kernel that binds what the fixture lists; optionally with AF_ALG's 2026 restrictions. */
function kernel(k: { socket?: number; refuseAsync?: boolean; missing?: string[] } = {}): AfAlgNative & { calls: number } {
  const fake = {
    calls: 0,
    errnoTable: () => LINUX,
    probeAfAlg: () => k.socket ?? 0,
    probeBind(type: string, name: string): number {
      fake.calls++;
      if (k.socket) return k.socket;
      if (k.missing?.includes(type)) return ENOENT;
      // A real kernel instantiates these from templates on demand (synchronous ones, on 7.2).
      if (PROBE_NAMES[type as AfAlgType]?.includes(name)) return 0;
      const ok = ENTRIES.some(
        (e) =>
          afalgTypeOf(e.type).afalgType === type &&
          !e.internal &&
          (e.driver === name || e.name === name) &&
          !(k.refuseAsync && e.async === true),
      );
      return ok ? 0 : ENOENT;
    },
  };
  return fake;
}

function find(drivers: KernelDriver[], driver: string): KernelDriver {
  const d = drivers.find((x) => x.driver === driver);
  assert.ok(d, `${driver} discovered`);
  return d;
}

describe('discoverKernel', () => {
  it('combines /proc/crypto, classification and AF_ALG reachability (6.1 guest)', async () => {
    const r = await discoverKernel(kernel(), options());
    assert.deepEqual(r.procCrypto, { available: true, path: '(injected)' });
    assert.equal(r.afalg.available, true);
    for (const t of Object.values(r.afalg.types)) assert.equal(t.available, true);
    assert.equal(r.afalg.asyncBindRefused, false);
    assert.equal(r.drivers.length, ENTRIES.length);

    const virtio = find(r.drivers, 'virtio_crypto_aes_cbc');
    assert.equal(virtio.name, 'cbc(aes)');
    assert.equal(virtio.kind, 'hardware');
    assert.equal(virtio.afalgType, 'skcipher');
    assert.equal(virtio.async, true);
    assert.equal(virtio.priority, 150);
    assert.equal(virtio.reachable, true);
    assert.equal(virtio.reason, undefined);
    assert.equal(virtio.entry.ivsize, 16);
    assert.match(virtio.kindReason, /virtio/);

    const rsa = find(r.drivers, 'virtio-crypto-rsa');
    assert.equal(rsa.kind, 'hardware');
    assert.equal(rsa.afalgType, null);
    assert.equal(rsa.reachable, false);
    assert.match(rsa.reason ?? '', /akcipher/);

    for (const d of r.drivers) {
      if (d.internal) assert.equal(d.reachable, false, d.driver);
      if (!d.reachable) assert.ok((d.reason ?? '').length > 0, `${d.driver} has a reason`);
      assert.ok(d.kindReason.length > 0);
    }
    // Something of every kind is there in a QEMU guest with AES-NI and virtio-crypto.
    const kinds = new Set(r.drivers.filter((d) => d.reachable).map((d) => d.kind));
    assert.deepEqual([...kinds].sort(), ['accelerated', 'hardware', 'software']);
  });

  it('reports a kernel that refuses asynchronous drivers (7.2)', async () => {
    const r = await discoverKernel(kernel({ refuseAsync: true }), options());
    assert.equal(r.afalg.available, true);
    for (const t of Object.values(r.afalg.types)) assert.equal(t.available, true);
    assert.equal(r.afalg.asyncBindRefused, true);
    assert.match(r.afalg.asyncBindReason ?? '', /refused through AF_ALG since 7\.2: use \/dev\/crypto/);
    const virtio = find(r.drivers, 'virtio_crypto_aes_cbc');
    assert.equal(virtio.reachable, false);
    assert.equal(virtio.asyncRefused, true);
    assert.equal(virtio.code, 'ENOENT');
    assert.equal(virtio.errno, ENOENT);
    assert.match(virtio.reason ?? '', /asynchronous drivers are refused through AF_ALG since 7\.2/);
    assert.equal(find(r.drivers, 'cbc(aes-generic)').reachable, true);
    const gcm = find(r.drivers, 'generic-gcm-aesni');
    assert.equal(gcm.asyncRefused, true, 'async aead refused too');
    assert.equal(find(r.drivers, 'rfc7539(chacha20-simd,poly1305-simd)').reachable, true);
  });

  it('reports, without throwing, a host without AF_ALG', async () => {
    const r = await discoverKernel(kernel({ socket: LINUX['EAFNOSUPPORT']! }), options());
    assert.equal(r.afalg.available, false);
    assert.equal(r.afalg.code, 'EAFNOSUPPORT');
    assert.match(r.afalg.reason ?? '', /CONFIG_CRYPTO_USER_API/);
    assert.equal(r.afalg.asyncBindRefused, undefined);
    assert.equal(r.drivers.length, ENTRIES.length);
    for (const d of r.drivers) {
      assert.equal(d.reachable, false);
      assert.ok((d.reason ?? '').length > 0);
    }
  });

  it('reports a blacklisted algif_aead on the type and on each aead driver', async () => {
    const r = await discoverKernel(
      kernel({ missing: ['aead'] }),
      options({ modprobeFiles: [{ path: '/etc/modprobe.d/copyfail.conf', text: 'install algif_aead /bin/false\n' }] }),
    );
    assert.equal(r.afalg.types.aead.available, false);
    assert.match(r.afalg.types.aead.reason ?? '', /copyfail\.conf:1/);
    const gcm = find(r.drivers, 'generic-gcm-aesni');
    assert.equal(gcm.reachable, false);
    assert.match(gcm.reason ?? '', /aead sockets unavailable.*algif_aead/);
    assert.equal(find(r.drivers, 'sha256-generic').reachable, true);
  });

  it('works with no addon and no /proc/crypto', async () => {
    const r = await discoverKernel(null, options({ procCryptoText: null }));
    assert.equal(r.procCrypto.available, false);
    assert.deepEqual(r.drivers, []);
    assert.equal(r.afalg.available, false);
    assert.match(r.afalg.reason ?? '', /native addon not loaded/);
    const listed = await discoverKernel(null, options());
    assert.equal(listed.drivers.length, ENTRIES.length);
    assert.ok(listed.drivers.every((d) => !d.reachable && (d.reason ?? '') !== ''));
  });

  it('reads /proc/crypto from the given path and says when it is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-disc-'));
    try {
      const path = join(dir, 'crypto');
      const { procCryptoText: _, ...rest } = options();
      const r = await discoverKernel(kernel(), { ...rest, procCryptoPath: path });
      assert.equal(r.procCrypto.available, false);
      assert.equal(r.procCrypto.path, path);
      assert.match(r.procCrypto.reason ?? '', /does not exist/);
      assert.equal(r.afalg.available, true, 'AF_ALG is still probed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists and classifies without binding when probeDrivers is false', async () => {
    const native = kernel();
    const r = await discoverKernel(native, options({ probeDrivers: false }));
    const typeProbes = native.calls;
    assert.ok(typeProbes <= 9, 'only the socket-type probes ran');
    assert.equal(r.afalg.asyncBindRefused, undefined);
    const virtio = find(r.drivers, 'virtio_crypto_aes_cbc');
    assert.equal(virtio.afalgType, 'skcipher');
    assert.equal(virtio.kind, 'hardware');
    assert.equal(virtio.reachable, false);
    assert.match(virtio.reason ?? '', /not probed/);
  });
});
