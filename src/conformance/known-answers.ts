/**
 * Published known-answer vectors: the algorithms Wycheproof has no file for (hashes, ECB, CTR)
 * and one or two per algorithm it does, each from the standard or RFC named in its `source`.
 * `kcrypto selftest` runs them on every usable driver; the conformance kit's `vectors` check
 * runs those of the algorithm it checks.
 */
import { Buffer } from 'node:buffer';

import type { SessionSpec } from '../api/open-session.js';

/** A published known-answer vector; what to do with it follows from the session it opens. */
export interface KnownAnswer {
  /** Kernel algorithm name the vector exercises. */
  readonly kernelName: string;
  /** The publication and the example in it. */
  readonly source: string;
  readonly spec: SessionSpec;
  /** Hex. */
  readonly input: string;
  /** Hex. */
  readonly iv?: string;
  /** Hex: digest, ciphertext, or ciphertext ‖ tag. */
  readonly expect: string;
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** FIPS 180-2 appendix examples: "abc", the 448-bit and the 896-bit two-block messages. */
const ABC = ascii('abc');
const MSG448 = ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
const MSG896 = ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu');

/** SP 800-38A appendix F: the four plaintext blocks every mode example encrypts. */
const SP800_38A_PLAINTEXT =
  '6bc1bee22e409f96e93d7e117393172a' +
  'ae2d8a571e03ac9c9eb76fac45af8e51' +
  '30c81c46a35ce411e5fbc1191a0a52ef' +
  'f69f2445df4f9b17ad2b417be66c3710';
const SP800_38A_KEY128 = '2b7e151628aed2a6abf7158809cf4f3c';
const SP800_38A_KEY256 = '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4';
const SP800_38A_IV = '000102030405060708090a0b0c0d0e0f';
const SP800_38A_COUNTER = 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff';

function digest(hash: string, source: string, input: string, expect: string): KnownAnswer {
  return { kernelName: hash, source, spec: { hash }, input, expect };
}

function aes(mode: 'cbc' | 'ctr' | 'ecb', source: string, key: string, input: string, expect: string, iv?: string): KnownAnswer {
  return {
    kernelName: `${mode}(aes)`,
    source,
    spec: { cipher: `aes-${key.length * 4}-${mode}`, key: hex(key) },
    input,
    ...(iv === undefined ? {} : { iv }),
    expect,
  };
}

/** Every known-answer vector, in the order `kcrypto selftest` prints them. */
export const KNOWN_ANSWERS: readonly KnownAnswer[] = [
  digest('sha256', 'FIPS 180-2 "abc"', ABC, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'),
  digest('sha256', 'FIPS 180-2 448-bit message', MSG448, '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'),
  digest('sha1', 'FIPS 180-2 "abc"', ABC, 'a9993e364706816aba3e25717850c26c9cd0d89d'),
  digest('sha1', 'FIPS 180-2 448-bit message', MSG448, '84983e441c3bd26ebaae4aa1f95129e5e54670f1'),
  digest('sha224', 'FIPS 180-2 change notice "abc"', ABC, '23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7'),
  digest('sha224', 'FIPS 180-2 change notice 448-bit message', MSG448, '75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525'),
  digest(
    'sha384',
    'FIPS 180-2 "abc"',
    ABC,
    'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
  ),
  digest(
    'sha384',
    'FIPS 180-2 896-bit message',
    MSG896,
    '09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039',
  ),
  digest(
    'sha512',
    'FIPS 180-2 "abc"',
    ABC,
    'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
  ),
  digest(
    'sha512',
    'FIPS 180-2 896-bit message',
    MSG896,
    '8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909',
  ),
  digest(
    'sha3-256',
    'FIPS 202 example values, SHA3-256 0-bit message',
    '',
    'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a',
  ),
  digest(
    'sha3-256',
    'FIPS 202 example values, SHA3-256 1600-bit message (0xa3 × 200)',
    'a3'.repeat(200),
    '79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787',
  ),
  {
    kernelName: 'hmac(sha256)',
    source: 'RFC 4231 test case 2',
    spec: { hmac: 'sha256', key: Buffer.from('Jefe') },
    input: ascii('what do ya want for nothing?'),
    expect: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  },
  {
    kernelName: 'cmac(aes)',
    source: 'RFC 4493 example 2',
    spec: { cmac: 'aes', key: hex(SP800_38A_KEY128) },
    input: '6bc1bee22e409f96e93d7e117393172a',
    expect: '070a16b46b4d4144f79bdd9dd04a287c',
  },
  aes(
    'cbc',
    'NIST SP 800-38A F.2.1 CBC-AES128.Encrypt',
    SP800_38A_KEY128,
    SP800_38A_PLAINTEXT,
    '7649abac8119b246cee98e9b12e9197d' +
      '5086cb9b507219ee95db113a917678b2' +
      '73bed6b8e3c1743b7116e69e22229516' +
      '3ff1caa1681fac09120eca307586e1a7',
    SP800_38A_IV,
  ),
  aes(
    'cbc',
    'NIST SP 800-38A F.2.5 CBC-AES256.Encrypt',
    SP800_38A_KEY256,
    SP800_38A_PLAINTEXT,
    'f58c4c04d6e5f1ba779eabfb5f7bfbd6' +
      '9cfc4e967edb808d679f777bc6702c7d' +
      '39f23369a9d9bacfa530e26304231461' +
      'b2eb05e2c39be9fcda6c19078c6a9d1b',
    SP800_38A_IV,
  ),
  aes(
    'ecb',
    'FIPS 197 C.1 AES-128',
    '000102030405060708090a0b0c0d0e0f',
    '00112233445566778899aabbccddeeff',
    '69c4e0d86a7b0430d8cdb78070b4c55a',
  ),
  aes(
    'ecb',
    'FIPS 197 C.3 AES-256',
    '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    '00112233445566778899aabbccddeeff',
    '8ea2b7ca516745bfeafc49904b496089',
  ),
  aes(
    'ecb',
    'NIST SP 800-38A F.1.1 ECB-AES128.Encrypt',
    SP800_38A_KEY128,
    SP800_38A_PLAINTEXT,
    '3ad77bb40d7a3660a89ecaf32466ef97' +
      'f5d3d58503b9699de785895a96fdbaaf' +
      '43b1cd7f598ece23881b00e3ed030688' +
      '7b0c785e27e8ad3f8223207104725dd4',
  ),
  aes(
    'ecb',
    'NIST SP 800-38A F.1.5 ECB-AES256.Encrypt',
    SP800_38A_KEY256,
    SP800_38A_PLAINTEXT,
    'f3eed1bdb5d2a03c064b5a7e3db181f8' +
      '591ccb10d410ed26dc5ba74a31362870' +
      'b6ed21b99ca6f4f9f153e7b1beafed1d' +
      '23304b7a39f9f3ff067d8d8f9e24ecc7',
  ),
  aes(
    'ctr',
    'NIST SP 800-38A F.5.1 CTR-AES128.Encrypt',
    SP800_38A_KEY128,
    SP800_38A_PLAINTEXT,
    '874d6191b620e3261bef6864990db6ce' +
      '9806f66b7970fdff8617187bb9fffdff' +
      '5ae4df3edbd5d35e5b4f09020db03eab' +
      '1e031dda2fbe03d1792170a0f3009cee',
    SP800_38A_COUNTER,
  ),
  aes(
    'ctr',
    'NIST SP 800-38A F.5.5 CTR-AES256.Encrypt',
    SP800_38A_KEY256,
    SP800_38A_PLAINTEXT,
    '601ec313775789a5b7a7f504bbf3d228' +
      'f443e3ca4d62b59aca84e990cacaf5c5' +
      '2b0930daa23de94ce87017ba2d84988d' +
      'dfc9c58db67aada613c2dd08457941a6',
    SP800_38A_COUNTER,
  ),
  {
    kernelName: 'gcm(aes)',
    source: 'GCM spec (McGrew–Viega) test case 2',
    spec: { cipher: 'aes-128-gcm', key: hex('00000000000000000000000000000000') },
    input: '00000000000000000000000000000000',
    iv: '000000000000000000000000',
    expect: '0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf',
  },
];

/** The known-answer vectors of one kernel algorithm. */
export function knownAnswersOf(kernelName: string): KnownAnswer[] {
  return KNOWN_ANSWERS.filter((k) => k.kernelName === kernelName);
}
