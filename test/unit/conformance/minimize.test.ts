// The differential check's minimizer on pure predicates: it finds the shortest failing length
// the family accepts, simplifies the data, keys, IV and AAD only where the case still fails,
// and stays within its bound on reruns.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { MAX_TRIES, minimize, type Trial } from '../../../src/conformance/minimize.js';

function trial(size: number): Trial {
  return { key: randomBytes(16), iv: randomBytes(16), aad: randomBytes(20), data: randomBytes(size) };
}

const any = (): boolean => true;

describe('minimize', () => {
  it('finds the shortest failing length and zeroes everything that does not matter', async () => {
    const t = trial(1 << 20);
    const m = await minimize(t, 'bad', { retry: (c) => (c.data.length >= 1000 ? 'bad' : undefined), accepts: any });
    assert.equal(m.trial.data.length, 1000);
    assert.equal(m.failure, 'bad');
    assert.ok(
      m.trial.data.every((b) => b === 0),
      'data zeroed',
    );
    assert.ok(
      m.trial.key.every((b) => b === 0),
      'key zeroed',
    );
    assert.ok(
      m.trial.iv!.every((b) => b === 0),
      'IV zeroed',
    );
    assert.equal(m.trial.aad.length, 0, 'AAD dropped');
    assert.ok(m.tries <= MAX_TRIES, `${m.tries} tries`);
  });

  it('only tries lengths the family accepts', async () => {
    const seen: number[] = [];
    const m = await minimize(trial(4096), 1, {
      retry: (c) => {
        seen.push(c.data.length);
        return c.data.length > 100 ? 1 : undefined;
      },
      accepts: (n) => n % 16 === 0,
    });
    assert.equal(m.trial.data.length, 112, 'the first multiple of 16 over 100');
    assert.ok(
      seen.every((n) => n % 16 === 0),
      `tried ${seen.join(', ')}`,
    );
  });

  it('keeps a simplification only while the case still fails', async () => {
    const t = trial(64);
    const key = Buffer.from(t.key);
    const m = await minimize(t, 'x', {
      // Fails only with this key and some AAD: neither may be simplified away.
      retry: (c) => (c.key.equals(key) && c.aad.length > 0 ? 'x' : undefined),
      accepts: any,
    });
    assert.deepEqual(m.trial.key, key);
    assert.equal(m.trial.aad.length, 20);
    assert.equal(m.trial.data.length, 0);
    assert.ok(m.trial.iv!.every((b) => b === 0));
  });

  it('counts a candidate that throws (the reference cannot take it) as not reproducing', async () => {
    const t = trial(32);
    const m = await minimize(t, 'x', {
      retry: (c) => {
        if (c.key.every((b) => b === 0)) throw new Error('the reference refuses this key');
        return 'x';
      },
      accepts: any,
    });
    assert.ok(
      m.trial.key.some((b) => b !== 0),
      'the key kept',
    );
    assert.equal(m.trial.data.length, 0);
  });

  it('stops after maxTries candidates', async () => {
    let calls = 0;
    const m = await minimize(trial(1 << 20), 'x', {
      retry: () => {
        calls++;
        return undefined;
      },
      accepts: any,
      maxTries: 5,
    });
    assert.equal(calls, 5);
    assert.equal(m.tries, 5);
    assert.equal(m.trial.data.length, 1 << 20, 'nothing smaller failed: the original stands');
  });
});
