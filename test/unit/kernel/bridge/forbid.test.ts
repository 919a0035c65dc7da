// KCRYPTO_FORBID and configure({ forbid }): a forbidden interface is never reached. Each case
// runs in a child process (the forbid is the process's, and cannot be lifted) on the compiled
// sources (the modules the counts are kept in, not the bundle `kcrypto` resolves to), which counts
// what it asked of the kernel twice: the calls the package let through to the addon's entry
// points that reach AF_ALG or /dev/crypto, and the addon's own count of socket(AF_ALG) and
// open() of a /dev/crypto node. A control case without the forbid shows the counts move.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { loadAddon } from '../../../../src/kernel/bridge/addon.js';
import { findPackageRoot } from '../../../../src/package-root.js';

const root = findPackageRoot(fileURLToPath(import.meta.url))!;
const noAddon = loadAddon().addon === null ? `the addon does not load here: ${loadAddon().error}` : false;
const linux = process.platform === 'linux' ? false : 'AF_ALG and cryptodev-linux are Linux interfaces';

/** Runs `body` (an async module body that returns a JSON-able value) with `env`; its result. */
function run(body: string, env: Record<string, string> = {}): Record<string, unknown> {
  const script = `
    import { createRequire } from 'node:module';
    const k = await import(new URL('./dist/esm/src/index.js', 'file://' + process.cwd() + '/'));
    const bridge = await import(new URL('./dist/esm/src/kernel/bridge/forbid.js', 'file://' + process.cwd() + '/'));
    const { loadAddon } = await import(new URL('./dist/esm/src/kernel/bridge/addon.js', 'file://' + process.cwd() + '/'));
    const key = Buffer.alloc(16, 7);
    const errorOf = async (f) => { try { await f(); return null; } catch (e) { return { name: e.name, code: e.code, message: e.message, driver: e.driver }; } };
    const counts = () => ({ forwarded: bridge.forwardedCalls(), gate: bridge.kernelOpens() });
    const out = await (async () => { ${body} })();
    console.log(JSON.stringify(out));`;
  const rest = { ...process.env };
  delete rest['KCRYPTO_FORBID'];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...rest, ...env },
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const ALL_KERNEL = `
  const list = await k.drivers();
  const kernel = list.filter((d) => d.interface === 'afalg' || d.interface === 'devcrypto');
  const fastest = await k.openSession({ cipher: 'aes-128-cbc', key });
  const iv = Buffer.alloc(16, 1);
  const ct = (await fastest.encrypt(Buffer.alloc(64, 3), { iv })).ciphertext;
  await fastest.close();
  const { createCipheriv } = await import('node:crypto');
  const c = createCipheriv('aes-128-cbc', key, iv); c.setAutoPadding(false);
  const want = Buffer.concat([c.update(Buffer.alloc(64, 3)), c.final()]);
  const errors = {};
  // A kernel driver /proc/crypto lists (a name it does not list is unknown, ENOENT, forbidden or not).
  const listed = kernel.find((d) => d.kernelDriver !== undefined && d.interface === 'afalg');
  for (const driver of ['kernel', 'hardware', ...(listed ? [listed.name] : []), 'devcrypto:cryptodev-linux'])
    errors[driver] = await errorOf(() => k.openSession({ cipher: 'aes-128-cbc', key }, { driver }));
  errors.bridgeDevcrypto = await errorOf(() => import(new URL('./dist/esm/src/kernel/bridge/devcrypto.js', 'file://' + process.cwd() + '/')).then((m) => m.devCryptoInfo()));
  return { kernel, fastestOk: ct.equals(want), errors, ...counts() };`;

