// Random sequences of open, encrypt, decrypt, digest, update, final, copy, close and abort,
// several requests in flight on one and several sessions, random sizes and data forms, on the
// host's drivers: the software driver and OpenSSL through the addon (its requests on the
// addon's threads too), and the same property one layer down on the addon's loopback engine. The model and the invariants are in test/support/properties.ts; the
// shrunk failures found are the regression tests of properties-regressions.test.ts.
import '../../support/test-hooks.js';
import { describe, it } from 'node:test';

import { drivers } from '../../../src/index.js';
import { loadAddon } from '../../../src/kernel/bridge/addon.js';
import { checkLoopbackSequences } from '../../support/loopback-properties.js';
import { checkSequences, kindsOn } from '../../support/properties.js';

/** Several MiB now and then; sequences short enough that a failing one shrinks quickly. */
const SCALE = { big: 3 * 1024 * 1024 + 16, maxOps: 14 };
const RUNS = 100;

const openssl = (await drivers()).find((d) => d.name === 'openssl');

describe('property: random sequences of session calls agree with node:crypto', () => {
  for (const driver of ['software', 'openssl']) {
    const skip = driver === 'openssl' && !openssl?.available ? `openssl driver unavailable: ${openssl?.reason ?? 'not listed'}` : undefined;
    it(`on ${driver}`, { skip }, async (t) => {
      const kinds = await kindsOn(driver);
      const n = await checkSequences({ driver, kinds, scale: SCALE }, RUNS);
      t.diagnostic(`property sequences: ${driver}: ${n} (kinds ${kinds.join(', ')})`);
    });
  }
});

describe('property: random request sequences on the loopback engine', () => {
  const { addon, error } = loadAddon();
  it(
    'every request settles once, with its output or a documented refusal',
    { skip: addon ? undefined : `native addon not loaded: ${error}` },
    async (t) => {
      const n = await checkLoopbackSequences(addon!, RUNS);
      t.diagnostic(`property sequences: loopback: ${n}`);
    },
  );
});
