// `kcrypto bench --host` runs the compiled host benchmark of a checkout; where bench/ is missing (the
// published package leaves it out) it says so instead of failing obscurely.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { benchScript } from '../../../src/cli/bench/host.js';
import { packageRoot } from '../../support/package-root.js';

describe('kcrypto bench --host', () => {
  it('finds dist/esm/bench/host.js in this checkout', () => {
    const found = benchScript(packageRoot());
    assert.ok('script' in found, JSON.stringify(found));
    assert.equal(found.script, join(packageRoot(), 'dist', 'esm', 'bench', 'host.js'));
  });

  it('without bench/ compiled: names the missing file and why the package lacks it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-bench-'));
    try {
      const found = benchScript(dir);
      assert.ok('reason' in found);
      assert.ok(found.reason.includes(join(dir, 'dist', 'esm', 'bench', 'host.js')));
      assert.match(found.reason, /does not ship \(package\.json "files"\)/);
      assert.match(found.reason, /npm run build:ts/);
    } finally {
      rmSync(dir, { recursive: true });
    }
    assert.match((benchScript(null) as { reason: string }).reason, /cannot find the kcrypto package/);
  });
});
