// What the running kernel's AF_ALG allows this process, asserted against what kcrypto reports:
// crypto.af_alg_restrict (absent, 0, 1 or 2; found by reading it, never by the kernel's
// version), the privilege it checks, the refusal of asynchronous drivers since 7.2, and that
// sessions take what binds and fall back to software for the rest. Every refusal is asserted
// with its reason; nothing here is skipped inside the lab.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { algorithmSupport, drivers, kernelReport, KCryptoError, openSession } from '../../src/index.js';
import { driversCommand } from '../../src/cli/drivers-command.js';
import { loadAddon } from '../../src/kernel/bridge/addon.js';
import { router } from '../../src/api/framework-instance.js';
import { AF_ALG_ALLOWLIST, readAfAlgRestriction } from '../../src/kernel/discovery/afalg-restrict.js';
import type { AfAlgType } from '../../src/kernel/discovery/afalg-probe.js';
import { IN_LAB } from '../support/drivers.js';

const restriction = readAfAlgRestriction();
const { addon } = loadAddon();
const report = await kernelReport();
const privileged = restriction.privilege.privileged;
const mode = restriction.value === null ? 'no af_alg_restrict sysctl' : `crypto.af_alg_restrict=${restriction.value}`;
const outside = IN_LAB ? undefined : 'not inside kcrypto lab (KCRYPTO_LAB is not 1)';

/** bind() of a fresh AF_ALG socket: 0 or the errno name. */
function bind(type: AfAlgType, name: string): string {
  const rc = addon!.probeBind(type, name);
  if (rc === 0) return 'OK';
  return Object.entries(addon!.errnoTable()).find(([, n]) => n === rc)?.[0] ?? `errno ${rc}`;
}

/**
 * The names the issue measured in a 7.3.4 guest with the default sysctl: what root binds, and
 * what a process without capabilities binds. Names on the allowlists whose modules a kernel
 * may lack (cbc(paes) is s390's, md4, the DES and Camellia/Twofish modes) are only reported.
 */
const PRIVILEGED_CORE = [
  'cbc(aes)',
  'ecb(aes)',
  'ctr(aes)',
  'xts(aes)',
  'sha1',
  'sha224',
  'sha256',
  'sha384',
  'sha512',
  'md5',
  'hmac(sha1)',
  'hmac(sha256)',
  'hmac(sha384)',
  'hmac(sha512)',
  'cmac(aes)',
  'ccm(aes)',
];
const ANYONE_CORE = ['xts(aes)', 'sha1'];
const OFF_LIST: [AfAlgType, string][] = [
  ['aead', 'gcm(aes)'],
  ['aead', 'rfc7539(chacha20,poly1305)'],
  ['aead', 'authenc(hmac(sha256),cbc(aes))'],
  ['hash', 'sha3-256'],
  ['rng', 'stdrng'],
  ['rng', 'jitterentropy_rng'],
  ['skcipher', 'cbc-aes-aesni'],
  ['skcipher', 'virtio_crypto_aes_cbc'],
];

function typeOf(name: string): AfAlgType {
  for (const t of ['hash', 'skcipher', 'aead', 'rng'] as const) if (name in AF_ALG_ALLOWLIST[t]) return t;
  throw new Error(`${name} is on no allowlist`);
}

/** The in-process drivers, as cbcMatchesNode() lists the drivers of a session. */
const IN_PROCESS = /^(openssl,software|openssl|software)$/;

