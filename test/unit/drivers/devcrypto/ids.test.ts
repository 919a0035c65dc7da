// The /dev/crypto TypeScript layer: crypto(9) algorithms reach each ABI under that ABI's own
// number (the numberings diverge: FreeBSD, NetBSD and cryptodev-linux each number from their own cryptodev.h), the tables agree
// with the headers the addon was compiled from, and failures arrive as typed KCryptoErrors.
// No test here needs a /dev/crypto device.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { KCryptoError } from '../../../../src/errors.js';
import * as C from '../../../../src/framework/constants.js';
import { loadAddon } from '../../../../src/kernel/bridge/addon.js';
import { devCryptoCridValue, openDevCryptoSession } from '../../../../src/drivers/devcrypto/sessions.js';
import { DEVCRYPTO_ALGORITHMS, devCryptoAlgorithmId, requireDevCryptoAlgorithm } from '../../../../src/drivers/devcrypto/ids.js';
import {
  DEVCRYPTO_ABIS,
  DEVCRYPTO_NUMBERING,
  devCryptoInfo,
  devCryptoRunBatch,
  nativeDevCryptoAbi,
  type DevCryptoSession,
} from '../../../../src/kernel/bridge/devcrypto.js';
import { errnoOf } from '../../../../src/errno.js';

describe('algorithm ids per ABI', () => {
  it('keeps the traps: ids that mean different algorithms on different systems', () => {
    // CTR: cryptodev-linux AES_CTR 21 (FreeBSD's 21 is CAMELLIA_CBC), FreeBSD AES_ICM 23.
    assert.equal(devCryptoAlgorithmId('cryptodev-linux', C.CRYPTO_AES_ICM), 21);
    assert.equal(devCryptoAlgorithmId('freebsd', C.CRYPTO_AES_ICM), 23);
    assert.equal(devCryptoAlgorithmId('cryptodev-linux', C.CRYPTO_CAMELLIA_CBC), 101);
    assert.equal(devCryptoAlgorithmId('freebsd', C.CRYPTO_CAMELLIA_CBC), 21);
    assert.equal(devCryptoAlgorithmId('netbsd', C.CRYPTO_CAMELLIA_CBC), 26);
    // GCM: 50 / 25 / 29; SHA-256: 104 / 35 / none; HMAC-SHA-256: 18 / 18 / 15.
    assert.deepEqual(
      DEVCRYPTO_ABIS.map((abi) => devCryptoAlgorithmId(abi, C.CRYPTO_AES_NIST_GCM_16)),
      [50, 25, 29],
    );
    assert.deepEqual(
      DEVCRYPTO_ABIS.map((abi) => devCryptoAlgorithmId(abi, C.CRYPTO_SHA2_256)),
      [104, 35, undefined],
    );
    assert.deepEqual(
      DEVCRYPTO_ABIS.map((abi) => devCryptoAlgorithmId(abi, C.CRYPTO_SHA2_256_HMAC)),
      [18, 18, 15],
    );
    // NULL: FreeBSD NULL_HMAC 15 / NULL_CBC 16; NetBSD 16 / 17.
    assert.equal(devCryptoAlgorithmId('netbsd', C.CRYPTO_NULL_HMAC), 16);
    assert.equal(devCryptoAlgorithmId('netbsd', C.CRYPTO_NULL_CBC), 17);
  });

  it('every mapped id is one its ABI header defines, under the matching name family', () => {
    for (const alg of DEVCRYPTO_ALGORITHMS) {
      for (const abi of DEVCRYPTO_ABIS) {
        const id = alg.ids[abi];
        if (id === undefined) continue;
        assert.ok(Object.values(DEVCRYPTO_NUMBERING[abi]).includes(id), `${alg.name} -> ${abi} ${id} is not in the ${abi} numbering`);
      }
      // On FreeBSD the framework's number is the system's own.
      if (alg.ids.freebsd !== undefined) assert.equal(alg.ids.freebsd, alg.crypto9, alg.name);
    }
  });

  it('an ABI without the algorithm is EOPNOTSUPP, refused before any system call', () => {
    assert.throws(
      () => requireDevCryptoAlgorithm('netbsd', C.CRYPTO_AES_XTS),
      (e: unknown) =>
        e instanceof KCryptoError && e.code === 'EOPNOTSUPP' && e.syscall === 'validate' && e.message.includes('CRYPTO_AES_XTS'),
    );
    assert.throws(
      () => requireDevCryptoAlgorithm('cryptodev-linux', C.CRYPTO_CHACHA20_POLY1305),
      (e: unknown) => e instanceof KCryptoError && e.code === 'EOPNOTSUPP',
    );
    assert.equal(requireDevCryptoAlgorithm('freebsd', C.CRYPTO_CHACHA20_POLY1305), 41);
  });

  it('FreeBSD crid choices are the CRYPTO_FLAG bits', () => {
    assert.equal(devCryptoCridValue('hardware'), 0x01000000);
    assert.equal(devCryptoCridValue('software'), 0x02000000);
    assert.equal(devCryptoCridValue('any'), 0x03000000);
    assert.equal(devCryptoCridValue(3), 3);
  });

  it('the ABI of each system', () => {
    assert.equal(nativeDevCryptoAbi('linux'), 'cryptodev-linux');
    assert.equal(nativeDevCryptoAbi('freebsd'), 'freebsd');
    assert.equal(nativeDevCryptoAbi('netbsd'), 'netbsd');
    assert.equal(nativeDevCryptoAbi('openbsd'), null);
    assert.equal(nativeDevCryptoAbi('darwin'), null);
  });
});

