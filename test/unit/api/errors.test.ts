// Misuse of the public API throws as node:crypto does (class, code, and message where Node has
// the same check, compared with what node:crypto throws for the same input); what a driver or
// the kernel answered is a KCryptoError. On this host: the software driver, and the answers
// about drivers that are not here.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHmac, randomBytes, verify } from 'node:crypto';
import { setDefaultResultOrder } from 'node:dns';
import { describe, it } from 'node:test';

import { KCryptoError, openSession } from '../../../src/index.js';
import { kcryptoError } from '../../support/errors.js';

const sw = { driver: 'software' } as const;

type Coded = Error & { code?: string };

/** What node:crypto throws for `fn` (it must throw). */
function nodeThrows(fn: () => unknown): Coded {
  try {
    fn();
  } catch (err) {
    return err as Coded;
  }
  assert.fail(`node:crypto accepted ${fn.toString()}`);
}

function classOf(err: unknown): string {
  if (err instanceof RangeError) return 'RangeError';
  if (err instanceof TypeError) return 'TypeError';
  return err instanceof Error ? 'Error' : typeof err;
}

/**
 * A validator for assert.rejects: an error of this class and code (never a KCryptoError) whose
 * message is `message`, or `node`'s message when a node:crypto error is given.
 */
function misuse(cls: string, code: string, message: string | RegExp | Coded): (err: unknown) => true {
  return (err) => {
    assert.ok(!(err instanceof KCryptoError), `misuse must not be a KCryptoError: ${String(err)}`);
    assert.equal(classOf(err), cls, String(err));
    assert.equal((err as Coded).code, code, String(err));
    const text = (err as Error).message;
    if (message instanceof RegExp) assert.match(text, message);
    else if (typeof message === 'string') assert.equal(text, message);
    else {
      assert.equal(classOf(message), cls, `node:crypto throws ${String(message)}`);
      assert.equal(message.code, code, `node:crypto throws ${String(message)}`);
      assert.equal(text, message.message);
    }
    return true;
  };
}

const k16 = randomBytes(16);
const iv16 = randomBytes(16);
const iv12 = randomBytes(12);

