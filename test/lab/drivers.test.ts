// The driver inventory the rest of the lab suite runs on: the kernel's own pick for every
// algorithm, the generic template instances (which exist only once bound), and in the lab
// the virtio-crypto device driver, so that no driver can silently drop out of the suite.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { algorithmSupport, drivers, kernelReport, KCryptoError, openSession } from '../../src/index.js';
import {
  afAlgUnavailable,
  assertOpens,
  driverCases,
  IN_LAB,
  kernelListing,
  listedKernelDrivers,
  requiredGeneric,
} from '../support/drivers.js';
import { FAMILIES, family, randomKeys, specOf } from '../support/families.js';

const VIRTIO_CBC = 'virtio_crypto_aes_cbc';

const list = await kernelListing();
const report = await kernelReport();
const asyncRefused = report?.afalg.asyncBindRefused === true;
const support = await algorithmSupport();
const generics = new Map(await Promise.all(FAMILIES.map(async (f) => [f, await requiredGeneric(f)] as const)));
const noAfAlg = afAlgUnavailable(list);
const kernelOptions = noAfAlg === undefined ? {} : { skip: noAfAlg };

describe('driver listing', () => {
  it('lists the software driver, available', () => {
    const sw = list.find((d) => d.name === 'software');
    assert.ok(sw?.available, 'software driver missing or unavailable');
  });

  it('AF_ALG is usable inside the lab', IN_LAB ? {} : { skip: 'not inside kcrypto lab (KCRYPTO_LAB is not 1)' }, () => {
    assert.equal(noAfAlg, undefined, 'every kernel case of the suite would be skipped');
  });

  it('prints the drivers each algorithm is tested on', async (t) => {
    for (const f of FAMILIES) {
      const cases = await driverCases(f);
      t.diagnostic(`${f.kernelName}: ${cases.map((c) => `${c.label}${c.skip === undefined ? '' : ' (skipped)'}`).join(', ')}`);
    }
  });

  // The lab runner sets KCRYPTO_LAB=1 and attaches virtio-crypto cards (KCRYPTO_LAB_CARDS).
  const cards = process.env['KCRYPTO_LAB_CARDS'];
  const virtioSkip = !IN_LAB
    ? 'not inside kcrypto lab (KCRYPTO_LAB is not 1)'
    : cards === '0'
      ? 'the lab was started without virtio-crypto cards'
      : undefined;
  // Since 7.2 AF_ALG refuses asynchronous drivers (seen by binding, or implied where
  // af_alg_restrict=1 refuses every driver name): the card is listed, refused, and says why.
  it(
    `cbc(aes) includes the virtio-crypto device driver ${VIRTIO_CBC}, ${asyncRefused ? 'refused with the reason' : 'usable, as hardware'}`,
    virtioSkip === undefined ? {} : { skip: virtioSkip },
    async () => {
      const cbc = listedKernelDrivers(list, 'cbc(aes)');
      const virtio = cbc.find((d) => d.kernelDriver === VIRTIO_CBC);
      assert.ok(virtio, `no ${VIRTIO_CBC} among the cbc(aes) drivers: ${cbc.map((d) => d.name).join(', ')}`);
      if (asyncRefused) {
        assert.equal(virtio.available, false);
        assert.match(
          virtio.reason ?? '',
          /asynchronous drivers are refused through AF_ALG since 7\.2: use \/dev\/crypto \(cryptodev-linux\)/,
        );
        await assert.rejects(
          openSession({ cipher: 'aes-128-cbc', key: Buffer.alloc(16) }, { driver: VIRTIO_CBC }),
          (e: unknown) => e instanceof KCryptoError && e.code === 'ENOENT' && e.message.includes('since 7.2'),
        );
        return;
      }
      assert.equal(virtio.available, true, `${VIRTIO_CBC} unavailable: ${virtio.reason}`);
      assert.equal(virtio.kind, 'hardware', `${VIRTIO_CBC} classified ${virtio.kind}: ${virtio.kindReason}`);
      const cases = await driverCases(family('cbc(aes)'));
      assert.ok(
        cases.some((c) => c.label === `afalg:${VIRTIO_CBC}` && c.skip === undefined),
        'the conformance suites would not run on the device',
      );
    },
  );
});

describe("{ driver: 'kernel' }: the kernel's pick, listed once instantiated", () => {
  for (const f of FAMILIES) {
    // An algorithm the kernel's AF_ALG policy refuses (af_alg_restrict: its generic name, or its
    // whole socket type): the session is refused with that reason.
    const refused =
      noAfAlg === undefined
        ? support.find((a) => a.algorithm === f.kernelName && a.afalg === null && (a.afalgReason ?? '').includes('crypto.af_alg_restrict'))
        : undefined;
    if (refused) {
      it(`${f.kernelName}: refused (${refused.afalgReason ?? ''})`, async () => {
        await assert.rejects(
          openSession(specOf(f, randomKeys(f)), { driver: 'kernel' }),
          (e: unknown) => e instanceof KCryptoError && e.code === 'ENOENT' && e.message.includes('crypto.af_alg_restrict=1'),
        );
      });
      continue;
    }
    it(f.kernelName, kernelOptions, async (t) => {
      const s = await openSession(specOf(f, randomKeys(f)), { driver: 'kernel' });
      const driver = s.driver;
      await s.close();
      t.diagnostic(`the kernel picks ${driver}`);
      const entry = (await drivers({ refresh: true })).find((d) => d.name === driver);
      assert.ok(entry, `${driver} is not in the refreshed listing`);
      assert.ok(entry.algorithms.includes(f.kernelName), `${driver} is listed for ${entry.algorithms.join(', ')}, not ${f.kernelName}`);
      assert.equal(entry.available, true, `${driver} listed unavailable: ${entry.reason}`);
    });
  }
});

describe('generic template instances: bind creates them, the refreshed listing then shows them', () => {
  for (const f of FAMILIES) {
    for (const g of generics.get(f) ?? []) {
      it(`${g} for ${f.kernelName}`, kernelOptions, async () => {
        await assertOpens(f, { driver: g, label: `afalg:${g}`, kernel: true, required: true });
        const entry = listedKernelDrivers(await drivers({ refresh: true }), f.kernelName).find((d) => d.kernelDriver === g);
        assert.ok(entry, `${g} opened, but the refreshed listing has no such ${f.kernelName} driver`);
        assert.equal(entry.available, true, `${g} listed unavailable: ${entry.reason}`);
      });
    }
  }
});
