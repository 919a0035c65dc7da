import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { afalgTypeOf, type AfAlgType } from '../../../../src/kernel/discovery/afalg-probe.js';
import { kernelChoice, probeGenericNames, type GenericNative } from '../../../../src/kernel/discovery/afalg-generic.js';
import {
  admits,
  AF_ALG_ALLOWLIST,
  readAfAlgPrivilege,
  readAfAlgRestriction,
  restrictionReason,
  type AfAlgRestriction,
} from '../../../../src/kernel/discovery/afalg-restrict.js';
import { discoverKernel, type KernelDriver } from '../../../../src/kernel/discovery/discover.js';
import { parseProcCrypto } from '../../../../src/kernel/discovery/proc-crypto.js';
import { readFixture } from '../../../support/package-root.js';

const LINUX: Record<string, number> = { EPERM: 1, ENOENT: 2, EACCES: 13, EINVAL: 22, EAFNOSUPPORT: 97 };
const ENOENT = 2;
const EAFNOSUPPORT = 97;

/**
 * The 6.1 guest's /proc/crypto made to look like 7.x's: the x86 SIMD wrappers are gone (their
 * drivers are synchronous), so only the virtio card's driver is asynchronous.
 */
const TEXT = readFixture('proc-crypto-6.1-qemu.txt')
  .split('\n\n')
  .map((block) => (/driver\s+:\s+virtio/.test(block) ? block : block.replace(/^async(\s+):\s+yes$/m, 'async$1: no')))
  .join('\n\n');
const ENTRIES = parseProcCrypto(TEXT);

const ROOT = { privileged: true, reason: 'this process has CAP_SYS_ADMIN' };
const NOBODY = { privileged: false, reason: 'this process has neither CAP_SYS_ADMIN nor CAP_NET_ADMIN' };

function restriction(value: number | null, privileged = true): AfAlgRestriction {
  return { value, privilege: privileged ? ROOT : NOBODY };
}

/**
 * A 7.3 kernel: asynchronous drivers never bind (7.2), and with af_alg_restrict=1 only names on
 * the allowlist for this process do (2: no AF_ALG at all). Bound generic names reach the
 * highest-priority synchronous implementation, whose refcnt the snapshot shows one higher.
 */
function kernel73(value: 0 | 1 | 2, privileged: boolean): GenericNative & { binds: string[] } {
  const allowed = (type: string, name: string): boolean => {
    if (value === 0) return true;
    const entry = AF_ALG_ALLOWLIST[type as AfAlgType][name];
    return entry === 'anyone' || (entry === 'privileged' && privileged);
  };
  const chosen = (type: string, name: string): { driver: string } | undefined =>
    ENTRIES.filter(
      (e) => afalgTypeOf(e.type).afalgType === type && !e.internal && e.async !== true && (e.name === name || e.driver === name),
    ).sort((a, b) => b.priority - a.priority)[0];
  const bind = (type: string, name: string): number => {
    if (value === 2) return EAFNOSUPPORT;
    if (!allowed(type, name)) return ENOENT;
    // Probe names such as ecb(aes) are instantiated from templates on a real kernel.
    if (name === 'ecb(aes)' || name === 'xts(aes)' || name === 'sha1' || name === 'ccm(aes)') return 0;
    return chosen(type, name) ? 0 : ENOENT;
  };
  const fake = {
    binds: [] as string[],
    errnoTable: () => LINUX,
    probeAfAlg: () => (value === 2 ? EAFNOSUPPORT : 0),
    probeBind(type: string, name: string): number {
      fake.binds.push(name);
      return bind(type, name);
    },
    probeBindSnapshot(type: string, name: string): { errno: number; text?: string } {
      fake.binds.push(name);
      const errno = bind(type, name);
      if (errno !== 0) return { errno };
      const c = chosen(type, name);
      const text = TEXT.split('\n\n')
        .map((block) =>
          c && block.includes(`\ndriver       : ${c.driver}\n`)
            ? block.replace(/^refcnt(\s+):\s+(\d+)$/m, (_m, sp: string, n: string) => `refcnt${sp}: ${Number(n) + 1}`)
            : block,
        )
        .join('\n\n');
      return { errno: 0, text };
    },
  };
  return fake;
}

const GENERIC: { name: string; afalgType: AfAlgType }[] = [
  { name: 'gcm(aes)', afalgType: 'aead' },
  { name: 'ccm(aes)', afalgType: 'aead' },
  { name: 'hmac(sha256)', afalgType: 'hash' },
  { name: 'sha1', afalgType: 'hash' },
  { name: 'xts(aes)', afalgType: 'skcipher' },
];

async function discover(value: 0 | 1 | 2, privileged: boolean): Promise<Awaited<ReturnType<typeof discoverKernel>>> {
  return discoverKernel(kernel73(value, privileged), {
    procCryptoText: TEXT,
    modprobeFiles: [],
    cmdline: null,
    platform: 'linux',
    restriction: restriction(value, privileged),
    genericNames: GENERIC,
  });
}