describe('KCRYPTO_FORBID', { skip: noAddon || linux }, () => {
  it('without it (control): discovery asks the kernel for an AF_ALG socket, and both counts see it', () => {
    const r = run(`await k.drivers(); return counts();`);
    assert.ok((r['forwarded'] as { afalg: number }).afalg > 0, JSON.stringify(r));
    assert.ok((r['gate'] as { afalg: number }).afalg > 0, JSON.stringify(r));
  });

  it('=afalg,devcrypto: nothing reaches either; drivers() says why; a named kernel driver is a typed error; fastest serves', () => {
    const r = run(ALL_KERNEL, { KCRYPTO_FORBID: 'afalg,devcrypto' });
    assert.deepEqual(r['forwarded'], { afalg: 0, devcrypto: 0 });
    assert.deepEqual(r['gate'], { afalg: 0, devcrypto: 0 });
    const kernel = r['kernel'] as { name: string; available: boolean; reason: string }[];
    assert.ok(kernel.some((d) => d.name.startsWith('afalg')) && kernel.some((d) => d.name.startsWith('devcrypto')));
    for (const d of kernel) {
      assert.equal(d.available, false, d.name);
      assert.equal(d.reason, 'forbidden by KCRYPTO_FORBID', d.name);
    }
    assert.equal(r['fastestOk'], true);
    const errors = r['errors'] as Record<string, { name: string; code: string; message: string } | null>;
    assert.ok(
      Object.keys(errors).some((d) => d.startsWith('afalg:')),
      'a listed AF_ALG driver was named',
    );
    for (const [driver, e] of Object.entries(errors)) {
      assert.equal(e?.name, 'KCryptoError', driver);
      assert.equal(e?.code, 'EPERM', driver);
      assert.match(e?.message ?? '', /forbidden by KCRYPTO_FORBID/, driver);
    }
  });

  it('=afalg: /dev/crypto is still looked at, AF_ALG is not', () => {
    const r = run(`await k.drivers(); return counts();`, { KCRYPTO_FORBID: 'afalg' });
    assert.equal((r['forwarded'] as { afalg: number }).afalg, 0);
    assert.equal((r['gate'] as { afalg: number }).afalg, 0);
  });

  it('an entry it does not know forbids both (a typo leaves nothing open), and says so', () => {
    const r = run(
      `const l = await k.drivers(); return { reasons: l.filter((d) => !d.available && d.interface !== 'openssl').map((d) => d.reason), ...counts() };`,
      {
        KCRYPTO_FORBID: 'afgal',
      },
    );
    assert.deepEqual(r['gate'], { afalg: 0, devcrypto: 0 });
    for (const reason of r['reasons'] as string[]) assert.match(reason, /forbidden by KCRYPTO_FORBID \(unknown entries afgal/);
  });

  it('the addon refuses on its own: its probes and opens answer EPERM without a system call', () => {
    const r = run(
      `const raw = createRequire(import.meta.url)(loadAddon().path);
       const probe = raw.probeAfAlg();
       const bind = raw.probeBind('skcipher', 'cbc(aes)');
       const open = await errorOf(() => raw.openAfAlg('skcipher', 'cbc(aes)', key, 0, true, 65536, 0));
       const dev = await errorOf(() => raw.openDevCrypto({ mode: 'cipher', cipher: 11, key, ivLength: 16, blockLength: 16, path: '/dev/null', abi: 'cryptodev-linux' }));
       const info = raw.devCryptoInfo('/dev/null', 'cryptodev-linux').open;
       const eperm = raw.errnoTable().EPERM;
       return { probe, bind, open, dev, info, eperm, gate: raw.kernelGate() };`,
      { KCRYPTO_FORBID: 'all' },
    );
    const eperm = r['eperm'];
    assert.equal(r['probe'], eperm);
    assert.equal(r['bind'], eperm);
    assert.equal(r['info'], eperm);
    assert.equal((r['open'] as { message: string } | null)?.message !== undefined, true);
    assert.equal((r['dev'] as { message: string } | null)?.message !== undefined, true);
    assert.deepEqual(r['gate'], { forbidden: 3, afalgSockets: 0, devcryptoOpens: 0 });
  });
});

describe('configure({ forbid })', { skip: noAddon || linux }, () => {
  it('before first use: as the environment variable, with its own reason; forbids add up', () => {
    const r = run(`
      const a = k.configure({ forbid: ['afalg'] });
      const b = k.configure({ forbid: ['devcrypto'] });
      const again = k.configure({ forbid: ['afalg'] });
      const l = await k.drivers();
      const named = await errorOf(() => k.openSession({ hash: 'sha256' }, { driver: 'kernel' }));
      return { a, b, again, reasons: [...new Set(l.filter((d) => d.interface === 'afalg' || d.interface === 'devcrypto').map((d) => d.reason))], named, ...counts() };`);
    assert.deepEqual(r['a'], { forbid: ['afalg'] });
    assert.deepEqual(r['b'], { forbid: ['afalg', 'devcrypto'] });
    assert.deepEqual(r['again'], { forbid: ['afalg', 'devcrypto'] });
    assert.deepEqual(r['reasons'], ['forbidden by configure({ forbid })']);
    assert.equal((r['named'] as { code: string }).code, 'EPERM');
    assert.deepEqual(r['gate'], { afalg: 0, devcrypto: 0 });
  });

  it('after the interface was reached: throws ERR_INVALID_STATE and changes nothing', () => {
    const r = run(`
      await k.drivers();
      const late = await errorOf(() => k.configure({ forbid: ['afalg'] }));
      return { late, forbidden: bridge.isForbidden('afalg') };`);
    assert.equal((r['late'] as { code: string }).code, 'ERR_INVALID_STATE');
    assert.match((r['late'] as { message: string }).message, /already reached/);
    assert.equal(r['forbidden'], false);
  });

  it('refuses what is not a list of interfaces, as node:crypto refuses bad arguments', () => {
    const r = run(`return {
      word: await errorOf(() => k.configure({ forbid: ['afalg', 'keyring'] })),
      notArray: await errorOf(() => k.configure({ forbid: 'afalg' })),
      notObject: await errorOf(() => k.configure(null)),
      ...counts() };`);
    assert.equal((r['word'] as { code: string }).code, 'ERR_INVALID_ARG_VALUE');
    assert.equal((r['notArray'] as { code: string }).code, 'ERR_INVALID_ARG_TYPE');
    assert.equal((r['notObject'] as { code: string }).code, 'ERR_INVALID_ARG_TYPE');
  });
});
