// HMAC written out over a kernel hash (NetBSD /dev/crypto, for keys its own HMAC cannot take),
// on the loopback engine: a digest is two kernel requests, and close() must wait for both.
import '../../../support/test-hooks.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { hmacOverHashBackendOf } from '../../../../src/drivers/kernel/backends.js';
import { KCryptoError } from '../../../../src/errors.js';
import { loadAddon } from '../../../../src/kernel/bridge/addon.js';
import { KernelSession, type Execution } from '../../../../src/kernel/bridge/engine/index.js';

const { addon, error } = loadAddon();
const skip = addon ? false : `native addon not loaded: ${error}`;
const SHA1 = { digestLength: 20, blockLength: 64 };
const KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => i + 1));
const XOR = 0x5a;

function backend(execution: Execution, delayUs: number): ReturnType<typeof hmacOverHashBackendOf> {
  const ks = new KernelSession(addon!.openLoopback!(delayUs, 0), 'test:loopback', false, execution);
  return hmacOverHashBackendOf(ks, SHA1, KEY, 'no hash state');
}

// The loopback's digest is its input's first bytes XOR 0x5a: the outer digest shows the opad.
const expected = Buffer.from(KEY.subarray(0, SHA1.digestLength).map((b) => b ^ 0x5c ^ XOR));

describe('HMAC over a kernel hash on the loopback engine', { skip }, () => {
  for (const execution of ['inline', 'threads'] as const) {
    it(`${execution}: digests made just before close() complete with the right MAC, and close() waits for them`, async () => {
      const b = backend(execution, 2000);
      const digests = [b.digest(Buffer.from('one')), b.digest([Buffer.from('tw'), Buffer.from('o')])].map((d) => Promise.resolve(d));
      const closed = b.close();
      for (const mac of await Promise.all(digests)) assert.deepEqual(mac, expected);
      await closed;
    });

    it(`${execution}: a digest made after close() is refused with EBADF`, async () => {
      const b = backend(execution, 0);
      const closed = b.close();
      await assert.rejects(
        Promise.resolve().then(() => b.digest(Buffer.from('late'))),
        (err: unknown) => err instanceof KCryptoError && err.code === 'EBADF' && err.driver === 'test:loopback',
      );
      await closed;
    });
  }
});
