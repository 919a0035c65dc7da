import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASYNC_REFUSED_REASON, probeDriverBinding } from '../../../../src/kernel/discovery/afalg-binding.js';
import {
  type AfAlgNative,
  PROBE_NAMES,
  type AfAlgType,
  afalgTypeOf,
  probeAfAlgTypes,
} from '../../../../src/kernel/discovery/afalg-probe.js';
import { type ProcCryptoEntry, parseProcCrypto } from '../../../../src/kernel/discovery/proc-crypto.js';
import { readFixture } from '../../../support/package-root.js';

/** Linux x86_64 values, as the addon would report them. */
const LINUX: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  EACCES: 13,
  EBUSY: 16,
  EINVAL: 22,
  ENOPROTOOPT: 92,
  EAFNOSUPPORT: 97,
};
const ENTRIES = parseProcCrypto(readFixture('proc-crypto-6.1-qemu.txt'));
const NO_CONFIG = { modprobeFiles: [], cmdline: null, platform: 'linux' as const };

interface FakeKernel {
  /** socket(AF_ALG) errno; 0 = works. */
  socket?: number;
  /** Socket types whose algif module is missing. */
  missingTypes?: AfAlgType[];
  /** Linux ≥ 7.2: asynchronous drivers are skipped by every AF_ALG lookup. */
  refuseAsync?: boolean;
  /** Exact results by `${type} ${name}`, ahead of everything else. */
  results?: Record<string, number>;
  entries?: readonly ProcCryptoEntry[];
  errnos?: Record<string, number>;
}

/** A kernel that binds what its /proc/crypto lists, looked up by driver name or generic name. */
function fakeKernel(k: FakeKernel = {}): AfAlgNative & { binds: string[] } {
  const errnos = k.errnos ?? LINUX;
  const entries = k.entries ?? ENTRIES;
  const binds: string[] = [];
  const err = (name: string): number => errnos[name]!;
  return {
    binds,
    errnoTable: () => errnos,
    probeAfAlg: () => k.socket ?? 0,
    probeBind(type, name) {
      binds.push(`${type} ${name}`);
      if (k.socket) return k.socket;
      const exact = k.results?.[`${type} ${name}`];
      if (exact !== undefined) return exact;
      if (k.missingTypes?.includes(type as AfAlgType)) return err('ENOENT');
      // A real kernel instantiates these from templates on demand (synchronous ones, on 7.2).
      if (PROBE_NAMES[type as AfAlgType]?.includes(name)) return 0;
      const candidates = entries.filter(
        (e) =>
          afalgTypeOf(e.type).afalgType === type &&
          !e.internal &&
          (e.driver === name || e.name === name) &&
          !(k.refuseAsync && e.async === true),
      );
      return candidates.length > 0 ? 0 : err('ENOENT');
    },
  };
}

describe('afalgTypeOf', () => {
  it('maps kernel types onto AF_ALG socket types', () => {
    const cases: [string, AfAlgType | null][] = [
      ['skcipher', 'skcipher'],
      ['lskcipher', 'skcipher'],
      ['ablkcipher', 'skcipher'],
      ['blkcipher', 'skcipher'],
      ['aead', 'aead'],
      ['shash', 'hash'],
      ['ahash', 'hash'],
      ['rng', 'rng'],
      ['akcipher', null],
      ['sig', null],
      ['kpp', null],
      ['scomp', null],
      ['acomp', null],
      ['compression', null],
      ['cipher', null],
      ['larval', null],
      ['something-new', null],
    ];
    for (const [kernel, afalg] of cases) {
      const m = afalgTypeOf(kernel);
      assert.equal(m.afalgType, afalg, kernel);
      if (m.afalgType === null) assert.ok(m.reason.length > 0, kernel);
    }
    const rsa = afalgTypeOf('akcipher');
    assert.match(rsa.reason ?? '', /never merged/);
  });
});

