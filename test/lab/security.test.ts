// KCRYPTO_FORBID on a real kernel: a process with AF_ALG and /dev/crypto forbidden holds no AF_ALG
// socket and no /dev/crypto descriptor while its sessions serve, the addon counts no attempt,
// and the CLI honours it. A control process without the forbid, on the same kernel, shows the
// detection finds the AF_ALG socket a kernel session holds (so that the forbid's 0 means
// something).
//
// An AF_ALG socket shows in /proc/self/fd only as `socket:[inode]`, and no /proc/net table
// lists AF_ALG sockets: a socket of this process that none of the /proc/net tables knows is taken
// for one. The process's other sockets (Node's, the addon's completion signalling) are unix or
// netlink ones, which /proc/net/unix and /proc/net/netlink list.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { drivers } from '../../src/index.js';
import { afAlgUnavailable } from '../support/drivers.js';
import { findPackageRoot } from '../../src/package-root.js';

const root = findPackageRoot(fileURLToPath(import.meta.url))!;
// The plain listing: kernelListing() opens every family first, which this file does not need.
const noAfAlg = afAlgUnavailable(await drivers());

/** The child: opens sessions on `driver`, and while they are open, looks at its descriptors. */
const CHILD = `
  import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
  const k = await import(new URL('./dist/esm/src/index.js', 'file://' + process.cwd() + '/'));
  const { loadAddon } = await import(new URL('./dist/esm/src/kernel/bridge/addon.js', 'file://' + process.cwd() + '/'));
  const driver = process.argv[1];
  const known = new Set();
  for (const t of readdirSync('/proc/self/net')) {
    let text = '';
    try { text = readFileSync('/proc/self/net/' + t, 'utf8'); } catch { continue; }
    for (const line of text.split('\\n').slice(1)) for (const w of line.trim().split(/\\s+/)) if (/^\\d{3,}$/.test(w)) known.add(w);
  }
  const key = Buffer.alloc(16, 9);
  const sessions = [];
  const errors = [];
  const listed = await k.drivers();
  const refused = [];
  if (process.argv[2] === 'try-kernel')
    for (const d of ['kernel', ...listed.filter((x) => x.name.startsWith('afalg:')).slice(0, 1).map((x) => x.name)])
      try { await (await k.openSession({ hash: 'sha256' }, { driver: d })).close(); refused.push({ driver: d, code: null }); }
      catch (e) { refused.push({ driver: d, code: e.code }); }
  for (const spec of [{ cipher: 'aes-128-cbc', key }, { hash: 'sha256' }, { hmac: 'sha256', key }]) {
    try {
      const s = await k.openSession(spec, { driver });
      if (s.encrypt) await s.encrypt(Buffer.alloc(64), { iv: Buffer.alloc(16) }); else await s.digest(Buffer.alloc(64));
      sessions.push(s);
    } catch (e) { errors.push({ code: e.code, message: e.message }); }
  }
  // Re-read the tables now: sockets opened since (Node's own) must be known too.
  for (const t of readdirSync('/proc/self/net')) {
    let text = '';
    try { text = readFileSync('/proc/self/net/' + t, 'utf8'); } catch { continue; }
    for (const line of text.split('\\n').slice(1)) for (const w of line.trim().split(/\\s+/)) if (/^\\d{3,}$/.test(w)) known.add(w);
  }
  const fds = [];
  for (const fd of readdirSync('/proc/self/fd')) { try { fds.push(readlinkSync('/proc/self/fd/' + fd)); } catch {} }
  const unknownSockets = fds.filter((t) => { const m = /^socket:\\[(\\d+)\\]$/.exec(t); return m && !known.has(m[1]); });
  const devcrypto = fds.filter((t) => t === '/dev/crypto' || t === process.env.KCRYPTO_DEVCRYPTO);
  const served = sessions.map((s) => s.driver);
  for (const s of sessions) await s.close();
  const afalgListed = listed.filter((d) => d.name.startsWith('afalg')).map((d) => ({ available: d.available, reason: d.reason }));
  console.log(JSON.stringify({ unknownSockets, devcrypto, served, errors, refused, afalgListed, gate: loadAddon().addon.kernelGate() }));`;

