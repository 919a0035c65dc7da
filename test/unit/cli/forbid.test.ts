// The commands that reach the kernel (drivers, selftest, bench) take --forbid, and honour
// KCRYPTO_FORBID: what they print says the interfaces are forbidden, and they still serve on
// the in-process drivers. Each runs as the installed command does, in a process of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { findPackageRoot } from '../../../src/package-root.js';

const root = findPackageRoot(fileURLToPath(import.meta.url))!;

function kcrypto(args: string[], env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const base = { ...process.env };
  delete base['KCRYPTO_FORBID'];
  const r = spawnSync(process.execPath, [join(root, 'bin', 'kcrypto.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...base, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Listed {
  name: string;
  interface: string;
  available: boolean;
  reason?: string;
}

describe('kcrypto --forbid and KCRYPTO_FORBID', () => {
  it('drivers --forbid afalg,devcrypto: every kernel driver unusable for that reason', () => {
    const r = kcrypto(['drivers', '--json', '--forbid', 'afalg,devcrypto']);
    assert.equal(r.code, 0, r.err);
    const list = (JSON.parse(r.out) as { drivers: Listed[] }).drivers;
    const kernel = list.filter((d) => d.interface === 'afalg' || d.interface === 'devcrypto');
    assert.ok(kernel.length >= 2);
    for (const d of kernel) assert.deepEqual([d.available, d.reason], [false, 'forbidden by --forbid'], d.name);
    assert.ok(list.some((d) => d.name === 'software' && d.available));
  });

  it('drivers under KCRYPTO_FORBID=afalg: the table and the closing line say so', () => {
    const r = kcrypto(['drivers'], { KCRYPTO_FORBID: 'afalg' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^AF_ALG: unavailable — forbidden by KCRYPTO_FORBID$/m);
    assert.match(r.out, /AF_ALG is forbidden by KCRYPTO_FORBID: this process never reaches it\./);
  });

  it('selftest --forbid=afalg,devcrypto: passes on what is left', () => {
    const r = kcrypto(['selftest', '--forbid=afalg,devcrypto']);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /selftest: [1-9]\d* passed, 0 failed/);
    assert.doesNotMatch(r.out, /afalg:|devcrypto:/);
  });

  it('an interface it does not know is a usage error, before anything runs', () => {
    for (const command of ['drivers', 'selftest', 'bench']) {
      const r = kcrypto([command, '--forbid', 'keyring']);
      assert.equal(r.code, 2, command);
      assert.match(r.err, /--forbid: unknown interface keyring/);
    }
    assert.match(kcrypto(['drivers', '--forbid']).err, /--forbid needs a value/);
  });
});
