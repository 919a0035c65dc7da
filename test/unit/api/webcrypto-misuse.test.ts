// Misuse of kcrypto's subtle gives what Node's crypto.subtle gives: the same error class, the
// same DOMException name (TypeErrors: the same code), case by case, on the default driver and
// on the software driver.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createSubtle, subtle } from '../../../src/index.js';
import { nodeSubtle, type SubtleLike } from '../../support/webcrypto.js';

/** The keys a case may use, made by the implementation under test. */
interface Keys {
  gcm: unknown;
  cbc: unknown;
  ctr: unknown;
  encryptOnly: unknown;
  decryptOnly: unknown;
  hmac: unknown;
  signOnly: unknown;
  verifyOnly: unknown;
  nonExtractable: unknown;
}

const raw16 = new Uint8Array(16).map((_, i) => i * 7);
const data = new Uint8Array(40).map((_, i) => i);
const iv12 = new Uint8Array(12);
const iv16 = new Uint8Array(16);
const jwk16 = { kty: 'oct', k: Buffer.from(raw16).toString('base64url') };

async function keysOf(s: SubtleLike): Promise<Keys> {
  const imp = (alg: unknown, usages: string[], extractable = true): Promise<unknown> => s.importKey('raw', raw16, alg, extractable, usages);
  const hmac = { name: 'HMAC', hash: 'SHA-256' };
  return {
    gcm: await imp('AES-GCM', ['encrypt', 'decrypt']),
    cbc: await imp('AES-CBC', ['encrypt', 'decrypt']),
    ctr: await imp('AES-CTR', ['encrypt', 'decrypt']),
    encryptOnly: await imp('AES-GCM', ['encrypt']),
    decryptOnly: await imp('AES-GCM', ['decrypt']),
    hmac: await imp(hmac, ['sign', 'verify']),
    signOnly: await imp(hmac, ['sign']),
    verifyOnly: await imp(hmac, ['verify']),
    nonExtractable: await imp('AES-GCM', ['encrypt'], false),
  };
}

type Case = (s: SubtleLike, k: Keys) => Promise<unknown>;
/** Arguments passed as they are, whatever their type: the point of each case. */
type Loose = Record<string, (...args: unknown[]) => Promise<unknown>>;
const loose = (s: SubtleLike): Loose => s as unknown as Loose;

