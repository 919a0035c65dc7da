// The addon that runs is the one asked for: the sanitizer stages of the test command set
// KCRYPTO_ADDON to the ASan+UBSan build, and must not silently fall back to the normal one.
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { loadAddon } from '../../../../src/kernel/bridge/addon.js';
import { packageRoot } from '../../../support/package-root.js';

describe('addon loading', () => {
  it('loads KCRYPTO_ADDON when set, else build/Release', () => {
    const { addon, path, error } = loadAddon();
    assert.ok(addon, `addon loaded (${error ?? ''})`);
    const wanted = process.env['KCRYPTO_ADDON'] ?? join(packageRoot(), 'build', 'Release', 'kcrypto.node');
    assert.equal(realpathSync(path), realpathSync(wanted));
  });

  it(
    'under the sanitizer build, the ASan runtime is in the process',
    { skip: process.env['KCRYPTO_ADDON'] ? false : 'KCRYPTO_ADDON not set: normal build' },
    async () => {
      const { readFile } = await import('node:fs/promises');
      const maps = await readFile('/proc/self/maps', 'utf8');
      assert.match(maps, /libasan\.so/);
    },
  );
});
