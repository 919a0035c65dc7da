// The CLI's main job on a host without AF_ALG: it lists the software driver, says why the
// kernel offers nothing, and the known-answer tests pass on what is usable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { driversCommand } from '../../../src/cli/drivers-command.js';
import { failure, selftestCommand } from '../../../src/cli/selftest-command.js';
import { openSession } from '../../../src/index.js';
import { kcryptoError } from '../../support/errors.js';

async function capture(run: (out: (line: string) => void) => Promise<number>): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await run((l) => lines.push(l));
  return { code, text: lines.join('\n') };
}

describe('kcrypto command', () => {
  it('drivers: lists the software driver as usable and reports AF_ALG with a reason', async () => {
    const { code, text } = await capture((out) => driversCommand([], out));
    assert.equal(code, 0);
    assert.match(text, /^ {2}software\s/m);
    assert.match(text, /^AF_ALG: (available|unavailable — .+)$/m);
  });

  it('drivers --json: machine-readable, with every driver record', async () => {
    const { text } = await capture((out) => driversCommand(['--json'], out));
    const parsed = JSON.parse(text) as { drivers: { name: string; available: boolean }[] };
    assert.ok(parsed.drivers.some((d) => d.name === 'software' && d.available));
  });

  it('selftest: every vector passes on every usable driver', async () => {
    const { code, text } = await capture((out) => selftestCommand([], out));
    assert.equal(code, 0, text);
    assert.match(text, /selftest: [1-9]\d* passed, 0 failed/);
    assert.doesNotMatch(text, /^FAIL/m);
  });

  it('selftest: a failure reads with its code, a misuse error with its class too', async () => {
    const misuse = await openSession({ cipher: 'rot13', key: Buffer.alloc(16) }, { driver: 'software' }).then(
      () => assert.fail('opened'),
      (err: unknown) => err,
    );
    assert.equal(failure(misuse), 'ERR_CRYPTO_UNKNOWN_CIPHER Unknown cipher (Error)');
    const refused = await openSession({ hash: 'sha256' }, { driver: 'no-such-driver' }).then(
      () => assert.fail('opened'),
      (err: unknown) => err,
    );
    kcryptoError('ENOENT')(refused);
    assert.equal(failure(refused), `ENOENT ${(refused as Error).message}`);
    assert.equal(failure('text'), 'text');
  });
});
