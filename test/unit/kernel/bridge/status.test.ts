import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KCryptoError } from '../../../../src/errors.js';
import { errnoOf } from '../../../../src/errno.js';
import { decodeError, fromNativeThrow, invalid, systemError } from '../../../../src/kernel/bridge/status.js';

// The native side encodes a failure as -(2 + errno + 4096 * syscall id).
const encode = (errno: number, syscallId: number): number => -(2 + errno + 4096 * syscallId);

describe('status decoding', () => {
  it('decodes errno and syscall', () => {
    assert.deepEqual(decodeError(encode(74, 6)), { errno: 74, syscall: 'recvmsg' });
    assert.deepEqual(decodeError(encode(22, 10)), { errno: 22, syscall: 'validate' });
    assert.deepEqual(decodeError(encode(97, 1)), { errno: 97, syscall: 'socket' });
  });

  it('builds typed errors', () => {
    const e = systemError(errnoOf('ENOENT'), 'bind', 'afalg:x', 'cannot open');
    assert.ok(e instanceof KCryptoError);
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.syscall, 'bind');
    assert.equal(e.driver, 'afalg:x');
    assert.match(e.message, /cannot open: ENOENT \(bind\)/);
    const v = invalid('EINVAL', 'bad iv', 'software');
    assert.equal(v.syscall, 'validate');
    const n = fromNativeThrow(
      Object.assign(new Error('AF_ALG: nope'), { errno: errnoOf('EAFNOSUPPORT'), syscall: 'socket' }),
      'afalg',
      'open',
    );
    assert.equal(n.code, 'EAFNOSUPPORT');
    assert.equal(n.syscall, 'socket');
  });
});