describe('probeAfAlgTypes', () => {
  it('reports every type available on a full kernel', async () => {
    const s = await probeAfAlgTypes(fakeKernel(), NO_CONFIG);
    assert.equal(s.available, true);
    assert.equal(s.reason, undefined);
    for (const t of ['hash', 'skcipher', 'aead', 'rng'] as const) {
      assert.equal(s.types[t].available, true, t);
      assert.equal(s.types[t].reason, undefined, t);
    }
    assert.equal(s.types.hash.boundName, 'sha256');
    assert.equal(s.types.rng.boundName, 'stdrng');
  });

  it('falls back to a second name when only the algorithm is missing', async () => {
    const s = await probeAfAlgTypes(
      fakeKernel({ results: { 'hash sha256': LINUX['ENOENT']!, 'aead gcm(aes)': LINUX['ENOENT']! } }),
      NO_CONFIG,
    );
    assert.equal(s.types.hash.available, true);
    assert.equal(s.types.hash.boundName, 'sha1');
    assert.equal(s.types.aead.available, true);
    assert.equal(s.types.aead.boundName, 'ccm(aes)');
    assert.deepEqual(
      s.types.hash.attempts.map((a) => a.code),
      ['ENOENT', 'OK'],
    );
  });

  it('explains EAFNOSUPPORT from socket()', async () => {
    const s = await probeAfAlgTypes(fakeKernel({ socket: LINUX['EAFNOSUPPORT']! }), NO_CONFIG);
    assert.equal(s.available, false);
    assert.equal(s.code, 'EAFNOSUPPORT');
    assert.equal(s.errno, 97);
    assert.match(s.reason ?? '', /CONFIG_CRYPTO_USER_API \(AF_ALG\) or af_alg module not loadable/);
    for (const t of Object.values(s.types)) {
      assert.equal(t.available, false);
      assert.match(t.reason ?? '', /AF_ALG unavailable/);
    }
  });

  it('names a blacklisted af_alg', async () => {
    const s = await probeAfAlgTypes(fakeKernel({ socket: 97 }), {
      ...NO_CONFIG,
      modprobeFiles: [{ path: '/etc/modprobe.d/no-afalg.conf', text: '# no AF_ALG here\nalias net-pf-38 off\n' }],
    });
    assert.match(s.reason ?? '', /no-afalg\.conf:2/);
    assert.equal(s.blocks?.[0]?.kind, 'alias-off');
  });

  it('reports EPERM and EACCES as denied', async () => {
    const s = await probeAfAlgTypes(fakeKernel({ socket: LINUX['EPERM']! }), NO_CONFIG);
    assert.match(s.reason ?? '', /denied \(seccomp\/LSM\/container\)/);
    const b = await probeAfAlgTypes(fakeKernel({ results: { 'rng stdrng': 13, 'rng jitterentropy_rng': 13 } }), NO_CONFIG);
    assert.equal(b.available, true);
    assert.equal(b.types.rng.available, false);
    assert.equal(b.types.rng.code, 'EACCES');
    assert.match(b.types.rng.reason ?? '', /denied \(seccomp\/LSM\/container\)/);
  });

  it('says which line blacklists algif_aead', async () => {
    const s = await probeAfAlgTypes(fakeKernel({ missingTypes: ['aead'] }), {
      ...NO_CONFIG,
      modprobeFiles: [
        { path: '/etc/modprobe.d/other.conf', text: 'blacklist pcspkr\n' },
        { path: '/etc/modprobe.d/copy-fail.conf', text: '# CVE-2026-31431\n\nblacklist algif_aead\n' },
      ],
    });
    assert.equal(s.available, true);
    assert.equal(s.types.hash.available, true);
    const aead = s.types.aead;
    assert.equal(aead.available, false);
    assert.equal(aead.code, 'ENOENT');
    assert.match(aead.reason ?? '', /algif_aead module missing or blacklisted/);
    assert.match(aead.reason ?? '', /blacklist algif_aead/);
    assert.match(aead.reason ?? '', /copy-fail\.conf:3/);
    assert.equal(aead.attempts.length, 3, 'every aead probe name tried');
  });

  it('recognises install overrides and the kernel command line', async () => {
    const install = await probeAfAlgTypes(fakeKernel({ missingTypes: ['aead'] }), {
      ...NO_CONFIG,
      modprobeFiles: [{ path: '/lib/modprobe.d/x.conf', text: 'install algif-aead /bin/false\n' }],
    });
    assert.match(install.types.aead.reason ?? '', /install override/);
    assert.match(install.types.aead.reason ?? '', /\/bin\/false/);
    const cmdline = await probeAfAlgTypes(fakeKernel({ missingTypes: ['aead', 'skcipher'] }), {
      ...NO_CONFIG,
      cmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/vda module_blacklist=foo,algif_aead quiet\n',
    });
    assert.match(cmdline.types.aead.reason ?? '', /module_blacklist=foo,algif_aead/);
    assert.doesNotMatch(cmdline.types.skcipher.reason ?? '', /module_blacklist/);
  });

  it('points at the kernel config when nothing blacklists a missing type', async () => {
    const s = await probeAfAlgTypes(fakeKernel({ missingTypes: ['rng'] }), NO_CONFIG);
    assert.equal(s.types.rng.available, false);
    assert.match(s.types.rng.reason ?? '', /algif_rng module missing or blacklisted/);
    assert.match(s.types.rng.reason ?? '', /CONFIG_CRYPTO_USER_API_RNG/);
  });

  it('takes errno numbers from the addon, not from Linux', async () => {
    // A table where nothing has its Linux number: the probe must still recognise the names.
    const odd = { ENOENT: 502, EPERM: 501, EACCES: 513, EINVAL: 522, EAFNOSUPPORT: 547 };
    const s = await probeAfAlgTypes(fakeKernel({ socket: 547, errnos: odd }), NO_CONFIG);
    assert.equal(s.code, 'EAFNOSUPPORT');
    assert.match(s.reason ?? '', /CONFIG_CRYPTO_USER_API/);
    const t = await probeAfAlgTypes(fakeKernel({ errnos: odd, missingTypes: ['hash'] }), NO_CONFIG);
    assert.equal(t.types.hash.code, 'ENOENT');
    assert.match(t.types.hash.reason ?? '', /algif_hash module missing/);
    // A Linux errno the table does not know is shown by number.
    const u = await probeAfAlgTypes(fakeKernel({ socket: 97, errnos: odd }), NO_CONFIG);
    assert.equal(u.code, 'errno 97');
  });

  it('never throws: no addon, another platform, a throwing addon', async () => {
    const none = await probeAfAlgTypes(null, NO_CONFIG);
    assert.equal(none.available, false);
    assert.match(none.reason ?? '', /native addon not loaded/);
    const bsd = await probeAfAlgTypes(fakeKernel(), { ...NO_CONFIG, platform: 'freebsd' });
    assert.match(bsd.reason ?? '', /Linux interface/);
    const broken: AfAlgNative = {
      errnoTable: () => {
        throw new Error('no table');
      },
      probeAfAlg: () => {
        throw new Error('probeAfAlg is not a function');
      },
      probeBind: () => 0,
    };
    const b = await probeAfAlgTypes(broken, NO_CONFIG);
    assert.equal(b.available, false);
    assert.match(b.reason ?? '', /probeAfAlg is not a function/);
  });
});

