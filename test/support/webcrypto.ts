/**
 * The differential core of the WebCrypto tests: kcrypto's subtle against Node's
 * `crypto.subtle`, same inputs, byte-identical outputs, for every algorithm and key length at
 * sizes from 0 to 64 KiB + 3, with random data, keys, IVs, counters and AAD. Shared by the unit
 * tests (software, openssl, the default driver) and the lab (kernel drivers).
 */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';

import { framework } from '../../src/index.js';

/** Node's own SubtleCrypto: the reference. */
export const nodeSubtle = webcrypto.subtle;

/** What the tests call on either implementation (method shorthand: parameters compare loosely). */
export interface SubtleLike {
  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer>;
  encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer>;
  decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer>;
  sign(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer>;
  verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean>;
  importKey(format: unknown, keyData: unknown, algorithm: unknown, extractable: boolean, usages: unknown): Promise<unknown>;
  exportKey(format: unknown, key: unknown): Promise<unknown>;
  generateKey(algorithm: unknown, extractable: boolean, usages: unknown): Promise<unknown>;
}

export const SIZES: readonly number[] = [0, 1, 15, 16, 17, 1000, 65536 + 3];
export const HASH_NAMES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const;
export const AES_NAMES = ['AES-CBC', 'AES-CTR', 'AES-GCM'] as const;
export const AES_BITS: readonly number[] = [128, 192, 256];
export const GCM_TAG_BITS: readonly number[] = [128, 96, 32, 64, 104, 112, 120];
export type AesName = (typeof AES_NAMES)[number];

const bytes = (b: ArrayBuffer): Buffer => Buffer.from(b);

/** The error `p` rejects with, as its class name and `name` ('TypeError/TypeError', 'DOMException/OperationError'); 'resolved' when it does not. */
export async function outcome(p: () => Promise<unknown>): Promise<string> {
  try {
    await p();
    return 'resolved';
  } catch (err) {
    const e = err as Error;
    return `${e.constructor.name}/${e.name}`;
  }
}

/** Requests the framework counted on drivers whose name starts with `prefix`. */
export function requestsOn(prefix: string): number {
  return framework
    .stats()
    .filter((d) => d.name.startsWith(prefix))
    .reduce((n, d) => n + d.requests, 0);
}

/** A key imported from the same bytes into both implementations. */
async function keyPair(ours: SubtleLike, raw: Uint8Array, algorithm: unknown, usages: string[]): Promise<[unknown, unknown]> {
  return [
    await ours.importKey('raw', raw, algorithm, true, usages),
    await nodeSubtle.importKey('raw', raw, algorithm as never, true, usages as never),
  ];
}

/** AES parameters for a message of `size`: random IV, counter near its wrap point, AAD and tag lengths in turn. */
export function aesParams(name: AesName, i: number): Record<string, unknown> {
  if (name === 'AES-CBC') return { name, iv: randomBytes(16) };
  if (name === 'AES-CTR') {
    // The low `length` bits a few blocks short of wrapping: long messages cross the wrap (and
    // 2^length blocks still hold the longest message, 4097 blocks).
    const length = [128, 64, 32, 20, 16, 14, 13][i % 7]!;
    const counter = randomBytes(16);
    const low = BigInt(`0x${counter.toString('hex')}`) | ((1n << BigInt(length)) - 1n);
    const near = low - BigInt(i % 3);
    return { name, counter: Buffer.from(near.toString(16).padStart(32, '0'), 'hex'), length };
  }
  return {
    name,
    iv: randomBytes(12),
    additionalData: randomBytes([0, 1, 16, 20, 64, 13][i % 6]!),
    tagLength: GCM_TAG_BITS[i % GCM_TAG_BITS.length],
  };
}

/** Encrypts with both, compares, and decrypts each other's output. Returns the ciphertext. */
export async function sameCipher(
  ours: SubtleLike,
  keys: [unknown, unknown],
  params: Record<string, unknown>,
  data: Uint8Array,
  what: string,
): Promise<Buffer> {
  const mine = bytes(await ours.encrypt(params, keys[0], data));
  const theirs = bytes(await nodeSubtle.encrypt(params as never, keys[1] as never, data));
  assert.deepEqual(mine, theirs, `${what}: ciphertext differs from node's`);
  assert.deepEqual(bytes(await ours.decrypt(params, keys[0], theirs)), Buffer.from(data), `${what}: decrypt of node's ciphertext`);
  return mine;
}

/** The subtle under test, and why its cases cannot run (a skip reason), if they cannot. */
export interface Subject {
  label: string;
  subtle: SubtleLike;
  skip?: string | undefined;
  /** Algorithms its driver does not serve: those are asserted to be a NotSupportedError instead. */
  unserved?: readonly string[];
  /** The framework driver name prefix its requests must be counted on (e.g. 'afalg:'). */
  countedOn?: string;
}

const opts = (s: Subject): { skip?: string } => (s.skip === undefined ? {} : { skip: s.skip });

/** Asserts that `fn` made requests on the subject's driver, when the subject names one. */
async function counted(s: Subject, fn: () => Promise<void>): Promise<void> {
  const before = s.countedOn === undefined ? 0 : requestsOn(s.countedOn);
  await fn();
  if (s.countedOn !== undefined) assert.ok(requestsOn(s.countedOn) > before, `no request was counted on ${s.countedOn}`);
}

/** Declares the digest differential tests of `s`. */
export function describeDigest(s: Subject): void {
  describe(`webcrypto digest on ${s.label}`, () => {
    for (const hash of HASH_NAMES) {
      it(`${hash}: sizes ${SIZES.join(', ')}, one-shot and streamed, as node's`, opts(s), () =>
        counted(s, async () => {
          for (const size of SIZES) {
            const data = randomBytes(size);
            const expected = bytes(await nodeSubtle.digest(hash, data));
            assert.deepEqual(bytes(await s.subtle.digest(hash, data)), expected, `${hash} of ${size} bytes`);
            const cut = [Math.floor(size / 3), Math.floor((2 * size) / 3)];
            const parts = [data.subarray(0, cut[0]), data.subarray(cut[0], cut[1]), data.subarray(cut[1])];
            assert.deepEqual(
              bytes(await s.subtle.digest({ name: hash }, parts)),
              expected,
              `${hash} of ${size} bytes in 3 chunks (sync iterable)`,
            );
          }
        }),
      );
    }
  });
}

/** Declares the AES differential tests of `s` for `names`. */
export function describeAes(s: Subject, names: readonly AesName[] = AES_NAMES): void {
  for (const name of names) {
    describe(`webcrypto ${name} on ${s.label}`, () => {
      if (s.unserved?.includes(name)) {
        it(`${name}: NotSupportedError (the driver does not serve it)`, opts(s), async () => {
          const [k] = await keyPair(s.subtle, randomBytes(16), name, ['encrypt']);
          assert.equal(await outcome(() => s.subtle.encrypt(aesParams(name, 0), k, randomBytes(16))), 'DOMException/NotSupportedError');
        });
        return;
      }
      for (const bits of AES_BITS) {
        it(`${name}-${bits}: sizes ${SIZES.join(', ')}, random data, byte-identical to node's both ways`, opts(s), () =>
          counted(s, async () => {
            for (const [i, size] of SIZES.entries()) {
              const keys = await keyPair(s.subtle, randomBytes(bits / 8), name, ['encrypt', 'decrypt']);
              const params = aesParams(name, i);
              await sameCipher(
                s.subtle,
                keys,
                params,
                randomBytes(size),
                `${name}-${bits}, ${size} bytes, ${JSON.stringify({ ...params, iv: undefined, counter: undefined, additionalData: undefined })}`,
              );
            }
          }),
        );
      }
      if (name === 'AES-GCM') describeGcmFailures(s);
      if (name === 'AES-CBC') describeCbcPadding(s);
      if (name === 'AES-CTR') describeCtrWrap(s);
    });
  }
}

function describeGcmFailures(s: Subject): void {
  it('AES-GCM: a changed tag, ciphertext or AAD is an OperationError, as node gives', opts(s), async () => {
    for (const [i, size] of SIZES.entries()) {
      const keys = await keyPair(s.subtle, randomBytes(16), 'AES-GCM', ['encrypt', 'decrypt']);
      const params = aesParams('AES-GCM', i);
      const ct = await sameCipher(s.subtle, keys, params, randomBytes(size), `GCM ${size}`);
      for (const at of [ct.length - 1, 0]) {
        const bad = Buffer.from(ct);
        bad[at]! ^= 1;
        for (const sub of [s.subtle, nodeSubtle as unknown as SubtleLike])
          assert.equal(
            await outcome(() => sub.decrypt(params, sub === s.subtle ? keys[0] : keys[1], bad)),
            'DOMException/OperationError',
            `byte ${at} of ${size}`,
          );
      }
      const otherAad = { ...params, additionalData: randomBytes(3) };
      assert.equal(await outcome(() => s.subtle.decrypt(otherAad, keys[0], ct)), 'DOMException/OperationError');
      assert.equal(await outcome(() => nodeSubtle.decrypt(otherAad as never, keys[1] as never, ct)), 'DOMException/OperationError');
    }
  });
  it('AES-GCM: IVs other than 96 bits (1, 8, 11 bytes refused; 13, 16, 60 served), as node gives', opts(s), async () => {
    for (const ivLength of [1, 8, 11, 13, 16, 60]) {
      const keys = await keyPair(s.subtle, randomBytes(32), 'AES-GCM', ['encrypt', 'decrypt']);
      const params = { name: 'AES-GCM', iv: randomBytes(ivLength), additionalData: randomBytes(5) };
      const data = randomBytes(1000);
      const theirs = await outcome(() => nodeSubtle.encrypt(params, keys[1] as never, data));
      assert.equal(await outcome(() => s.subtle.encrypt(params, keys[0], data)), theirs, `IV of ${ivLength} bytes`);
      if (theirs === 'resolved') await sameCipher(s.subtle, keys, params, data, `IV of ${ivLength} bytes`);
      else
        assert.equal(await outcome(() => s.subtle.decrypt(params, keys[0], randomBytes(32))), theirs, `decrypt, IV of ${ivLength} bytes`);
    }
  });
}

function describeCbcPadding(s: Subject): void {
  it(
    'AES-CBC: bad padding (0, 17, inconsistent bytes) and lengths not a multiple of 16 are an OperationError, as node gives',
    opts(s),
    async () => {
      const raw = randomBytes(16);
      const iv = randomBytes(16);
      const keys = await keyPair(s.subtle, raw, 'AES-CBC', ['decrypt']);
      const lastBlocks = [Buffer.alloc(16, 0), Buffer.alloc(16, 17), Buffer.concat([Buffer.alloc(14, 1), Buffer.from([3, 2])])];
      for (const last of lastBlocks) {
        const c = createCipheriv('aes-128-cbc', raw, iv).setAutoPadding(false);
        const ct = Buffer.concat([c.update(Buffer.concat([randomBytes(16), last])), c.final()]);
        assert.equal(await outcome(() => s.subtle.decrypt({ name: 'AES-CBC', iv }, keys[0], ct)), 'DOMException/OperationError');
        assert.equal(await outcome(() => nodeSubtle.decrypt({ name: 'AES-CBC', iv }, keys[1] as never, ct)), 'DOMException/OperationError');
      }
      for (const size of [0, 15, 17]) {
        const ct = randomBytes(size);
        assert.equal(
          await outcome(() => s.subtle.decrypt({ name: 'AES-CBC', iv }, keys[0], ct)),
          await outcome(() => nodeSubtle.decrypt({ name: 'AES-CBC', iv }, keys[1] as never, ct)),
          `${size} bytes`,
        );
      }
    },
  );
}

function describeCtrWrap(s: Subject): void {
  it('AES-CTR: a counter that wraps within the message (length 1–128), and one that would repeat, as node gives', opts(s), () =>
    counted(s, async () => {
      for (const length of [1, 2, 3, 8, 31, 32, 33, 64, 127, 128]) {
        for (const before of [0, 1, 2]) {
          const keys = await keyPair(s.subtle, randomBytes(24), 'AES-CTR', ['encrypt', 'decrypt']);
          const base = BigInt(`0x${randomBytes(16).toString('hex')}`);
          const max = (1n << BigInt(length)) - 1n;
          const low = max - BigInt(Math.min(before, Number(max > 2n ? 2n : max)));
          const counter = Buffer.from(((base & ~max) | low).toString(16).padStart(32, '0'), 'hex');
          const blocks = length >= 3 ? 5 : 2 ** length;
          const params = { name: 'AES-CTR', counter, length };
          await sameCipher(s.subtle, keys, params, randomBytes(blocks * 16 - 5), `length ${length}, ${before} blocks before the wrap`);
          if (length <= 3) {
            const over = randomBytes(2 ** length * 16 + 1);
            assert.equal(await outcome(() => s.subtle.encrypt(params, keys[0], over)), 'DOMException/OperationError');
            assert.equal(await outcome(() => nodeSubtle.encrypt(params as never, keys[1] as never, over)), 'DOMException/OperationError');
          }
        }
      }
    }),
  );
}

/** Declares the HMAC differential tests of `s`. */
export function describeHmac(s: Subject): void {
  describe(`webcrypto HMAC on ${s.label}`, () => {
    for (const hash of HASH_NAMES) {
      it(
        `HMAC ${hash}: keys of 1, 16, the block size and 200 bytes, sizes ${SIZES.join(', ')}; verify true, false for a changed or short signature`,
        opts(s),
        () =>
          counted(s, async () => {
            const block = hash === 'SHA-384' || hash === 'SHA-512' ? 128 : 64;
            for (const keyLength of [1, 16, block, 200]) {
              const algorithm = { name: 'HMAC', hash };
              const keys = await keyPair(s.subtle, randomBytes(keyLength), algorithm, ['sign', 'verify']);
              for (const size of SIZES) {
                const data = randomBytes(size);
                const sig = bytes(await s.subtle.sign('HMAC', keys[0], data));
                assert.deepEqual(
                  sig,
                  bytes(await nodeSubtle.sign('HMAC', keys[1] as never, data)),
                  `${hash}, key ${keyLength}, ${size} bytes`,
                );
                assert.equal(await s.subtle.verify('HMAC', keys[0], sig, data), true);
                const bad = Buffer.from(sig);
                bad[size % bad.length]! ^= 0x80;
                for (const wrong of [bad, sig.subarray(0, sig.length - 1), Buffer.alloc(0)]) {
                  assert.equal(await s.subtle.verify('HMAC', keys[0], wrong, data), false);
                  assert.equal(await nodeSubtle.verify('HMAC', keys[1] as never, wrong, data), false);
                }
              }
            }
          }),
      );
    }
  });
}

/** The whole differential core for one subject. */
export function describeDifferential(s: Subject): void {
  describeDigest(s);
  describeAes(s);
  describeHmac(s);
}