const isErr =
  (code: string, re: RegExp) =>
  (e: unknown): boolean => {
    assert.ok(e instanceof KCryptoError, `not a KCryptoError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  };

/**
 * Opens an AES-128-CBC session on `driver`, checks one request against node:crypto, and gives
 * the session's driver; for a routed session (`'fastest'`), the drivers its routes go to.
 */
async function cbcMatchesNode(driver: string): Promise<string> {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const data = randomBytes(4096);
  const s = await openSession({ cipher: 'aes-128-cbc', key }, { driver });
  try {
    const { ciphertext } = await s.encrypt(data, { iv });
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    assert.deepEqual(Buffer.from(ciphertext), Buffer.concat([c.update(data), c.final()]));
    const routes = s.frameworkSid === undefined ? undefined : router.routes(s.frameworkSid);
    return routes ? [...new Set(routes.map((r) => r.driver))].sort().join(',') : s.driver;
  } finally {
    await s.close();
  }
}

describe(`AF_ALG policy of this kernel (${mode}, ${restriction.privilege.reason})`, { skip: outside }, () => {
  it('kcrypto reports the sysctl and the privilege it read', () => {
    assert.ok(report, 'no kernel report');
    assert.equal(report.afalg.restriction?.value ?? null, restriction.value);
    assert.equal(report.afalg.restriction?.privilege.privileged, privileged);
    // The lab runs the suite as root, and its unprivileged pass with no capabilities at all.
    assert.equal(privileged, process.getuid?.() === 0, restriction.privilege.reason);
  });

  if (restriction.value === 2) {
    it('af_alg_restrict=2: socket(AF_ALG) fails, and kcrypto says the sysctl disabled it', async () => {
      assert.equal(addon!.probeAfAlg(), addon!.errnoTable()['EAFNOSUPPORT']);
      assert.equal(report!.afalg.available, false);
      assert.match(report!.afalg.reason ?? '', /AF_ALG disabled by crypto\.af_alg_restrict=2/);
      const afalg = (await drivers()).find((d) => d.name === 'afalg');
      assert.match(afalg?.reason ?? '', /disabled by crypto\.af_alg_restrict=2/);
      await assert.rejects(
        openSession({ cipher: 'aes-128-cbc', key: randomBytes(16) }, { driver: 'kernel' }),
        isErr('EAFNOSUPPORT', /crypto\.af_alg_restrict=2/),
      );
      // In process: node:crypto, and OpenSSL through the addon where it loads.
      assert.match(await cbcMatchesNode('fastest'), IN_PROCESS);
      const lines: string[] = [];
      await driversCommand([], (l) => lines.push(l));
      assert.match(lines.join('\n'), /AF_ALG is disabled by crypto\.af_alg_restrict=2/);
      assert.doesNotMatch(lines.join('\n'), /kernel offers no crypto driver/);
    });
    return;
  }

  it('AF_ALG sockets open', () => {
    assert.equal(addon!.probeAfAlg(), 0);
    assert.equal(report!.afalg.available, true, report!.afalg.reason);
  });

  if (restriction.value === 1) {
    const core = privileged ? PRIVILEGED_CORE : ANYONE_CORE;
    it(`binds exactly the ${privileged ? 'privileged' : 'unprivileged'} allowlist`, (t) => {
      for (const name of PRIVILEGED_CORE) {
        const want = core.includes(name) ? 'OK' : 'ENOENT';
        assert.equal(bind(typeOf(name), name), want, `${name} on the ${privileged ? 'privileged' : 'unprivileged'} list`);
      }
      for (const [type, name] of OFF_LIST) assert.equal(bind(type, name), 'ENOENT', `${name} is on no list`);
      for (const type of ['hash', 'skcipher', 'aead', 'rng'] as const) {
        for (const [name, who] of Object.entries(AF_ALG_ALLOWLIST[type])) {
          const got = bind(type, name);
          if (who === 'privileged' && !privileged) assert.equal(got, 'ENOENT', `${name} is privileged-only`);
          else t.diagnostic(`${type} ${name} (${who}): ${got}`);
        }
      }
    });

    it('every driver name is refused, each with the sysctl as its reason', () => {
      const names = report!.drivers.filter((d) => !d.internal && d.afalgType !== null && report!.afalg.types[d.afalgType].available);
      assert.ok(names.length > 10, `only ${names.length} drivers listed`);
      for (const d of names) {
        assert.equal(bind(d.afalgType!, d.driver), 'ENOENT', d.driver);
        if (d.reachable) assert.notEqual(d.bindName, d.driver, `${d.driver} reported reachable by its driver name`);
        else assert.match(d.reason ?? '', /refused by crypto\.af_alg_restrict=1: not on the allowlist \(no driver name is\)/, d.driver);
      }
    });

    it('each refused generic name kcrypto serves is reported with the allowlist reason', async () => {
      const support = await algorithmSupport();
      for (const a of support) {
        if (a.afalg) continue;
        assert.match(a.afalgReason ?? '', /crypto\.af_alg_restrict=1/, `${a.algorithm}: ${a.afalgReason ?? ''}`);
        assert.ok(a.software || a.devcrypto.length > 0, `${a.algorithm} is served by nothing`);
      }
      const gcm = support.find((a) => a.algorithm === 'gcm(aes)');
      assert.equal(gcm?.afalg, null);
      assert.match(gcm?.afalgReason ?? '', /not on the allowlist/);
      for (const name of core) {
        const a = support.find((x) => x.algorithm === name);
        if (!a) continue; // an allowlisted name kcrypto has no algorithm for
        assert.ok(a.afalg, `${name}: ${a.afalgReason ?? ''}`);
        assert.equal(a.afalg.bindName, name);
      }
      if (!privileged) {
        const cbc = support.find((a) => a.algorithm === 'cbc(aes)');
        assert.match(cbc?.afalgReason ?? '', /on the allowlist only for privileged processes/);
      }
    });

    it('the driver a generic name reaches is observed by its reference count', () => {
      const name = privileged ? 'cbc(aes)' : 'xts(aes)';
      const g = report!.afalg.generic.find((x) => x.name === name);
      assert.ok(g?.bound, `${name} did not bind: ${g?.reason ?? 'not tried'}`);
      assert.equal(g.reachedBy, 'observed');
      const d = report!.drivers.find((x) => x.driver === g.reached && x.name === name);
      assert.ok(d?.reachable, `${g.reached ?? '?'} not reported reachable`);
      assert.equal(d.bindName, name);
    });

    it(`sessions run on what binds, in software otherwise, and a refused driver is ENOENT with its reason`, async () => {
      if (privileged) {
        const g = report!.afalg.generic.find((x) => x.name === 'cbc(aes)')!;
        assert.equal(await cbcMatchesNode(`afalg:${g.reached!}`), `afalg:${g.reached!}`);
        assert.equal(await cbcMatchesNode('kernel'), `afalg:${g.reached!}`);
        const h = await openSession({ hmac: 'sha256', key: Buffer.from('k') }, { driver: 'kernel' });
        const data = randomBytes(1000);
        assert.deepEqual(Buffer.from(await h.digest(data)), createHmac('sha256', 'k').update(data).digest());
        assert.match(h.driver, /^afalg:/);
        await h.close();
      } else {
        await assert.rejects(
          openSession({ cipher: 'aes-128-cbc', key: randomBytes(16) }, { driver: 'kernel' }),
          isErr('ENOENT', /only for privileged processes/),
        );
        assert.match(await cbcMatchesNode('fastest'), IN_PROCESS);
        const s = await openSession({ hash: 'sha1' }, { driver: 'kernel' });
        const data = randomBytes(333);
        assert.deepEqual(Buffer.from(await s.digest(data)), createHash('sha1').update(data).digest());
        assert.match(s.driver, /^afalg:/);
        await s.close();
      }
      await assert.rejects(
        openSession({ cipher: 'aes-256-gcm', key: randomBytes(32) }, { driver: 'kernel' }),
        isErr('ENOENT', /not on the allowlist/),
      );
      await assert.rejects(
        openSession({ cipher: 'aes-128-cbc', key: randomBytes(16) }, { driver: 'virtio_crypto_aes_cbc' }),
        isErr('ENOENT', /crypto\.af_alg_restrict=1/),
      );
      const gcm = await openSession({ cipher: 'aes-256-gcm', key: randomBytes(32) });
      assert.equal(gcm.driver, 'software');
      await gcm.close();
    });

    it('kcrypto drivers names the sysctl and what =0 would open, and never claims the kernel offers nothing', async () => {
      const lines: string[] = [];
      await driversCommand([], (l) => lines.push(l));
      const text = lines.join('\n');
      assert.match(text, /AF_ALG is restricted by crypto\.af_alg_restrict=1/);
      assert.match(text, /`sysctl crypto\.af_alg_restrict=0`/);
      assert.doesNotMatch(text, /kernel offers no crypto driver/);
      for (const name of core)
        if (['cbc(aes)', 'xts(aes)', 'sha256', 'sha1'].includes(name))
          assert.match(text, new RegExp(`bound as ${name.replace(/[()]/g, '\\$&')}`));
    });
    return;
  }

  // No sysctl, or af_alg_restrict=0: driver names bind, except asynchronous ones since 7.2.
  it('synchronous drivers bind by driver name; asynchronous ones as the kernel decides, with the reason', () => {
    const listed = report!.drivers.filter((d) => !d.internal && d.afalgType !== null && report!.afalg.types[d.afalgType].available);
    const sync = listed.filter((d) => !d.async && d.kind !== 'hardware');
    assert.ok(
      sync.some((d) => d.reachable && d.bindName === d.driver),
      'no synchronous driver binds by its name',
    );
    const virtio = listed.find((d) => d.driver === 'virtio_crypto_aes_cbc');
    if (!virtio) return;
    const got = bind('skcipher', virtio.driver);
    if (report!.afalg.asyncBindRefused) {
      assert.equal(got, 'ENOENT');
      assert.equal(virtio.reachable, false);
      assert.match(
        virtio.reason ?? '',
        /^asynchronous drivers are refused through AF_ALG since 7\.2: use \/dev\/crypto \(cryptodev-linux\)/,
      );
      assert.doesNotMatch(report!.afalg.asyncBindReason ?? '', /implied/, 'seen by binding, not implied');
    } else {
      assert.equal(got, 'OK');
      assert.equal(virtio.reachable, true);
    }
  });

  it('generic names off any allowlist bind here (gcm(aes), sha3-256)', () => {
    assert.equal(bind('aead', 'gcm(aes)'), 'OK');
    assert.equal(bind('hash', 'sha3-256'), 'OK');
  });
});
