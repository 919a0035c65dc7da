/**
 * `kcrypto selftest`: published known-answer vectors through every usable driver.
 */
import { Buffer } from 'node:buffer';
import { drivers } from '../api/drivers.js';
import { openSession } from '../api/open-session.js';
import type { Session } from '../api/session.js';
import { KNOWN_ANSWERS as KATS, type KnownAnswer as Kat } from '../conformance/known-answers.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

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