const { addon } = loadAddon();
const noEngine = addon?.openDevCrypto ? false : 'addon without the /dev/crypto engine';

describe('tables against the compiled headers', { skip: noEngine }, () => {
  for (const abi of DEVCRYPTO_ABIS) {
    it(`${abi}: the TypeScript numbering is the header's`, (t) => {
      const table = addon!.devCryptoAbiTable!(abi);
      if (!table) return t.skip(`${abi} not compiled into this build`);
      assert.deepEqual({ ...table.algorithms }, { ...DEVCRYPTO_NUMBERING[abi] });
    });
  }
});

describe('typed failures without a device', { skip: noEngine }, () => {
  const missing = join(tmpdir(), 'kcrypto-no-such-device', 'crypto');
  const abis = addon?.devCryptoAbis?.() ?? [];

  for (const abi of abis) {
    it(`${abi}: a missing device node is ENOENT from open`, () => {
      assert.throws(
        () => openDevCryptoSession({ path: missing, abi, mode: 'cipher', cipher: C.CRYPTO_AES_CBC, key: new Uint8Array(16) }),
        (e: unknown) => e instanceof KCryptoError && e.code === 'ENOENT' && e.syscall === 'open' && e.driver.startsWith(`devcrypto:${abi}`),
      );
      const probe = devCryptoInfo({ path: missing, abi });
      assert.equal(probe.compiled, true);
      assert.equal(probe.open, errnoOf('ENOENT'));
      assert.equal(probe.async, null);
    });

    it(`${abi}: a device that is not /dev/crypto fails in the session ioctl`, () => {
      // /dev/null opens, so the session request reaches the kernel and is refused there.
      assert.throws(
        () =>
          openDevCryptoSession({
            path: '/dev/null',
            abi,
            mode: 'digest',
            mac: C.CRYPTO_SHA1_HMAC,
            key: null,
            macKey: new Uint8Array(20),
            digestLength: 20,
          }),
        (e: unknown) => e instanceof KCryptoError && e.code === 'ENOTTY' && e.syscall === 'ioctl',
      );
    });
  }

  it(
    'an unreadable device node is EACCES',
    { skip: process.getuid?.() === 0 ? 'running as root: permissions do not apply' : false },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'kcrypto-devcrypto-'));
      try {
        const node = join(dir, 'crypto');
        writeFileSync(node, '');
        chmodSync(node, 0o000);
        assert.throws(
          () => openDevCryptoSession({ path: node, abi: 'freebsd', mode: 'cipher', cipher: C.CRYPTO_AES_CBC, key: new Uint8Array(16) }),
          (e: unknown) => e instanceof KCryptoError && e.code === 'EACCES' && e.syscall === 'open',
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('a mode the ABI cannot do is refused before the device is opened', () => {
    // Encrypt-then-authenticate with AAD exists only on FreeBSD (CIOCCRYPTAEAD on a cipher+MAC session).
    for (const abi of abis.filter((a) => a !== 'freebsd')) {
      assert.throws(
        () =>
          openDevCryptoSession({
            path: missing,
            abi,
            mode: 'eta',
            cipher: C.CRYPTO_AES_CBC,
            mac: C.CRYPTO_SHA1_HMAC,
            key: new Uint8Array(16),
            macKey: new Uint8Array(20),
            digestLength: 20,
          }),
        (e: unknown) => e instanceof KCryptoError && e.code === 'EOPNOTSUPP' && e.syscall === 'validate',
        abi,
      );
    }
    // A digest session needs its output length.
    assert.throws(
      () => openDevCryptoSession({ path: missing, abi: abis[0]!, mode: 'digest', mac: C.CRYPTO_SHA1_HMAC, macKey: new Uint8Array(20) }),
      (e: unknown) => e instanceof KCryptoError && e.code === 'EINVAL' && e.syscall === 'validate',
    );
  });

  it('a batch on something that is not an engine session is a TypeError', async () => {
    const fake = { native: {}, info: {}, driver: 'devcrypto:x' } as unknown as DevCryptoSession;
    await assert.rejects(devCryptoRunBatch(fake, []), TypeError);
  });

  it('the device path of a probe defaults to /dev/crypto', () => {
    const probe = devCryptoInfo({ abi: abis[0]! });
    assert.equal(probe.path, '/dev/crypto');
    assert.equal(typeof probe.open, 'number');
  });
});
