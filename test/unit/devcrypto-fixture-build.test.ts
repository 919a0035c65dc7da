// The CUSE /dev/crypto fixture builds with warnings as errors against the shared ABI headers,
// and both its programs refuse a command line they do not understand. Building here, on the
// host, also spares the lab guest the compile (it sees the host's build/fixtures).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { buildFixture, type FixtureBinaries } from '../support/devcrypto-fixture.js';

const run = promisify(execFile);

function toolchainMissing(): string | undefined {
  if (process.platform !== 'linux') return `the fixture is a Linux CUSE server (platform ${process.platform})`;
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no g++';
  }
  try {
    execFileSync('pkg-config', ['--exists', 'fuse3'], { stdio: 'ignore' });
  } catch {
    return 'pkg-config finds no fuse3 (libfuse3-dev)';
  }
  return undefined;
}

/** Exit code and stderr of a command expected to fail. */
async function failure(file: string, args: string[]): Promise<{ code: unknown; stderr: string }> {
  try {
    await run(file, args);
  } catch (err) {
    const e = err as { code?: unknown; stderr?: unknown };
    return { code: e.code, stderr: typeof e.stderr === 'string' ? e.stderr : '' };
  }
  return { code: 0, stderr: '' };
}

const skip = toolchainMissing();

describe('CUSE /dev/crypto fixture build', skip === undefined ? {} : { skip }, () => {
  let bins: FixtureBinaries;

  it('compiles the server and the client with -Wall -Wextra -Werror', async () => {
    bins = await buildFixture();
    assert.ok(existsSync(bins.server), bins.server);
    assert.ok(existsSync(bins.client), bins.client);
  });

  it('the server rejects an unknown ABI with usage and status 2, before touching /dev/cuse', async () => {
    const { code, stderr } = await failure(bins.server, ['--abi', 'openbsd']);
    assert.equal(code, 2);
    assert.match(stderr, /usage: .*--abi linux\|freebsd\|netbsd/);
  });

  it('the server rejects a device name with a slash', async () => {
    const { code, stderr } = await failure(bins.server, ['--name', 'a/b']);
    assert.equal(code, 2);
    assert.match(stderr, /bad device name/);
  });

  it('the client rejects an unknown ABI with status 2', async () => {
    const { code, stderr } = await failure(bins.client, ['--abi', 'openbsd', '--device', '/dev/null']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown --abi openbsd/);
  });
});