function find(drivers: KernelDriver[], driver: string): KernelDriver {
  const d = drivers.find((x) => x.driver === driver);
  assert.ok(d, `${driver} discovered`);
  return d;
}

describe('af_alg_restrict: the sysctl and the privilege it checks', () => {
  it('reads CAP_SYS_ADMIN, and CAP_NET_ADMIN only in the initial user namespace', () => {
    const status = (capEff: string): string => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;
    const initial = '         0          0 4294967295\n';
    assert.equal(readAfAlgPrivilege(status('000001ffffffffff'), initial).privileged, true);
    assert.equal(readAfAlgPrivilege(status('0000000000200000'), '0 1000 1\n').privileged, true, 'CAP_SYS_ADMIN counts in any namespace');
    assert.equal(readAfAlgPrivilege(status('0000000000001000'), initial).privileged, true);
    const userNs = readAfAlgPrivilege(status('0000000000001000'), '0 1000 1\n');
    assert.equal(userNs.privileged, false);
    assert.match(userNs.reason, /not in the initial user namespace/);
    assert.equal(readAfAlgPrivilege(status('0000000000000000'), initial).privileged, false);
    assert.equal(readAfAlgPrivilege(null, null).privileged, false);
  });

  it('reads the sysctl, or says the kernel has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-restrict-'));
    try {
      const f = join(dir, 'af_alg_restrict');
      writeFileSync(f, '1\n');
      assert.equal(readAfAlgRestriction(f, ROOT).value, 1);
      writeFileSync(f, 'x\n');
      assert.equal(readAfAlgRestriction(f, ROOT).value, null);
      const none = readAfAlgRestriction(join(dir, 'missing'), ROOT);
      assert.equal(none.value, null);
      assert.match(none.reason ?? '', /does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains each refusal: off the list, privileged only, driver names, disabled', () => {
    const root = restriction(1, true);
    const nobody = restriction(1, false);
    assert.equal(restrictionReason(root, 'skcipher', 'cbc(aes)'), null, 'root may bind cbc(aes)');
    assert.match(restrictionReason(nobody, 'skcipher', 'cbc(aes)') ?? '', /on the allowlist only for privileged processes/);
    assert.equal(restrictionReason(nobody, 'skcipher', 'xts(aes)'), null);
    assert.match(restrictionReason(root, 'aead', 'gcm(aes)') ?? '', /refused by crypto\.af_alg_restrict=1: not on the allowlist/);
    assert.match(restrictionReason(root, 'skcipher', 'cbc-aes-aesni', true) ?? '', /no driver name is/);
    assert.match(restrictionReason(restriction(2), 'hash', 'sha1') ?? '', /AF_ALG disabled by crypto\.af_alg_restrict=2/);
    assert.equal(restrictionReason(restriction(0), 'aead', 'gcm(aes)'), null);
    assert.equal(restrictionReason(restriction(null), 'aead', 'gcm(aes)'), null);
    assert.equal(admits(nobody, 'hash', 'sha1'), true);
    assert.equal(admits(nobody, 'hash', 'sha256'), false);
    assert.equal(admits(root, 'rng', 'stdrng'), false, 'no RNG is on any list');
  });
});

describe('generic names', () => {
  it('names the driver whose reference count rose while bound', () => {
    const native = kernel73(1, true);
    const [cbc, gcm] = probeGenericNames(
      native,
      [
        { name: 'cbc(aes)', afalgType: 'skcipher' },
        { name: 'gcm(aes)', afalgType: 'aead' },
      ],
      {
        restriction: restriction(1, true),
        asyncRefused: true,
        errnoName: (n) => (n === ENOENT ? 'ENOENT' : `errno ${n}`),
        procCryptoPath: '/proc/crypto',
        readProcCrypto: () => TEXT,
      },
    );
    assert.deepEqual(cbc, { name: 'cbc(aes)', afalgType: 'skcipher', bound: true, reached: 'cbc-aes-aesni', reachedBy: 'observed' });
    assert.equal(gcm?.bound, false);
    assert.equal(gcm?.code, 'ENOENT');
    assert.match(gcm?.reason ?? '', /not on the allowlist/);
  });

  it('falls back to the kernel’s rule (priority, synchronous, tested) where nothing can be observed', () => {
    const native = kernel73(1, true);
    delete (native as Partial<GenericNative>).probeBindSnapshot;
    const [cbc] = probeGenericNames(native, [{ name: 'cbc(aes)', afalgType: 'skcipher' }], {
      asyncRefused: true,
      errnoName: String,
      procCryptoPath: '/proc/crypto',
      readProcCrypto: () => TEXT,
    });
    assert.equal(cbc?.reached, 'cbc-aes-aesni');
    assert.equal(cbc?.reachedBy, 'priority');
    // With asynchronous drivers allowed (6.x) a higher-priority asynchronous driver would win.
    const fast = ENTRIES.map((e) => (e.driver === 'virtio_crypto_aes_cbc' ? { ...e, priority: 9999 } : e));
    assert.equal(kernelChoice(fast, 'cbc(aes)', false)?.driver, 'virtio_crypto_aes_cbc');
    assert.equal(kernelChoice(fast, 'cbc(aes)', true)?.driver, 'cbc-aes-aesni');
  });
});

