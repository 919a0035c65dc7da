// import 'kcrypto' and require('kcrypto') in one process give one copy of the package: one
// framework, one set of drivers, and sessions on the native addon's drivers through either.
// Each case runs in a child process, so that its module caches start empty.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import * as kcrypto from '../../../src/index.js';
import { findPackageRoot } from '../../../src/package-root.js';

const root = findPackageRoot(fileURLToPath(import.meta.url))!;

/** Runs `script` as an ES module in the package directory; its stdout, parsed. */
function run(script: string): unknown {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

/** Why the addon's openssl driver cannot serve here, or null when it can. */
async function opensslMissing(): Promise<string | null> {
  try {
    const s = await kcrypto.openSession({ hash: 'sha256' }, { driver: 'openssl' });
    await s.close();
    return null;
  } catch (err) {
    return `the openssl driver does not open here: ${(err as Error).message}`;
  }
}

describe('import and require in one process', () => {
  it('share one copy: the same framework, classes and functions', () => {
    const got = run(`
      import { createRequire } from 'node:module';
      import * as esm from 'kcrypto';
      const cjs = createRequire(import.meta.url)('kcrypto');
      const names = Object.keys(esm).sort();
      console.log(JSON.stringify({ names, same: names.filter((n) => esm[n] === cjs[n]) }));
    `) as { names: string[]; same: string[] };
    assert.deepEqual(got.names, Object.keys(kcrypto).sort(), 'import exports what src/index.ts does');
    assert.deepEqual(got.same, got.names, 'every export is the same object through require');
  });

  it('open sessions on the native addon through both', async (t) => {
    const missing = await opensslMissing();
    if (missing) return t.skip(missing);
    const got = run(`
      import { createRequire } from 'node:module';
      import { createHash } from 'node:crypto';
      import * as esm from 'kcrypto';
      const cjs = createRequire(import.meta.url)('kcrypto');
      const data = Buffer.from('one copy of kcrypto');
      const digests = [];
      for (const k of [esm, cjs, esm]) {
        const s = await k.openSession({ hash: 'sha256' }, { driver: 'openssl' });
        digests.push((await s.digest(data)).toString('hex'));
        await s.close();
      }
      console.log(JSON.stringify({ digests, want: createHash('sha256').update(data).digest('hex') }));
    `) as { digests: string[]; want: string };
    assert.deepEqual(got.digests, [got.want, got.want, got.want]);
  });
});
