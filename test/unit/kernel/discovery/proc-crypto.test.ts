import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ProcCryptoEntry, parseProcCrypto, readProcCrypto } from '../../../../src/kernel/discovery/proc-crypto.js';
import { readFixture } from '../../../support/package-root.js';

/** Finds test/fixtures/<name> from either the source tree or the compiled tree. */

const VIRTIO = `name         : cbc(aes)
driver       : virtio_crypto_aes_cbc
module       : virtio_crypto
priority     : 150
refcnt       : 1
selftest     : passed
internal     : no
type         : skcipher
async        : yes
blocksize    : 16
min keysize  : 16
max keysize  : 32
ivsize       : 16
chunksize    : 16
walksize     : 16

`;

const KNOWN_KEYS = [
  'name',
  'driver',
  'module',
  'priority',
  'refcnt',
  'selftest',
  'internal',
  'fips',
  'type',
  'async',
  'blocksize',
  'min keysize',
  'max keysize',
  'ivsize',
  'geniv',
  'chunksize',
  'walksize',
  'digestsize',
  'seedsize',
  'statesize',
  'maxauthsize',
];

describe('parseProcCrypto', () => {
  it('keeps every field of a record with its type', () => {
    const expected: ProcCryptoEntry = {
      name: 'cbc(aes)',
      driver: 'virtio_crypto_aes_cbc',
      module: 'virtio_crypto',
      priority: 150,
      refcnt: 1,
      selftest: 'passed',
      internal: false,
      type: 'skcipher',
      async: true,
      blocksize: 16,
      minKeysize: 16,
      maxKeysize: 32,
      ivsize: 16,
      chunksize: 16,
      walksize: 16,
      extra: {},
    };
    assert.deepEqual(parseProcCrypto(VIRTIO), [expected]);
  });

  it('parses aead, rng, shash, akcipher and lskcipher fields', () => {
    const text = `name         : gcm(aes)
driver       : generic-gcm-aesni
module       : aesni_intel
priority     : 400
refcnt       : 1
selftest     : passed
internal     : no
type         : aead
async        : yes
blocksize    : 1
ivsize       : 12
maxauthsize  : 16
geniv        : <none>

name         : stdrng
driver       : drbg_nopr_hmac_sha256
module       : kernel
priority     : 221
refcnt       : 2
selftest     : passed
internal     : no
type         : rng
seedsize     : 0

name         : sha256
driver       : sha256-generic
module       : kernel
priority     : 100
refcnt       : 1
selftest     : unknown
internal     : no
type         : shash
blocksize    : 64
digestsize   : 32

name         : rsa
driver       : virtio-crypto-rsa
module       : virtio_crypto
priority     : 150
refcnt       : 1
selftest     : passed
internal     : no
type         : akcipher

name         : cbc(aes)
driver       : cbc(ecb(aes-fixed-time))
module       : kernel
priority     : 101
refcnt       : 1
selftest     : passed
internal     : no
type         : lskcipher
blocksize    : 16
min keysize  : 16
max keysize  : 32
ivsize       : 16
chunksize    : 16
statesize    : 0
`;
    const [gcm, drbg, sha, rsa, lsk] = parseProcCrypto(text);
    assert.ok(gcm && drbg && sha && rsa && lsk);
    assert.equal(gcm.async, true);
    assert.equal(gcm.maxauthsize, 16);
    assert.equal(gcm.ivsize, 12);
    assert.equal(gcm.geniv, '<none>');
    assert.equal(drbg.type, 'rng');
    assert.equal(drbg.seedsize, 0);
    assert.equal(drbg.async, undefined, 'rng records print no async line');
    assert.equal(sha.digestsize, 32);
    assert.equal(sha.selftest, 'unknown');
    assert.equal(rsa.type, 'akcipher');
    assert.equal(rsa.blocksize, undefined);
    assert.equal(lsk.type, 'lskcipher');
    assert.equal(lsk.statesize, 0);
    for (const e of [gcm, drbg, sha, rsa, lsk]) assert.deepEqual(e.extra, {});
  });

  it('keeps unknown keys, larval flags and unparsable values in extra', () => {
    const text = `name         : cbc(aes)
driver       : cbc(aes-generic)
module       : kernel
priority     : 100
refcnt       : 1
selftest     : unknown
internal     : no
fips         : yes
type         : larval
flags        : 0x10000405
brand new    : 12
blocksize    : sixteen
async        : maybe
`;
    const [e] = parseProcCrypto(text);
    assert.ok(e);
    assert.equal(e.type, 'larval');
    assert.equal(e.fips, true);
    assert.equal(e.blocksize, undefined);
    assert.equal(e.async, undefined);
    assert.deepEqual(e.extra, { flags: '0x10000405', 'brand new': '12', blocksize: 'sixteen', async: 'maybe' });
  });

  it('tolerates CRLF, missing blank lines, a missing final newline and colons in values', () => {
    const text =
      'name         : a\r\ndriver       : a-generic\r\ntype         : shash\r\n' +
      'name         : b\r\ndriver       : b:odd\r\ninternal     : yes\r\ntype         : shash';
    const es = parseProcCrypto(text);
    assert.equal(es.length, 2);
    assert.equal(es[0]?.driver, 'a-generic');
    assert.equal(es[1]?.driver, 'b:odd');
    assert.equal(es[1]?.internal, true);
    // Header fields an old kernel might omit get the value of an unflagged algorithm.
    assert.equal(es[0]?.internal, false);
    assert.equal(es[0]?.module, 'kernel');
  });

  it('drops blocks that are not algorithm records and returns [] for empty input', () => {
    assert.deepEqual(parseProcCrypto(''), []);
    assert.deepEqual(parseProcCrypto('\n\n'), []);
    assert.deepEqual(parseProcCrypto('type : shash\nblocksize : 64\n\n'), []);
  });

  it('parses the 6.1 QEMU guest capture into well-formed records', () => {
    const es = parseProcCrypto(readFixture('proc-crypto-6.1-qemu.txt'));
    assert.ok(es.length > 0);
    for (const e of es) {
      assert.ok(e.name !== '' && e.driver !== '', `record without names: ${JSON.stringify(e)}`);
      assert.ok(Number.isInteger(e.priority) && Number.isInteger(e.refcnt), e.driver);
      assert.equal(typeof e.internal, 'boolean');
      for (const key of Object.keys(e.extra)) assert.ok(!KNOWN_KEYS.includes(key), `${e.driver}: ${key} left unparsed`);
      // The per-type fields the kernel prints must all have been parsed.
      if (e.type === 'skcipher') {
        assert.equal(typeof e.async, 'boolean', e.driver);
        for (const f of [e.blocksize, e.minKeysize, e.maxKeysize, e.ivsize, e.chunksize, e.walksize]) {
          assert.equal(typeof f, 'number', e.driver);
        }
      }
      if (e.type === 'aead') {
        assert.equal(typeof e.async, 'boolean', e.driver);
        assert.equal(typeof e.maxauthsize, 'number', e.driver);
        assert.equal(typeof e.ivsize, 'number', e.driver);
      }
      if (e.type === 'shash' || e.type === 'ahash') assert.equal(typeof e.digestsize, 'number', e.driver);
      if (e.type === 'rng') assert.equal(typeof e.seedsize, 'number', e.driver);
    }
    // The lab guest always has a virtio-crypto card.
    const virtio = es.find((e) => e.driver === 'virtio_crypto_aes_cbc');
    assert.ok(virtio, 'virtio_crypto_aes_cbc listed');
    assert.equal(virtio.name, 'cbc(aes)');
    assert.equal(virtio.type, 'skcipher');
    assert.equal(virtio.async, true);
    assert.equal(virtio.priority, 150);
    assert.ok(
      es.some((e) => e.internal),
      'internal implementations are listed too',
    );
    assert.ok(es.some((e) => e.type === 'rng'));
  });
});

describe('readProcCrypto', () => {
  it('returns null when the file does not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-proc-'));
    try {
      assert.equal(await readProcCrypto(join(dir, 'crypto')), null);
      assert.equal(await readProcCrypto(join(dir, 'not-a-dir', 'crypto')), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads and parses a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-proc-'));
    try {
      const path = join(dir, 'crypto');
      writeFileSync(path, VIRTIO);
      const es = await readProcCrypto(path);
      assert.equal(es?.[0]?.driver, 'virtio_crypto_aes_cbc');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