describe('API misuse: TypeError and RangeError with node:crypto codes', () => {
  it('a key that is not bytes: ERR_INVALID_ARG_TYPE, worded as node:crypto words it', async () => {
    for (const bad of [5, 'secret', null, undefined, { length: 16 }, [1, 2], 5n, Symbol('k')]) {
      // verify() checks its signature argument against the same types (Buffer, TypedArray, DataView).
      const node = nodeThrows(() => verify(null, Buffer.alloc(1), 'k', bad as never));
      const want = node.message.replace('"signature"', '"key"');
      assert.match(want, /^The "key" argument must be an instance of Buffer, TypedArray, or DataView\. Received /);
      await assert.rejects(
        openSession({ cipher: 'aes-128-cbc', key: bad as never }, sw),
        misuse('TypeError', 'ERR_INVALID_ARG_TYPE', want),
      );
      await assert.rejects(openSession({ hmac: 'sha256', key: bad as never }, sw), misuse('TypeError', 'ERR_INVALID_ARG_TYPE', want));
    }
    await assert.rejects(
      openSession({ cipher: 'aes-128-cbc', key: k16, hmac: 'sha256' }, sw),
      misuse(
        'TypeError',
        'ERR_INVALID_ARG_TYPE',
        /^The "authKey" argument must be an instance of Buffer, TypedArray, or DataView\. Received undefined$/,
      ),
    );
  });

  it('a key of a length the cipher does not take: ERR_CRYPTO_INVALID_KEYLEN', async () => {
    for (const [cipher, n] of [
      ['aes-128-cbc', 15],
      ['aes-256-gcm', 16],
      ['aes-128-xts', 16],
    ] as const) {
      const node = nodeThrows(() => createCipheriv(cipher, randomBytes(n), cipher.endsWith('gcm') ? iv12 : iv16));
      await assert.rejects(openSession({ cipher, key: randomBytes(n) }, sw), misuse('RangeError', 'ERR_CRYPTO_INVALID_KEYLEN', node));
    }
    const keylen = misuse('RangeError', 'ERR_CRYPTO_INVALID_KEYLEN', 'Invalid key length');
    await assert.rejects(openSession({ cipher: 'cbc(aes)', key: randomBytes(20) }, sw), keylen);
    await assert.rejects(openSession({ cmac: 'aes', key: randomBytes(10) }, sw), keylen);
  });

  it('an unknown cipher: ERR_CRYPTO_UNKNOWN_CIPHER; a cipher name not a string: ERR_INVALID_ARG_TYPE', async () => {
    const node = nodeThrows(() => createCipheriv('rot13', k16, iv16));
    await assert.rejects(openSession({ cipher: 'rot13', key: k16 }, sw), misuse('Error', 'ERR_CRYPTO_UNKNOWN_CIPHER', node));
    await assert.rejects(openSession({ cmac: 'des', key: k16 }, sw), misuse('Error', 'ERR_CRYPTO_UNKNOWN_CIPHER', node));
    const typed = nodeThrows(() => createCipheriv(5 as never, k16, iv16));
    await assert.rejects(openSession({ cipher: 5 as never, key: k16 }, sw), misuse('TypeError', 'ERR_INVALID_ARG_TYPE', typed));
  });

  it('an unknown hash: ERR_CRYPTO_INVALID_DIGEST, as createHmac() throws it', async () => {
    await assert.rejects(
      openSession({ hmac: 'nope', key: k16 }, sw),
      misuse(
        'TypeError',
        'ERR_CRYPTO_INVALID_DIGEST',
        nodeThrows(() => createHmac('nope', k16)),
      ),
    );
    await assert.rejects(openSession({ hash: 'sha9' }, sw), misuse('TypeError', 'ERR_CRYPTO_INVALID_DIGEST', 'Invalid digest: sha9'));
    await assert.rejects(
      openSession({ cipher: 'aes-128-cbc', key: k16, hmac: 'sha9', authKey: k16 }, sw),
      misuse('TypeError', 'ERR_CRYPTO_INVALID_DIGEST', 'Invalid digest: sha9'),
    );
    await assert.rejects(
      openSession({ cipher: 'aes-128-gcm', key: k16, hmac: 'sha256', authKey: k16 }, sw),
      misuse(
        'TypeError',
        'ERR_INVALID_ARG_VALUE',
        "The argument 'hmac' can be combined with an AES-CBC cipher only, not aes-128-gcm. Received 'sha256'",
      ),
    );
  });

  it('a tag length the AEAD does not take: ERR_CRYPTO_INVALID_AUTH_TAG, at open and to decrypt', async () => {
    const atOpen = nodeThrows(() => createCipheriv('aes-128-gcm', k16, iv12, { authTagLength: 3 }));
    await assert.rejects(
      openSession({ cipher: 'aes-128-gcm', key: k16, tagLength: 3 }, sw),
      misuse('TypeError', 'ERR_CRYPTO_INVALID_AUTH_TAG', atOpen),
    );
    const g = await openSession({ cipher: 'aes-128-gcm', key: k16 }, sw);
    const toDecrypt = nodeThrows(() => createDecipheriv('aes-128-gcm', k16, iv12, { authTagLength: 16 }).setAuthTag(randomBytes(12)));
    await assert.rejects(
      g.decrypt(randomBytes(16), { iv: iv12, tag: randomBytes(12) }),
      misuse('TypeError', 'ERR_CRYPTO_INVALID_AUTH_TAG', toDecrypt),
    );
    await assert.rejects(
      g.decrypt(randomBytes(16), { iv: iv12 } as never),
      misuse(
        'TypeError',
        'ERR_INVALID_ARG_TYPE',
        /^The "tag" argument must be an instance of Buffer, TypedArray, or DataView\. Received undefined$/,
      ),
    );
    await g.close();
    await assert.rejects(
      openSession({ cipher: 'aes-128-cbc', key: k16, tagLength: 16 }, sw),
      misuse(
        'TypeError',
        'ERR_INVALID_ARG_VALUE',
        "The argument 'tagLength' does not apply to aes-128-cbc, which is not an AEAD. Received 16",
      ),
    );
  });

  it('an IV of the wrong length, or one where the mode takes none: ERR_CRYPTO_INVALID_IV, as createCipheriv() throws it', async () => {
    const c = await openSession({ cipher: 'aes-128-cbc', key: k16 }, sw);
    const e = await openSession({ cipher: 'aes-128-ecb', key: k16 }, sw);
    const g = await openSession({ cipher: 'aes-128-gcm', key: k16 }, sw);
    const badIv = nodeThrows(() => createCipheriv('aes-128-cbc', k16, iv12));
    await assert.rejects(c.encrypt(randomBytes(16), { iv: iv12 }), misuse('TypeError', 'ERR_CRYPTO_INVALID_IV', badIv));
    await assert.rejects(c.decrypt(randomBytes(16), { iv: iv12 }), misuse('TypeError', 'ERR_CRYPTO_INVALID_IV', badIv));
    const nullIv = nodeThrows(() => createCipheriv('aes-128-cbc', k16, null));
    await assert.rejects(c.encrypt(randomBytes(16), { iv: null as never }), misuse('TypeError', 'ERR_CRYPTO_INVALID_IV', nullIv));
    const ecbIv = nodeThrows(() => createCipheriv('aes-128-ecb', k16, iv16));
    await assert.rejects(e.encrypt(randomBytes(16), { iv: iv16 }), misuse('TypeError', 'ERR_CRYPTO_INVALID_IV', ecbIv));
    const gcmIv = nodeThrows(() => createCipheriv('aes-128-gcm', k16, Buffer.alloc(0)));
    await assert.rejects(g.encrypt(randomBytes(16), { iv: Buffer.alloc(0) }), misuse('TypeError', 'ERR_CRYPTO_INVALID_IV', gcmIv));
    await assert.rejects(
      g.encrypt(randomBytes(16), { iv: iv16 }),
      misuse('TypeError', 'ERR_CRYPTO_INVALID_IV', 'Invalid initialization vector'),
    );
    // An undefined IV is of the wrong type, as createCipheriv() has it (its list of types is longer).
    const noIv = nodeThrows(() => createCipheriv('aes-128-cbc', k16, undefined as never));
    const received = noIv.message.slice(noIv.message.indexOf('. Received '));
    await assert.rejects(
      c.encrypt(randomBytes(16)),
      misuse(
        'TypeError',
        'ERR_INVALID_ARG_TYPE',
        new RegExp(`^The "iv" argument must be an instance of Buffer, TypedArray, or DataView\\${received}$`),
      ),
    );
    // Any ArrayBufferView is bytes: a 16-byte Uint16Array is an IV.
    const viaView = await c.encrypt(randomBytes(16), { iv: new Uint16Array(8) });
    assert.equal(viaView.ciphertext.length, 16);
    await Promise.all([c.close(), e.close(), g.close()]);
  });

  it("data not a whole number of the mode's blocks: ERR_OUT_OF_RANGE", async () => {
    const c = await openSession({ cipher: 'aes-128-cbc', key: k16 }, sw);
    await assert.rejects(
      c.encrypt(randomBytes(17), { iv: iv16 }),
      misuse('RangeError', 'ERR_OUT_OF_RANGE', 'The value of "data.length" is out of range. It must be a multiple of 16. Received 17'),
    );
    const x = await openSession({ cipher: 'aes-128-xts', key: randomBytes(32) }, sw);
    await assert.rejects(
      x.encrypt(randomBytes(15), { iv: iv16 }),
      misuse('RangeError', 'ERR_OUT_OF_RANGE', 'The value of "data.length" is out of range. It must be 0 or >= 16. Received 15'),
    );
    const a = await openSession({ cipher: 'aes-128-cbc', key: k16, hmac: 'sha256', authKey: k16 }, sw);
    await assert.rejects(
      a.encrypt(randomBytes(17), { iv: iv16 }),
      misuse('RangeError', 'ERR_OUT_OF_RANGE', 'The value of "data.length" is out of range. It must be a multiple of 16. Received 17'),
    );
    await Promise.all([c.close(), x.close(), a.close()]);
  });

  it('request data, AAD and options of the wrong type: ERR_INVALID_ARG_TYPE', async () => {
    const g = await openSession({ cipher: 'aes-128-gcm', key: k16 }, sw);
    await assert.rejects(
      g.encrypt(randomBytes(16), { iv: iv12, aad: 'header' as never }),
      misuse(
        'TypeError',
        'ERR_INVALID_ARG_TYPE',
        `The "aad" argument must be an instance of Buffer, TypedArray, or DataView. Received type string ('header')`,
      ),
    );
    await assert.rejects(
      g.encrypt(randomBytes(16), { iv: iv12, signal: {} as never }),
      misuse(
        'TypeError',
        'ERR_INVALID_ARG_TYPE',
        'The "options.signal" property must be an instance of AbortSignal. Received an instance of Object',
      ),
    );
    await g.close();
    await assert.rejects(
      openSession({ rng: 'stdrng', seed: 7 as never }, sw),
      misuse('TypeError', 'ERR_INVALID_ARG_TYPE', /^The "seed" argument .* Received type number \(7\)$/),
    );
  });

  it('an RNG length that is not a size: ERR_INVALID_ARG_TYPE or ERR_OUT_OF_RANGE, received as randomBytes() prints it', async () => {
    const r = await openSession({ rng: 'stdrng' }, sw);
    for (const bad of [-1, 2 ** 40]) {
      const node = nodeThrows(() => randomBytes(bad));
      const received = node.message.slice(node.message.indexOf('. Received '));
      await assert.rejects(
        r.generate(bad),
        misuse(
          'RangeError',
          'ERR_OUT_OF_RANGE',
          new RegExp(`^The value of "length" is out of range\\. It must be >= 0 && <= \\d+\\${received}$`),
        ),
      );
    }
    await assert.rejects(
      r.generate(1.5),
      misuse('RangeError', 'ERR_OUT_OF_RANGE', 'The value of "length" is out of range. It must be an integer. Received 1.5'),
    );
    const typed = nodeThrows(() => randomBytes('8' as never));
    await assert.rejects(
      r.generate('8' as never),
      misuse('TypeError', 'ERR_INVALID_ARG_TYPE', typed.message.replace('"size"', '"length"')),
    );
    assert.equal((await r.generate(0)).length, 0);
    await r.close();
  });

  it('a spec that is not one: ERR_INVALID_ARG_TYPE or ERR_MISSING_ARGS', async () => {
    await assert.rejects(
      openSession(null as never, sw),
      misuse('TypeError', 'ERR_INVALID_ARG_TYPE', 'The "spec" argument must be of type object. Received null'),
    );
    await assert.rejects(
      openSession({} as never, sw),
      misuse('TypeError', 'ERR_MISSING_ARGS', 'The "cipher" or "hash" or "hmac" or "cmac" or "rng" argument must be specified'),
    );
    await assert.rejects(
      openSession({ hash: 'sha256' }, null as never),
      misuse('TypeError', 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be of type object. Received null'),
    );
    await assert.rejects(
      openSession({ hash: 'sha256' }, { driver: 3 as never }),
      misuse('TypeError', 'ERR_INVALID_ARG_TYPE', 'The "options.driver" property must be of type string. Received type number (3)'),
    );
    // As validateOneOf() words it: dns.setDefaultResultOrder('x') reads the same with its own names.
    const oneOf = nodeThrows(() => setDefaultResultOrder('x' as never));
    assert.match(oneOf.message, /^The argument 'dnsOrder' must be one of: 'verbatim', 'ipv4first'.*\. Received 'x'$/);
    await assert.rejects(
      openSession({ hash: 'sha256' }, { execution: 'sometimes' as never }),
      misuse(
        'TypeError',
        'ERR_INVALID_ARG_VALUE',
        "The property 'options.execution' must be one of: 'auto', 'inline', 'threads'. Received 'sometimes'",
      ),
    );
    await assert.rejects(
      openSession({ hash: ['sha256'] as never }, sw),
      misuse('TypeError', 'ERR_INVALID_ARG_TYPE', 'The "hash" argument must be of type string. Received an instance of Array'),
    );
  });

  it('misuse rejects: the methods never throw synchronously', () => {
    const p = openSession({ cipher: 'rot13', key: k16 }, sw);
    assert.ok(p instanceof Promise);
    return assert.rejects(p, { code: 'ERR_CRYPTO_UNKNOWN_CIPHER' });
  });
});

describe('what a driver answered: KCryptoError', () => {
  it('a closed session: EBADF, as a closed FileHandle answers', async () => {
    const h = await openSession({ hash: 'sha256' }, sw);
    await h.close();
    await h.close();
    await assert.rejects(h.digest(Buffer.alloc(1)), kcryptoError('EBADF'));
    await assert.rejects(h.update(Buffer.alloc(1)), kcryptoError('EBADF'));
  });

  it('a driver name nothing here answers to: ENOENT, the name as the driver', async () => {
    await assert.rejects(
      openSession({ hash: 'sha256' }, { driver: 'no-such-driver-anywhere' }),
      kcryptoError('ENOENT', 'no-such-driver-anywhere'),
    );
    await assert.rejects(
      openSession({ hash: 'sha256' }, { driver: 'devcrypto:no-such-abi' }),
      kcryptoError('ENOENT', 'devcrypto:no-such-abi'),
    );
  });
});
