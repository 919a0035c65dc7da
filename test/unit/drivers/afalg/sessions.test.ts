// Request formats the AF_ALG driver builds for the kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { authencKey } from '../../../../src/drivers/afalg/sessions.js';
import { ccmKernelIv } from '../../../../src/drivers/kernel/backends.js';

describe('AF_ALG request formats', () => {
  it('CCM: the kernel IV is L-1, the nonce, then zeroes', () => {
    const iv = ccmKernelIv(Buffer.from('0102030405060708090a0b0c', 'hex'));
    assert.equal(iv.toString('hex'), '020102030405060708090a0b0c000000');
    assert.equal(ccmKernelIv(Buffer.alloc(7, 0xff)).toString('hex'), '07ffffffffffffff0000000000000000');
  });

  it('authenc: rtattr header, big-endian cipher key length, MAC key, cipher key', () => {
    const blob = authencKey(Buffer.alloc(16, 0xee), Buffer.alloc(32, 0xaa));
    assert.equal(blob.length, 8 + 32 + 16);
    const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    assert.equal(le ? blob.readUInt16LE(0) : blob.readUInt16BE(0), 8);
    assert.equal(le ? blob.readUInt16LE(2) : blob.readUInt16BE(2), 1);
    assert.equal(blob.readUInt32BE(4), 16);
    assert.ok(blob.subarray(8, 40).every((b) => b === 0xaa));
    assert.ok(blob.subarray(40).every((b) => b === 0xee));
  });
});
