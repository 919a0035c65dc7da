/**
 * `kcrypto selftest`: published known-answer vectors through every usable driver.
 */
import { Buffer } from 'node:buffer';
import { drivers } from '../api/drivers.js';
import { openSession, type SessionSpec } from '../api/open-session.js';
import type { Session } from '../api/session.js';

/** A published known-answer vector; what to do with it follows from the session it opens. */
interface Kat {
  /** Kernel algorithm name the vector exercises. */
  kernelName: string;
  source: string;
  spec: SessionSpec;
  /** Hex. */
  input: string;
  iv?: string;
  /** Hex: digest, ciphertext, or ciphertext ‖ tag. */
  expect: string;
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

const KATS: readonly Kat[] = [
  {
    kernelName: 'sha256',
    source: 'FIPS 180-2 "abc"',
    spec: { hash: 'sha256' },
    input: '616263',
    expect: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  },
  {
    kernelName: 'sha1',
    source: 'FIPS 180-2 "abc"',
    spec: { hash: 'sha1' },
    input: '616263',
    expect: 'a9993e364706816aba3e25717850c26c9cd0d89d',
  },
  {
    kernelName: 'hmac(sha256)',
    source: 'RFC 4231 test case 2',
    spec: { hmac: 'sha256', key: Buffer.from('Jefe') },
    input: Buffer.from('what do ya want for nothing?').toString('hex'),
    expect: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  },
  {
    kernelName: 'cmac(aes)',
    source: 'RFC 4493 example 2',
    spec: { cmac: 'aes', key: hex('2b7e151628aed2a6abf7158809cf4f3c') },
    input: '6bc1bee22e409f96e93d7e117393172a',
    expect: '070a16b46b4d4144f79bdd9dd04a287c',
  },
  {
    kernelName: 'cbc(aes)',
    source: 'NIST SP 800-38A F.2.1',
    spec: { cipher: 'aes-128-cbc', key: hex('2b7e151628aed2a6abf7158809cf4f3c') },
    input: '6bc1bee22e409f96e93d7e117393172a',
    iv: '000102030405060708090a0b0c0d0e0f',
    expect: '7649abac8119b246cee98e9b12e9197d',
  },
  {
    kernelName: 'ecb(aes)',
    source: 'FIPS 197 C.1',
    spec: { cipher: 'aes-128-ecb', key: hex('000102030405060708090a0b0c0d0e0f') },
    input: '00112233445566778899aabbccddeeff',
    expect: '69c4e0d86a7b0430d8cdb78070b4c55a',
  },
  {
    kernelName: 'ctr(aes)',
    source: 'NIST SP 800-38A F.5.1',
    spec: { cipher: 'aes-128-ctr', key: hex('2b7e151628aed2a6abf7158809cf4f3c') },
    input: '6bc1bee22e409f96e93d7e117393172a',
    iv: 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
    expect: '874d6191b620e3261bef6864990db6ce',
  },
  {
    kernelName: 'gcm(aes)',
    source: 'GCM spec (McGrew–Viega) test case 2',
    spec: { cipher: 'aes-128-gcm', key: hex('00000000000000000000000000000000') },
    input: '00000000000000000000000000000000',
    iv: '000000000000000000000000',
    expect: '0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf',
  },
];

/** The vector's output on an open session of whatever kind it opened. */
async function compute(session: Session, kat: Kat): Promise<Buffer> {
  const input = hex(kat.input);
  const iv = kat.iv === undefined ? undefined : hex(kat.iv);
  switch (session.kind) {
    case 'hash':
      return session.digest(input);
    case 'cipher':
      return (await session.encrypt(input, iv ? { iv } : {})).ciphertext;
    case 'aead': {
      const { ciphertext, tag } = await session.encrypt(input, { iv: iv ?? Buffer.alloc(0) });
      return Buffer.concat([ciphertext, tag]);
    }
    case 'rng':
      throw new Error('no known-answer test for a random-number generator');
  }
}

/**
 * `code message` of a failure: a KCryptoError's errno name or the `code` of a misuse error
 * (`ERR_CRYPTO_INVALID_KEYLEN`), so a vector the catalog refuses reads apart from a driver's refusal.
 */
export function failure(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string')
    return `${code} ${err.message}${err.name === 'KCryptoError' ? '' : ` (${err.name})`}`;
  return String(err);
}

/** Runs the known-answer tests. Exit code 1 if any vector fails. */
export async function selftestCommand(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const only = argv[argv.indexOf('--driver') + 1];
  const list = (await drivers()).filter(
    (d) => d.available && (argv.includes('--driver') ? d.name === only || d.kernelDriver === only : true),
  );
  let pass = 0;
  let fail = 0;
  for (const d of list) {
    const kats = d.interface === 'software' ? KATS : KATS.filter((k) => d.algorithms.includes(k.kernelName));
    for (const kat of kats) {
      let session;
      try {
        session = await openSession(kat.spec, { driver: d.name });
        const got = (await compute(session, kat)).toString('hex');
        const ok = got === kat.expect;
        if (ok) pass++;
        else fail++;
        out(`${ok ? 'ok  ' : 'FAIL'} ${d.name} ${kat.kernelName} (${kat.source})${ok ? '' : ` got ${got}`}`);
      } catch (err) {
        fail++;
        out(`FAIL ${d.name} ${kat.kernelName}: ${failure(err)}`);
      } finally {
        await session?.close();
      }
    }
  }
  out(`selftest: ${pass} passed, ${fail} failed`);
  return fail === 0 ? 0 : 1;
}
