/**
 * The `vectors` check: known answers. The algorithm's Wycheproof file (every valid vector
 * exact, every tampered tag refused with EBADMSG, every parameter the interface cannot express
 * refused as node:crypto refuses it and counted `inexpressible`), then the published known
 * answers of the algorithm (FIPS 180/197/202, SP 800-38A, RFCs: src/conformance/known-answers.ts),
 * which are all the legacy algorithms without a Wycheproof file have.
 */
import { Buffer } from 'node:buffer';
import { AeadSession, CipherSession, HashSession } from '../../api/session.js';
import type { Check, CheckContext } from '../check.js';
import { assertSameBytes, unhex } from '../bytes.js';
import type { Family } from '../families.js';
import { knownAnswersOf, type KnownAnswer } from '../known-answers.js';
import { eachTest, loadWycheproof } from '../vectors.js';
import { Case, runCase } from './vector-cases.js';
import { aeadVectors, cbcPkcs5Vectors, macVectors, xtsVectors } from './wycheproof-runs.js';

/** The Wycheproof file of each algorithm that has one. */
export const WYCHEPROOF_FILES: Readonly<Record<string, string>> = {
  'gcm(aes)': 'aes_gcm_test.json',
  'ccm(aes)': 'aes_ccm_test.json',
  'rfc7539(chacha20,poly1305)': 'chacha20_poly1305_test.json',
  'cbc(aes)': 'aes_cbc_pkcs5_test.json',
  'xts(aes)': 'aes_xts_test.json',
  'cmac(aes)': 'aes_cmac_test.json',
  'hmac(sha1)': 'hmac_sha1_test.json',
  'hmac(sha224)': 'hmac_sha224_test.json',
  'hmac(sha256)': 'hmac_sha256_test.json',
  'hmac(sha384)': 'hmac_sha384_test.json',
  'hmac(sha512)': 'hmac_sha512_test.json',
  'hmac(sha3-256)': 'hmac_sha3_256_test.json',
};

/**
 * Algorithms with neither a Wycheproof file nor a published known answer, and why. The
 * kernel's authenc is HMAC over AAD ‖ ciphertext with the keys in an rtattr blob: the
 * published AES-CBC-HMAC-SHA2 vectors (draft-mcgrew-aead-aes-cbc-hmac-sha2) MAC the AAD's
 * length too and derive both keys from one, so none of them is an answer authenc must give.
 */
const NO_VECTORS: Readonly<Record<string, string>> = {
  'authenc(hmac(sha256),cbc(aes))':
    'no published known answer for the kernel authenc construction (the AES-CBC-HMAC-SHA2 drafts MAC the AAD length too); the differential check covers it',
};

/** The Wycheproof vectors of the family, ready to run: how many, and the run. */
interface WycheproofPlan {
  count: number;
  run(onStep: () => void): Promise<void>;
}

/**
 * Reads the family's file, by schema. Both depths run every vector: on the host the whole
 * Wycheproof set takes about half a second per driver (software, openssl; the largest file,
 * CCM's 552 vectors, 0.2 s), and a sample would drop the vectors (each tampering of a tag,
 * each group's key, IV and tag sizes) that are the point of the check.
 */
function planWycheproof(ctx: CheckContext, f: Family, file: string): WycheproofPlan {
  if (f.kind === 'aead') {
    const v = loadWycheproof(file, 'aead_test_schema_v1.json');
    const picked = [...eachTest(v)];
    return { count: picked.length, run: (step) => aeadVectors(ctx, f, v, picked, step) };
  }
  if (f.kind === 'mac') {
    const v = loadWycheproof(file, 'mac_test_schema_v1.json');
    const picked = [...eachTest(v)];
    return { count: picked.length, run: (step) => macVectors(ctx, f, v, picked, step) };
  }
  if (f.kind === 'cipher' && (f.mode === 'cbc' || f.mode === 'xts')) {
    const v = loadWycheproof(file, 'ind_cpa_test_schema_v1.json');
    const picked = [...eachTest(v)];
    const runner = f.mode === 'cbc' ? cbcPkcs5Vectors : xtsVectors;
    return { count: picked.length, run: (step) => runner(ctx, f, v, picked, step) };
  }
  throw new Error(`${f.kernelName}: no runner for ${file}`);
}

/** One published known answer: the exact output, and (ciphers, AEADs) the input back. */
async function runKnownAnswer(ctx: CheckContext, f: Family, kat: KnownAnswer): Promise<void> {
  const input = unhex(kat.input);
  const expect = unhex(kat.expect);
  const iv = kat.iv === undefined ? undefined : unhex(kat.iv);
  const key = 'key' in kat.spec && kat.spec.key !== undefined ? Buffer.from(kat.spec.key as Uint8Array).toString('hex') : undefined;
  const c = new Case(f.kernelName, { ...(key === undefined ? {} : { key }), ...(kat.iv === undefined ? {} : { iv: kat.iv }) });
  await runCase(ctx, { name: `known answer (${kat.source})` }, c, async () => {
    if (f.kind === 'hash' || f.kind === 'mac') {
      const s = await ctx.open(HashSession, kat.spec);
      try {
        c.request('digest', input, expect);
        assertSameBytes(c.gave(await s.digest(input)), expect, 'digest');
      } finally {
        await s.close();
      }
    } else if (f.kind === 'cipher') {
      const s = await ctx.open(CipherSession, kat.spec);
      try {
        const opts = iv ? { iv } : {};
        c.request('encrypt', input, expect);
        assertSameBytes(c.gave((await s.encrypt(input, opts)).ciphertext), expect, 'ciphertext');
        c.request('decrypt', expect, input);
        assertSameBytes(c.gave(await s.decrypt(expect, opts)), input, 'decrypted');
      } finally {
        await s.close();
      }
    } else {
      const s = await ctx.open(AeadSession, kat.spec);
      try {
        const ivBytes = iv ?? Buffer.alloc(0);
        const ct = expect.subarray(0, input.length);
        const tag = expect.subarray(input.length);
        c.request('encrypt', input, expect);
        const out = await s.encrypt(input, { iv: ivBytes });
        assertSameBytes(c.gave(Buffer.concat([out.ciphertext, out.tag])), expect, 'ciphertext ‖ tag');
        c.request('decrypt', ct, input, { tag: tag.toString('hex') });
        assertSameBytes(c.gave(await s.decrypt(ct, { iv: ivBytes, tag })), input, 'decrypted');
      } finally {
        await s.close();
      }
    }
    return 'known answer';
  });
}

/** The `vectors` check. */
export const vectorsCheck: Check = {
  id: 'vectors',
  title: 'Known answers: Wycheproof vectors (valid exact, tampered tags refused with EBADMSG) and published FIPS/NIST/RFC vectors',
  notApplicable(f: Family): string | undefined {
    if (WYCHEPROOF_FILES[f.kernelName] === undefined && knownAnswersOf(f.kernelName).length === 0)
      return NO_VECTORS[f.kernelName] ?? `no known-answer vectors for ${f.kernelName}`;
    return undefined;
  },
  async run(ctx: CheckContext): Promise<void> {
    const f = ctx.family;
    const kats = knownAnswersOf(f.kernelName);
    const file = WYCHEPROOF_FILES[f.kernelName];
    const plan = file === undefined ? undefined : planWycheproof(ctx, f, file);
    const total = (plan?.count ?? 0) + kats.length;
    let done = 0;
    const onStep = (): void => ctx.progress(++done, total);
    await plan?.run(onStep);
    for (const kat of kats) {
      await runKnownAnswer(ctx, f, kat);
      onStep();
    }
  },
};
