// A host where the addon does not load (a broken or foreign binary, no prebuilt binary for the
// platform): the error carries dlopen's own reason and what to do, and the software driver and
// `kcrypto drivers` keep working. Each case runs in a child process whose KCRYPTO_ADDON names a
// file that is not a shared object, so the loader's one attempt fails as a bad binary would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = (path: string): string => new URL(`../../../src/${path}`, import.meta.url).href;
const cli = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

let dir = '';
let bad = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kcrypto-addon-'));
  bad = join(dir, 'kcrypto.node');
  writeFileSync(bad, 'not an ELF file\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `body` (an async function body) in a fresh node with the bad addon named; returns its JSON result. */
function withBadAddon(body: string): unknown {
  const script = `const result = await (async () => { ${body} })(); process.stdout.write(JSON.stringify(result));`;
  const env = { ...process.env, KCRYPTO_ADDON: bad };
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env }));
}

describe('addon that does not load', () => {
  it("the error gives dlopen's reason, the file, and how to build the addon", () => {
    const load = withBadAddon(`
      const { loadAddon } = await import(${JSON.stringify(src('kernel/bridge/addon.js'))});
      const { addon, path, error } = loadAddon();
      return { loaded: addon !== null, path, error };
    `) as { loaded: boolean; path: string; error: string };
    assert.equal(load.loaded, false);
    assert.equal(load.path, bad);
    assert.ok(load.error.includes(bad), load.error);
    // glibc's and musl's words for a file that is no ELF object.
    assert.match(load.error, /invalid ELF header|file too short|Exec format error/);
    assert.match(load.error, /npm rebuild kcrypto --build-from-source/);
    assert.match(load.error, /software driver \(node:crypto\) works/);
  });

  it('software sessions still run, and the kernel and openssl drivers say why they are missing', () => {
    const r = withBadAddon(`
      const { openSession, drivers } = await import(${JSON.stringify(src('index.js'))});
      const { createHash } = await import('node:crypto');
      const sha = await openSession({ hash: 'sha256' }, { driver: 'software' });
      const digest = (await sha.digest(Buffer.from('abc'))).toString('hex');
      await sha.close();
      const list = await drivers();
      const byName = Object.fromEntries(list.map((d) => [d.name, d]));
      return {
        digest,
        expected: createHash('sha256').update('abc').digest('hex'),
        software: byName.software?.available,
        openssl: byName.openssl?.reason,
        afalg: byName.afalg?.reason,
      };
    `) as Record<string, unknown>;
    assert.equal(r['digest'], r['expected']);
    assert.equal(r['software'], true);
    assert.match(String(r['openssl']), /native addon not loaded .*invalid ELF header|native addon not loaded .*file too short/);
    assert.match(String(r['afalg']), /^native addon not loaded .*npm rebuild kcrypto/);
  });

  it('`kcrypto drivers` lists the software driver and the reason', () => {
    const out = execFileSync(process.execPath, [cli, 'drivers'], { encoding: 'utf8', env: { ...process.env, KCRYPTO_ADDON: bad } });
    assert.match(out, /^ {2}software\s/m);
    assert.match(out, /npm rebuild kcrypto --build-from-source/);
  });
});
