// The framework and the software drivers are pure JavaScript: importing them, opening a session
// and running a request must not load the native addon (a host without it, or one that forbids
// addons, still has them). Each child process records every native module it opens.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

const src = (path: string): string => new URL(`../../../src/${path}`, import.meta.url).href;

/** Runs `body` in a fresh node after hooking process.dlopen; returns what it printed and the native modules it opened. */
function inChild(body: string): { loaded: string[]; result: unknown } {
  const script = `
    const loaded = [];
    const dlopen = process.dlopen;
    process.dlopen = function (...args) {
      loaded.push(String(args[1]));
      return dlopen.apply(this, args);
    };
    const result = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify({ loaded, result }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as {
    loaded: string[];
    result: unknown;
  };
}

describe('framework without the addon', () => {
  it('a pure Framework and the software drivers load no native module', () => {
    const modules = [
      'framework/index.js',
      'framework/router.js',
      'framework/splitter.js',
      'drivers/software/cryptosoft.js',
      'drivers/software/node-crypto.js',
      'drivers/common/descriptor-executor.js',
      'drivers/software/legacy/legacy.js',
      'drivers/software/keying.js',
    ];
    const { loaded, result } = inChild(`
      for (const m of ${JSON.stringify(modules.map(src))}) await import(m);
      const C = await import(${JSON.stringify(src('framework/index.js'))});
      const { registerCryptosoft } = await import(${JSON.stringify(src('drivers/software/cryptosoft.js'))});
      const fw = new C.Framework();
      registerCryptosoft(fw);
      const sid = await fw.newSession(new C.CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: new Uint8Array(16) }), C.CRYPTOCAP_F_SOFTWARE);
      const crp = fw.getReq(1);
      crp.sid = sid;
      crp.buf = new Uint8Array(32);
      Object.assign(crp.desc, { alg: C.CRYPTO_AES_CBC, len: 32, flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT });
      return (await fw.process(crp)).etype;
    `);
    assert.equal(result, 0, 'the request ran');
    assert.deepEqual(loaded, []);
  });

  it('the hook sees the addon when something does load it', () => {
    const { loaded, result } = inChild(`
      const { loadAddon } = await import(${JSON.stringify(src('kernel/bridge/addon.js'))});
      return loadAddon().addon !== null;
    `);
    if (result === true) assert.equal(loaded.filter((p) => p.endsWith('.node')).length, 1);
    else assert.deepEqual(loaded, [], 'no addon built here: nothing opened');
  });
});