describe('probeDriverBinding', () => {
  const byDriver = (r: ReturnType<typeof probeDriverBinding>, driver: string) => {
    const b = r.bindings.find((x) => x.entry.driver === driver);
    assert.ok(b, `${driver} in report`);
    return b;
  };

  it('reaches hardware drivers by name on a kernel that allows it (6.1)', () => {
    const r = probeDriverBinding(fakeKernel(), ENTRIES);
    assert.equal(r.bindings.length, ENTRIES.length);
    const virtio = byDriver(r, 'virtio_crypto_aes_cbc');
    assert.equal(virtio.afalgType, 'skcipher');
    assert.equal(virtio.probed, true);
    assert.equal(virtio.reachable, true);
    assert.equal(virtio.reason, undefined);
    assert.equal(r.asyncBindRefused, false);
    // Every user-reachable driver with an AF_ALG type was tried; nothing else was.
    for (const b of r.bindings) {
      const shouldProbe = b.afalgType !== null && !b.entry.internal;
      assert.equal(b.probed, shouldProbe, b.entry.driver);
      if (!b.reachable) assert.ok((b.reason ?? '').length > 0, b.entry.driver);
    }
  });

  it('says why akcipher, kpp, compression and internal drivers are not reachable', () => {
    const r = probeDriverBinding(fakeKernel(), ENTRIES);
    const rsa = byDriver(r, 'virtio-crypto-rsa');
    assert.equal(rsa.afalgType, null);
    assert.equal(rsa.reachable, false);
    assert.match(rsa.reason ?? '', /akcipher/);
    const inner = r.bindings.find((b) => b.entry.internal);
    assert.ok(inner);
    assert.equal(inner.probed, false);
    assert.match(inner.reason ?? '', /internal/);
    for (const b of r.bindings.filter((x) => ['kpp', 'scomp', 'compression', 'cipher'].includes(x.entry.type))) {
      assert.equal(b.reachable, false);
      assert.equal(b.probed, false);
    }
  });

  it('detects a kernel that refuses asynchronous drivers (7.2), by probing', () => {
    const native = fakeKernel({ refuseAsync: true });
    const r = probeDriverBinding(native, ENTRIES);
    assert.equal(r.asyncBindRefused, true);
    assert.match(r.asyncBindReason ?? '', /virtio_crypto_aes_cbc/);
    const virtio = byDriver(r, 'virtio_crypto_aes_cbc');
    assert.equal(virtio.reachable, false);
    assert.equal(virtio.asyncRefused, true);
    assert.equal(virtio.code, 'ENOENT');
    assert.ok(virtio.reason?.startsWith(ASYNC_REFUSED_REASON));
    // The synchronous siblings still bind and are not blamed.
    const generic = byDriver(r, 'cbc(aes-generic)');
    assert.equal(generic.reachable, true);
    assert.equal(generic.asyncRefused, undefined);
    for (const b of r.bindings.filter((x) => x.asyncRefused)) assert.equal(b.entry.async, true);
  });

  it('accepts EINVAL as the refusal too', () => {
    const asyncDrivers = ENTRIES.filter((e) => e.async === true && !e.internal);
    const results: Record<string, number> = {};
    for (const e of asyncDrivers) results[`${afalgTypeOf(e.type).afalgType} ${e.driver}`] = LINUX['EINVAL']!;
    const r = probeDriverBinding(fakeKernel({ results }), ENTRIES);
    assert.equal(r.asyncBindRefused, true);
    assert.equal(byDriver(r, 'virtio_crypto_aes_cbc').code, 'EINVAL');
  });

  it('makes no claim without a synchronous sibling that binds', () => {
    const only = ENTRIES.filter((e) => e.driver === 'virtio_crypto_aes_cbc');
    const r = probeDriverBinding(fakeKernel({ refuseAsync: true, entries: only }), only);
    assert.equal(r.asyncBindRefused, undefined);
    assert.equal(r.bindings[0]?.reachable, false);
    assert.equal(r.bindings[0]?.asyncRefused, undefined);
    assert.match(r.bindings[0]?.reason ?? '', /ENOENT/);
  });

  it('does not probe drivers of an unavailable socket type, and gives its reason', async () => {
    const native = fakeKernel({ missingTypes: ['aead'] });
    const afalg = await probeAfAlgTypes(native, {
      ...NO_CONFIG,
      modprobeFiles: [{ path: '/etc/modprobe.d/cf.conf', text: 'blacklist algif_aead\n' }],
    });
    native.binds.length = 0;
    const r = probeDriverBinding(native, ENTRIES, { afalg });
    const gcm = byDriver(r, 'generic-gcm-aesni');
    assert.equal(gcm.probed, false);
    assert.equal(gcm.reachable, false);
    assert.match(gcm.reason ?? '', /AF_ALG aead sockets unavailable/);
    assert.match(gcm.reason ?? '', /cf\.conf:1/);
    assert.ok(!native.binds.some((b) => b.startsWith('aead ')));
    assert.equal(byDriver(r, 'virtio_crypto_aes_cbc').reachable, true);
  });

  it('reports every driver unreachable when AF_ALG itself is missing', () => {
    const native = fakeKernel({ socket: 97 });
    const r = probeDriverBinding(native, ENTRIES);
    assert.equal(native.binds.length, 0);
    for (const b of r.bindings) {
      assert.equal(b.reachable, false);
      assert.ok((b.reason ?? '').length > 0);
    }
    assert.match(byDriver(r, 'virtio_crypto_aes_cbc').reason ?? '', /AF_ALG unavailable: socket\(AF_ALG\) failed with EAFNOSUPPORT/);
    const none = probeDriverBinding(null, ENTRIES);
    assert.match(none.bindings.find((b) => b.afalgType !== null && !b.entry.internal)?.reason ?? '', /native addon/);
  });

  it('binds each driver name once and skips names too long for sockaddr_alg', () => {
    const virtio = ENTRIES.find((e) => e.driver === 'virtio_crypto_aes_cbc');
    assert.ok(virtio);
    const long = { ...virtio, driver: `cbc(${'x'.repeat(70)})` };
    const native = fakeKernel();
    const r = probeDriverBinding(native, [virtio, virtio, long]);
    assert.deepEqual(native.binds, ['skcipher virtio_crypto_aes_cbc']);
    assert.equal(r.bindings[1]?.reachable, true);
    assert.equal(r.bindings[2]?.probed, false);
    assert.match(r.bindings[2]?.reason ?? '', /longer than 63 bytes/);
  });
});