describe('discoverKernel on a 7.3 kernel', () => {
  it('af_alg_restrict=1 as root: generic names reach CPU drivers, every refusal explained', async () => {
    const r = await discover(1, true);
    assert.equal(r.afalg.available, true);
    assert.equal(r.afalg.restriction?.value, 1);
    assert.equal(r.afalg.types.skcipher.available, true);
    assert.equal(r.afalg.types.aead.available, true, 'ccm(aes) binds for root');
    assert.equal(r.afalg.types.rng.available, false);
    assert.equal(r.afalg.types.rng.restricted, true);
    assert.match(r.afalg.types.rng.reason ?? '', /refused by crypto\.af_alg_restrict=1/);

    const aesni = find(r.drivers, 'cbc-aes-aesni');
    assert.equal(aesni.reachable, true);
    assert.equal(aesni.bindName, 'cbc(aes)');
    assert.equal(aesni.reachedBy, 'observed');
    const sha256 = find(r.drivers, 'sha256-avx2');
    assert.equal(sha256.reachable, true);
    assert.equal(sha256.bindName, 'sha256');

    // The lower-priority implementations of the same names stay unreachable, and say why.
    const generic = find(r.drivers, 'cbc(aes-generic)');
    assert.equal(generic.reachable, false);
    assert.match(
      generic.reason ?? '',
      /not on the allowlist \(no driver name is\); its generic name cbc\(aes\) reaches cbc-aes-aesni instead/,
    );

    const virtio = find(r.drivers, 'virtio_crypto_aes_cbc');
    assert.equal(virtio.reachable, false);
    assert.equal(virtio.asyncRefused, true);
    assert.match(virtio.reason ?? '', /crypto\.af_alg_restrict=1/);
    assert.match(virtio.reason ?? '', /since 7\.2: use \/dev\/crypto \(cryptodev-linux\)/);
    assert.equal(r.afalg.asyncBindRefused, true);
    assert.match(r.afalg.asyncBindReason ?? '', /implied/);

    const gcm = r.afalg.generic.find((g) => g.name === 'gcm(aes)');
    assert.equal(gcm?.bound, false);
    assert.match(gcm?.reason ?? '', /not on the allowlist/);
    const chacha = find(r.drivers, 'rfc7539(chacha20-simd,poly1305-simd)');
    assert.equal(chacha.reachable, false);
    assert.match(
      chacha.reason ?? '',
      /its generic name rfc7539\(chacha20,poly1305\): refused by crypto\.af_alg_restrict=1: not on the allowlist/,
    );
    for (const d of r.drivers) if (!d.reachable) assert.ok((d.reason ?? '').length > 0, `${d.driver} has a reason`);
  });

  it('af_alg_restrict=1 without capabilities: the unprivileged list only', async () => {
    const r = await discover(1, false);
    assert.equal(r.afalg.types.hash.available, true, 'sha1 is for anyone');
    assert.equal(r.afalg.types.skcipher.available, true, 'xts(aes) is for anyone');
    assert.equal(r.afalg.types.aead.available, false);
    assert.match(
      r.afalg.types.aead.reason ?? '',
      /ccm\(aes\): refused by crypto\.af_alg_restrict=1: on the allowlist only for privileged processes/,
    );
    const reachable = r.drivers.filter((d) => d.reachable).map((d) => d.bindName);
    assert.deepEqual([...new Set(reachable)].sort(), ['sha1', 'xts(aes)']);
    const cbc = r.afalg.generic.find((g) => g.name === 'cbc(aes)');
    assert.match(cbc?.reason ?? '', /only for privileged processes/);
  });

  it('af_alg_restrict=0: synchronous driver names bind, asynchronous drivers are refused as seen', async () => {
    const r = await discover(0, true);
    assert.equal(find(r.drivers, 'cbc-aes-aesni').bindName, 'cbc-aes-aesni');
    assert.equal(find(r.drivers, 'cbc(aes-generic)').reachable, true);
    const virtio = find(r.drivers, 'virtio_crypto_aes_cbc');
    assert.equal(virtio.reachable, false);
    assert.match(virtio.reason ?? '', /^asynchronous drivers are refused through AF_ALG since 7\.2: use \/dev\/crypto/);
    assert.equal(r.afalg.asyncBindRefused, true);
    assert.doesNotMatch(r.afalg.asyncBindReason ?? '', /implied/);
  });

  it('af_alg_restrict=2: AF_ALG disabled, and said so', async () => {
    const r = await discover(2, true);
    assert.equal(r.afalg.available, false);
    assert.match(r.afalg.reason ?? '', /AF_ALG disabled by crypto\.af_alg_restrict=2/);
    assert.equal(r.afalg.generic.length, 0);
  });
});
