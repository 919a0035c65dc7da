// Request data as node:crypto's update() takes it: strings in an encoding (utf8 by default) and
// any ArrayBufferView (a DataView, a typed array, a view at an odd offset), on every session kind.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { openSession } from '../../../src/index.js';

const sw = { driver: 'software' } as const;

describe('request data forms', () => {
  it('digest and update take strings in an encoding, and views of any type', async () => {
    const sha = await openSession({ hash: 'sha256' }, sw);
    const h = (x: string | Buffer, enc?: BufferEncoding): Buffer =>
      typeof x === 'string'
        ? createHash('sha256')
            .update(x, enc ?? 'utf8')
            .digest()
        : createHash('sha256').update(x).digest();
    assert.deepEqual(await sha.digest('héllo'), h('héllo'));
    assert.deepEqual(await sha.digest('68656c6c6f', { encoding: 'hex' }), h('hello'));
    assert.deepEqual(await sha.digest('aGVsbG8=', { encoding: 'base64' }), h('hello'));
    const big = randomBytes(1000);
    const u32 = new Uint32Array(big.buffer, big.byteOffset + 4 - (big.byteOffset % 4), 100);
    assert.deepEqual(await sha.digest(u32), h(Buffer.from(u32.buffer, u32.byteOffset, u32.byteLength)));
    const dv = new DataView(big.buffer, big.byteOffset + 3, 501);
    assert.deepEqual(await sha.digest(dv), h(big.subarray(3, 504)));
    assert.deepEqual(await sha.digest(['ab', Buffer.from('c')]), h('abc'));
    await sha.update('ab');
    await sha.update('63', { encoding: 'hex' });
    assert.deepEqual(await sha.final(), h('abc'));
    await sha.close();
  });

  it('ciphers and MACs take them too', async () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const aes = await openSession({ cipher: 'aes-128-cbc', key }, sw);
    const text = 'sixteen byte msg';
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    const want = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    assert.deepEqual((await aes.encrypt(text, { iv })).ciphertext, want);
    assert.deepEqual(await aes.decrypt(want.toString('base64'), { iv, encoding: 'base64' }), Buffer.from(text));
    await aes.close();
    const hkey = randomBytes(32);
    const mac = await openSession({ hmac: 'sha256', key: hkey }, sw);
    assert.deepEqual(await mac.digest('message'), createHmac('sha256', hkey).update('message').digest());
    await mac.close();
  });

  it('an unknown encoding is a TypeError; data of another type a TypeError, as update() throws', async () => {
    const sha = await openSession({ hash: 'sha256' }, sw);
    await assert.rejects(sha.digest('x', { encoding: 'klingon' as BufferEncoding }), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.equal((err as { code?: string }).code, 'ERR_UNKNOWN_ENCODING');
      return true;
    });
    let nodeMessage = '';
    try {
      createHash('sha256').update(42 as unknown as string);
    } catch (err) {
      nodeMessage = (err as Error).message;
    }
    assert.match(nodeMessage, /^The "data" argument/);
    await assert.rejects(sha.digest(42 as unknown as string), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: nodeMessage });
    await sha.close();
  });
});
