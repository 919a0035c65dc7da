// Key material: every copy of a key the addon makes is zeroed before its memory is freed, and no
// key byte reaches what kcrypto shows or keeps: error messages, properties and stacks, stats(),
// its debug output (NODE_DEBUG=kcrypto), the route table on disk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

import { loadAddon } from '../../../src/kernel/bridge/addon.js';
import { findPackageRoot } from '../../../src/package-root.js';
import { openSession } from '../../../src/index.js';

const root = findPackageRoot(fileURLToPath(import.meta.url))!;
const { addon } = loadAddon();
const noAudit = !addon?.keyCopyStats ? 'needs the addon loaded with KCRYPTO_TEST_HOOKS=1 (keyCopyStats)' : false;

/** 32 bytes no text, number or other key in these tests looks like. */
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => (0xc3 ^ (i * 37)) & 0xff));

describe('key copies in the addon', { skip: noAudit }, () => {
  it('each one is released, and released zeroed: openssl, AF_ALG and /dev/crypto sessions (opened deferred, so no device is needed)', async () => {
    const a = addon!;
    const before = a.keyCopyStats!();
    // openssl: the engine keeps the key for the contexts it makes on demand.
    const ossl = a.openOpenSsl!('cipher', 'aes-256-cbc', KEY);
    ossl.close();
    // The public API's openssl session, its HMAC key too.
    const s = await openSession({ hmac: 'sha256', key: KEY }, { driver: 'openssl' });
    await s.close();
    // AF_ALG: the key waits in the session for a deferred open that never comes.
    if (a.openAfAlg) a.openAfAlg('skcipher', 'cbc(aes)', KEY, 0, true, 65536, 0, true).close();
    // /dev/crypto, NetBSD AES-GCM: the ABI derives the GMAC key from the cipher key (a second copy).
    if (a.openDevCrypto) {
      const { session } = a.openDevCrypto({
        deferred: true,
        mode: 'aead',
        abi: 'netbsd',
        path: '/dev/null',
        cipher: 29,
        mac: 32,
        key: KEY.subarray(0, 28), // AES-192 key ‖ 4-byte salt
        ivLength: 12,
        tagLength: 16,
        blockLength: 1,
      });
      session.close();
      const { session: cbc } = a.openDevCrypto({
        deferred: true,
        mode: 'cipher',
        abi: 'cryptodev-linux',
        path: '/dev/null',
        cipher: 11,
        key: KEY.subarray(0, 16),
        ivLength: 16,
        blockLength: 16,
      });
      cbc.close();
    }
    const after = a.keyCopyStats!();
    const made = after.made - before.made;
    const released = after.released - before.released;
    assert.ok(released >= (a.openAfAlg && a.openDevCrypto ? 6 : 2), `released ${released}`);
    assert.equal(released, made, 'every copy made was released once its session closed');
    assert.equal(after.unwiped - before.unwiped, 0, 'no copy was released with a key byte still set');
  });
});

/** The forms a key's bytes could take in text. */
function forms(key: Buffer): string[] {
  return [
    key.toString('hex'),
    key.toString('hex').toUpperCase(),
    key.toString('base64'),
    key.toString('base64url'),
    key.toString('latin1'),
    [...key.subarray(0, 8)].join(','),
    [...key.subarray(0, 8)].join(', '),
    [...key.subarray(0, 8)].map((b, i) => `"${i}":${b}`).join(','),
    [...key.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' '),
  ].flatMap((f) => [f, f.slice(0, 16)]);
}

function assertNoKey(text: string, where: string): void {
  for (const f of forms(KEY)) assert.ok(!text.includes(f), `${where} holds the key (as ${JSON.stringify(f.slice(0, 24))}…)`);
}

describe('no key byte in what kcrypto shows or keeps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kcrypto-key-hygiene-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('errors (message, properties, stack, inspect), stats(), debug output and the route table file', () => {
    const cache = join(dir, 'kcrypto', 'routes.json');
    const script = `
      const { inspect } = await import('node:util');
      const k = await import(new URL('./dist/esm/src/index.js', 'file://' + process.cwd() + '/'));
      const KEY = Buffer.from(${JSON.stringify([...KEY])});
      const seen = [];
      const collect = (e) => seen.push(String(e?.message), String(e?.stack), JSON.stringify(e), inspect(e, { depth: 6, showHidden: true }), String(e?.cause?.message));
      const attempt = async (f) => { try { await f(); } catch (e) { collect(e); } };
      // Sessions that open, on every route the host has, and requests that fail.
      const gcm = await k.openSession({ cipher: 'aes-256-gcm', key: KEY });
      const iv = Buffer.alloc(12, 1);
      await attempt(() => gcm.decrypt(Buffer.alloc(48, 2), { iv, authTag: Buffer.alloc(16) }));
      await attempt(() => gcm.decrypt(Buffer.alloc(48, 2), { iv: Buffer.alloc(3) }));
      const mac = await k.openSession({ hmac: 'sha256', key: KEY });
      seen.push(JSON.stringify(gcm.stats()), JSON.stringify(mac.stats()), JSON.stringify(k.framework.stats(), (_, v) => typeof v === 'bigint' ? String(v) : v));
      seen.push(JSON.stringify(k.routeTable.snapshot()));
      await gcm.close();
      await attempt(() => gcm.encrypt(Buffer.alloc(16), { iv }));
      // Opens that fail: a wrong key length, drivers that are not there or refuse.
      await attempt(() => k.openSession({ cipher: 'aes-128-cbc', key: KEY }));
      for (const driver of ['kernel', 'hardware', 'afalg:no-such', 'devcrypto:cryptodev-linux', 'openssl'])
        await attempt(() => k.openSession({ cipher: 'aes-256-xts', key: Buffer.concat([KEY, KEY]) }, { driver }));
      await attempt(() => k.openSession({ cipher: 'chacha20-poly1305', key: KEY }, { driver: 'kernel' }));
      await attempt(() => k.openSession({ cmac: 'aes', key: KEY.subarray(0, 5) }));
      await mac.close();
      console.log(JSON.stringify({ errors: seen.length, seen }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, KCRYPTO_ROUTE_CACHE: cache, NODE_DEBUG: 'kcrypto' },
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { errors: number; seen: string[] };
    assert.ok(out.errors >= 20, `collected ${out.errors} texts`);
    out.seen.forEach((t, i) => assertNoKey(t, `text ${i}`));
    assertNoKey(r.stderr, 'debug output (stderr)');
    assertNoKey(r.stdout, 'stdout');
    const table = readFileSync(cache, 'latin1');
    assert.ok(table.length > 0, 'the route table was written');
    assertNoKey(table, 'the route table file');
  });

  it('the search finds a key where there is one (so its silence means something)', () => {
    assert.throws(() => assertNoKey(`key=${KEY.toString('base64')}`, 'probe'), /holds the key/);
    assert.throws(() => assertNoKey(JSON.stringify(new Uint8Array(KEY)), 'probe'), /holds the key/);
  });
});