function child(
  driver: string,
  env: Record<string, string>,
  tryKernel = false,
): {
  unknownSockets: string[];
  devcrypto: string[];
  served: string[];
  errors: { code: string; message: string }[];
  refused: { driver: string; code: string | null }[];
  afalgListed: { available: boolean; reason?: string }[];
  gate: { forbidden: number; afalgSockets: number; devcryptoOpens: number };
} {
  const base = { ...process.env };
  delete base['KCRYPTO_FORBID'];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, driver, ...(tryKernel ? ['try-kernel'] : [])], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...base, ...env },
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof child>;
}

function cli(args: string[], env: Record<string, string>): { code: number | null; out: string } {
  const base = { ...process.env };
  delete base['KCRYPTO_FORBID'];
  const r = spawnSync(process.execPath, [join(root, 'bin', 'kcrypto.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...base, ...env },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('KCRYPTO_FORBID on a kernel with AF_ALG', { skip: noAfAlg ?? false }, () => {
  it('control: a kernel session holds an AF_ALG socket, which the detection finds and the addon counts', (t) => {
    const r = child('kernel', {});
    t.diagnostic(`served by ${r.served.join(', ')}; unknown sockets ${r.unknownSockets.length}`);
    if (r.served.length === 0) return t.skip(`no kernel session opens here: ${r.errors.map((e) => e.message).join('; ')}`);
    assert.ok(r.unknownSockets.length > 0, 'an open AF_ALG session shows as a socket no /proc/net table lists');
    assert.ok(r.gate.afalgSockets > 0);
  });

  // The in-process openssl driver serves: 'fastest' would measure its routes first, which under
  // the lab's emulated CPU costs more than the rest of this file.
  it('=afalg,devcrypto: no AF_ALG socket, no /dev/crypto descriptor, no attempt; named kernel drivers refused; sessions serve', () => {
    const r = child('openssl', { KCRYPTO_FORBID: 'afalg,devcrypto' }, true);
    assert.deepEqual(r.unknownSockets, []);
    assert.deepEqual(r.devcrypto, []);
    assert.deepEqual(r.gate, { forbidden: 3, afalgSockets: 0, devcryptoOpens: 0 });
    assert.equal(r.served.length, 3, JSON.stringify(r.errors));
    assert.ok(r.refused.length === 2, JSON.stringify(r.refused));
    for (const x of r.refused) assert.equal(x.code, 'EPERM', x.driver);
    assert.ok(r.afalgListed.length > 1);
    for (const d of r.afalgListed) assert.deepEqual([d.available, d.reason], [false, 'forbidden by KCRYPTO_FORBID']);
  });

  it('the CLI: drivers and selftest under the forbid leave every AF_ALG driver out', () => {
    const drivers = cli(['drivers', '--json', '--forbid', 'afalg'], {});
    assert.equal(drivers.code, 0, drivers.out);
    const list = (JSON.parse(drivers.out) as { drivers: { name: string; available: boolean; reason?: string }[] }).drivers;
    const afalg = list.filter((x) => x.name.startsWith('afalg'));
    assert.ok(afalg.length > 1);
    for (const d of afalg) assert.deepEqual([d.available, d.reason], [false, 'forbidden by --forbid']);
    const selftest = cli(['selftest'], { KCRYPTO_FORBID: 'afalg,devcrypto' });
    assert.equal(selftest.code, 0, selftest.out);
    assert.doesNotMatch(selftest.out, /afalg:/);
    assert.match(selftest.out, /selftest: [1-9]\d* passed, 0 failed/);
  });
});