const CASES: Record<string, Case> = {
  'digest: unknown algorithm': (s) => s.digest('SHA-3', data),
  'digest: MD5': (s) => s.digest({ name: 'MD5' }, data),
  'digest: a number as algorithm': (s) => s.digest(5, data),
  'digest: null as algorithm': (s) => s.digest(null, data),
  'digest: an object without name': (s) => s.digest({}, data),
  'digest: lower-case name': (s) => s.digest({ name: 'sha-256' }, data),
  'digest: a string as data': (s) => s.digest('SHA-256', 'abc'),
  'digest: a plain object as data': (s) => s.digest('SHA-256', { length: 3 }),
  'digest: data missing': (s) => loose(s)['digest']!('SHA-256'),
  'digest: undefined data': (s) => s.digest('SHA-256', undefined),
  'encrypt: AES-GCM as a string (no iv)': (s, k) => s.encrypt('AES-GCM', k.gcm, data),
  'encrypt: AES-GCM without iv': (s, k) => s.encrypt({ name: 'AES-GCM' }, k.gcm, data),
  'encrypt: iv a string': (s, k) => s.encrypt({ name: 'AES-GCM', iv: 'abcdefghijkl' }, k.gcm, data),
  'encrypt: key a plain object': (s) => s.encrypt({ name: 'AES-GCM', iv: iv12 }, {}, data),
  'encrypt: key null': (s) => s.encrypt({ name: 'AES-GCM', iv: iv12 }, null, data),
  'encrypt: data a string': (s, k) => s.encrypt({ name: 'AES-GCM', iv: iv12 }, k.gcm, 'text'),
  'encrypt: data missing': (s, k) => loose(s)['encrypt']!({ name: 'AES-GCM', iv: iv12 }, k.gcm),
  'encrypt: unknown algorithm': (s, k) => s.encrypt({ name: 'AES-XYZ', iv: iv12 }, k.gcm, data),
  'encrypt: AES-CBC with an AES-GCM key': (s, k) => s.encrypt({ name: 'AES-CBC', iv: iv16 }, k.gcm, data),
  'encrypt: a decrypt-only key': (s, k) => s.encrypt({ name: 'AES-GCM', iv: iv12 }, k.decryptOnly, data),
  'decrypt: an encrypt-only key': (s, k) => s.decrypt({ name: 'AES-GCM', iv: iv12 }, k.encryptOnly, data),
  'encrypt: an HMAC key': (s, k) => s.encrypt({ name: 'AES-GCM', iv: iv12 }, k.hmac, data),
  'encrypt: AES-CBC iv of 15 bytes': (s, k) => s.encrypt({ name: 'AES-CBC', iv: new Uint8Array(15) }, k.cbc, data),
  'decrypt: AES-CBC iv of 17 bytes': (s, k) => s.decrypt({ name: 'AES-CBC', iv: new Uint8Array(17) }, k.cbc, new Uint8Array(32)),
  'encrypt: AES-CTR counter of 15 bytes': (s, k) => s.encrypt({ name: 'AES-CTR', counter: new Uint8Array(15), length: 64 }, k.ctr, data),
  'encrypt: AES-CTR length 0': (s, k) => s.encrypt({ name: 'AES-CTR', counter: iv16, length: 0 }, k.ctr, data),
  'encrypt: AES-CTR length 129': (s, k) => s.encrypt({ name: 'AES-CTR', counter: iv16, length: 129 }, k.ctr, data),
  'encrypt: AES-CTR length 256': (s, k) => s.encrypt({ name: 'AES-CTR', counter: iv16, length: 256 }, k.ctr, data),
  'encrypt: AES-CTR length -1': (s, k) => s.encrypt({ name: 'AES-CTR', counter: iv16, length: -1 }, k.ctr, data),
  'encrypt: AES-CTR length missing': (s, k) => s.encrypt({ name: 'AES-CTR', counter: iv16 }, k.ctr, data),
  'encrypt: AES-CTR counter missing': (s, k) => s.encrypt({ name: 'AES-CTR', length: 64 }, k.ctr, data),
  'encrypt: AES-GCM tagLength 100': (s, k) => s.encrypt({ name: 'AES-GCM', iv: iv12, tagLength: 100 }, k.gcm, data),
  'encrypt: AES-GCM tagLength 256': (s, k) => s.encrypt({ name: 'AES-GCM', iv: iv12, tagLength: 256 }, k.gcm, data),
  'encrypt: AES-GCM tagLength 0': (s, k) => s.encrypt({ name: 'AES-GCM', iv: iv12, tagLength: 0 }, k.gcm, data),
  'encrypt: AES-GCM empty iv': (s, k) => s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(0) }, k.gcm, data),
  'encrypt: AES-GCM additionalData a string': (s, k) => s.encrypt({ name: 'AES-GCM', iv: iv12, additionalData: 'x' }, k.gcm, data),
  'decrypt: AES-GCM shorter than its tag': (s, k) => s.decrypt({ name: 'AES-GCM', iv: iv12 }, k.gcm, new Uint8Array(15)),
  'decrypt: AES-GCM with a wrong tag': (s, k) => s.decrypt({ name: 'AES-GCM', iv: iv12 }, k.gcm, data),
  'decrypt: AES-CBC not a multiple of 16': (s, k) => s.decrypt({ name: 'AES-CBC', iv: iv16 }, k.cbc, new Uint8Array(31)),
  'decrypt: AES-CBC empty': (s, k) => s.decrypt({ name: 'AES-CBC', iv: iv16 }, k.cbc, new Uint8Array(0)),
  'sign: an AES key': (s, k) => s.sign('HMAC', k.gcm, data),
  'sign: a verify-only key': (s, k) => s.sign('HMAC', k.verifyOnly, data),
  'verify: a sign-only key': (s, k) => s.verify('HMAC', k.signOnly, new Uint8Array(32), data),
  'sign: unknown algorithm': (s, k) => s.sign('HMAC-X', k.hmac, data),
  'sign: data a string': (s, k) => s.sign('HMAC', k.hmac, 'abc'),
  'verify: signature a string': (s, k) => s.verify('HMAC', k.hmac, 'abc', data),
  'verify: data missing': (s, k) => loose(s)['verify']!('HMAC', k.hmac, new Uint8Array(32)),
  'generateKey: AES length 100': (s) => s.generateKey({ name: 'AES-GCM', length: 100 }, true, ['encrypt']),
  'generateKey: AES length missing': (s) => s.generateKey({ name: 'AES-CBC' }, true, ['encrypt']),
  'generateKey: AES with a sign usage': (s) => s.generateKey({ name: 'AES-CTR', length: 128 }, true, ['sign']),
  'generateKey: AES with no usages': (s) => s.generateKey({ name: 'AES-CTR', length: 128 }, true, []),
  'generateKey: usages a string': (s) => s.generateKey({ name: 'AES-CTR', length: 128 }, true, 'encrypt'),
  'generateKey: an unknown usage': (s) => s.generateKey({ name: 'AES-CTR', length: 128 }, true, ['bogus']),
  'generateKey: HMAC without hash': (s) => s.generateKey({ name: 'HMAC' }, true, ['sign']),
  'generateKey: HMAC with an unknown hash': (s) => s.generateKey({ name: 'HMAC', hash: 'SHA-3' }, true, ['sign']),
  'generateKey: HMAC length 0': (s) => s.generateKey({ name: 'HMAC', hash: 'SHA-1', length: 0 }, true, ['sign']),
  'generateKey: HMAC length 100': (s) => s.generateKey({ name: 'HMAC', hash: 'SHA-1', length: 100 }, true, ['sign']),
  'generateKey: HMAC with an encrypt usage': (s) => s.generateKey({ name: 'HMAC', hash: 'SHA-1' }, true, ['encrypt']),
  'generateKey: HMAC with no usages': (s) => s.generateKey({ name: 'HMAC', hash: 'SHA-1' }, true, []),
  'generateKey: unknown algorithm': (s) => s.generateKey({ name: 'AES-XYZ', length: 128 }, true, ['encrypt']),
  'importKey: unknown format': (s) => s.importKey('bogus', raw16, 'AES-GCM', true, ['encrypt']),
  'importKey: pkcs8 for AES': (s) => s.importKey('pkcs8', raw16, 'AES-GCM', true, ['encrypt']),
  'importKey: spki for HMAC': (s) => s.importKey('spki', raw16, { name: 'HMAC', hash: 'SHA-1' }, true, ['sign']),
  'importKey: raw AES of 15 bytes': (s) => s.importKey('raw', new Uint8Array(15), 'AES-GCM', true, ['encrypt']),
  'importKey: raw AES of 15 bytes, no usages': (s) => s.importKey('raw', new Uint8Array(15), 'AES-GCM', true, []),
  'importKey: raw AES of 64 bytes': (s) => s.importKey('raw', new Uint8Array(64), 'AES-CBC', true, ['encrypt']),
  'importKey: raw from a plain object': (s) => s.importKey('raw', {}, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk from a Uint8Array': (s) => s.importKey('jwk', raw16, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk from a string': (s) => s.importKey('jwk', 'abc', 'AES-GCM', true, ['encrypt']),
  'importKey: jwk kty RSA': (s) => s.importKey('jwk', { ...jwk16, kty: 'RSA' }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk without kty': (s) => s.importKey('jwk', { k: jwk16.k }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk without k': (s) => s.importKey('jwk', { kty: 'oct' }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk k of 15 bytes': (s) =>
    s.importKey('jwk', { kty: 'oct', k: Buffer.alloc(15).toString('base64url') }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk alg A256GCM for a 128-bit key': (s) => s.importKey('jwk', { ...jwk16, alg: 'A256GCM' }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk alg A128CBC for AES-GCM': (s) => s.importKey('jwk', { ...jwk16, alg: 'A128CBC' }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk alg A128GCM, right': (s) => s.importKey('jwk', { ...jwk16, alg: 'A128GCM' }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk alg HS256 for HMAC SHA-1': (s) =>
    s.importKey('jwk', { ...jwk16, alg: 'HS256' }, { name: 'HMAC', hash: 'SHA-1' }, true, ['sign']),
  'importKey: jwk alg HS1, right': (s) => s.importKey('jwk', { ...jwk16, alg: 'HS1' }, { name: 'HMAC', hash: 'SHA-1' }, true, ['sign']),
  'importKey: jwk ext false, extractable': (s) => s.importKey('jwk', { ...jwk16, ext: false }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk ext false, not extractable': (s) => s.importKey('jwk', { ...jwk16, ext: false }, 'AES-GCM', false, ['encrypt']),
  'importKey: jwk key_ops without a usage': (s) => s.importKey('jwk', { ...jwk16, key_ops: ['decrypt'] }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk key_ops with a duplicate': (s) =>
    s.importKey('jwk', { ...jwk16, key_ops: ['encrypt', 'encrypt'] }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk key_ops a string': (s) => s.importKey('jwk', { ...jwk16, key_ops: 'encrypt' }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk use sig for AES': (s) => s.importKey('jwk', { ...jwk16, use: 'sig' }, 'AES-GCM', true, ['encrypt']),
  'importKey: jwk use enc for HMAC': (s) => s.importKey('jwk', { ...jwk16, use: 'enc' }, { name: 'HMAC', hash: 'SHA-1' }, true, ['sign']),
  'importKey: HMAC of zero bytes': (s) => s.importKey('raw', new Uint8Array(0), { name: 'HMAC', hash: 'SHA-1' }, true, ['sign']),
  'importKey: HMAC length not the key length': (s) =>
    s.importKey('raw', raw16, { name: 'HMAC', hash: 'SHA-1', length: 120 }, true, ['sign']),
  'importKey: HMAC length the key length': (s) => s.importKey('raw', raw16, { name: 'HMAC', hash: 'SHA-1', length: 128 }, true, ['sign']),
  'importKey: HMAC without hash': (s) => s.importKey('raw', raw16, { name: 'HMAC' }, true, ['sign']),
  'importKey: HMAC with an encrypt usage': (s) => s.importKey('raw', raw16, { name: 'HMAC', hash: 'SHA-1' }, true, ['encrypt']),
  'importKey: AES with no usages': (s) => s.importKey('raw', raw16, 'AES-CBC', true, []),
  'importKey: AES with a verify usage': (s) => s.importKey('raw', raw16, 'AES-CBC', true, ['verify']),
  'importKey: an unknown usage': (s) => s.importKey('raw', raw16, 'AES-CBC', true, ['bogus']),
  'importKey: unknown algorithm': (s) => s.importKey('raw', raw16, 'AES-XYZ', true, ['encrypt']),
  'importKey: arguments missing': (s) => loose(s)['importKey']!('raw', raw16, 'AES-CBC', true),
  'exportKey: a non-extractable key, raw': (s, k) => s.exportKey('raw', k.nonExtractable),
  'exportKey: a non-extractable key, jwk': (s, k) => s.exportKey('jwk', k.nonExtractable),
  'exportKey: spki of an AES key': (s, k) => s.exportKey('spki', k.gcm),
  'exportKey: pkcs8 of an HMAC key': (s, k) => s.exportKey('pkcs8', k.hmac),
  'exportKey: unknown format': (s, k) => s.exportKey('bogus', k.gcm),
  'exportKey: key a plain object': (s) => s.exportKey('raw', {}),
};

/** Every method called with fewer arguments than it needs, each count from none. */
const ARITY: Record<string, number> = { digest: 2, encrypt: 3, decrypt: 3, sign: 3, verify: 4, generateKey: 3, importKey: 5, exportKey: 2 };
for (const [method, n] of Object.entries(ARITY))
  for (let i = 0; i < n; i++)
    CASES[`${method}: ${i} of ${n} arguments (all undefined)`] = (s) => loose(s)[method]!(...Array<undefined>(i).fill(undefined));

/** The class and name of what `p` rejects with (and a TypeError's code); 'resolved' when it does not. */
async function result(p: () => Promise<unknown>): Promise<string> {
  try {
    await p();
    return 'resolved';
  } catch (err) {
    const e = err as Error & { code?: unknown };
    return `${e.constructor.name}/${e.name}${e instanceof TypeError ? `/${String(e.code)}` : ''}`;
  }
}

const reference = await keysOf(nodeSubtle);

for (const [label, ours] of [
  ['the default driver', subtle],
  ['software', createSubtle({ driver: 'software' })],
] as const) {
  describe(`webcrypto misuse on ${label}: as node's crypto.subtle`, () => {
    const keys = keysOf(ours);
    for (const [name, fn] of Object.entries(CASES)) {
      it(name, async () => {
        const expected = await result(() => fn(nodeSubtle, reference));
        const actual = await result(async () => fn(ours, await keys));
        assert.equal(actual, expected);
      });
    }
  });
}
