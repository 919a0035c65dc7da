/**
 * The ways the differential check runs one case on a driver and compares it with node:crypto:
 * whole requests of an `openSession()` session, the same data split through kcrypto's
 * node:crypto drop-in (streams fed in uneven pieces), digests in pieces and through update()
 * and final(), and cipher requests in place through the framework. Each probe takes a
 * {@link Trial} so that the minimizer can rerun it on smaller inputs.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv as nodeCipheriv } from 'node:crypto';
import type { Transform } from 'node:stream';

import { idsOf } from '../../algorithms/crypto-ids.js';
import { framework } from '../../api/framework-instance.js';
import { createCipheriv, createDecipheriv } from '../../api/node/index.js';
import { AeadSession, CipherSession, HashSession, type Session } from '../../api/session.js';
import type { SessionSpec } from '../../api/open-session.js';
import { errnoName } from '../../errno.js';
import * as C from '../../framework/constants.js';
import { CryptoDesc, CryptoOp } from '../../framework/structures.js';
import type { Reproducer, SessionClass } from '../check.js';
import { assertSameBytes } from '../bytes.js';
import { describeError } from '../expect.js';
import {
  nodeCipherName,
  refAead,
  refCipher,
  refDigest,
  specOf,
  type AeadFamily,
  type CipherFamily,
  type HashFamily,
  type MacFamily,
} from '../families.js';
import type { Trial } from '../minimize.js';

/** A driver's answer that differs from the reference's. */
export interface Mismatch {
  operation: Reproducer['operation'];
  /** Where and how they differ. */
  message: string;
  /** The input of the failing operation: the plaintext, or the reference's ciphertext for a decryption. */
  input: Buffer;
  expected?: Buffer;
  /** The driver's output, or its error. */
  got: Buffer | string;
  /** The tag a decryption was given. */
  tag?: Buffer;
}

/**
 * A probe's verdict: undefined when the driver agrees, a string when the case could not be run
 * for a reason that is the driver's to state (counted under that outcome, never a silent
 * pass), or the mismatch.
 */
export type Verdict = Mismatch | string | undefined;

/** One way of running a case. */
export interface Probe {
  /** What is run, for messages and as the outcome counted when it passes. */
  readonly what: string;
  readonly tagLength?: number;
  /** Runs the case; a throw is the reference's or the harness's, not the driver's. */
  run(t: Trial): Promise<Verdict>;
}

/** Opens a session on the driver under test (and the probe's execution policy). */
export type Opener = <S extends Session>(kind: SessionClass<S>, spec: SessionSpec) => Promise<S>;

/** The mismatch message of two outputs, or undefined when they are equal. */
function difference(got: Uint8Array, expected: Uint8Array, what: string): string | undefined {
  try {
    assertSameBytes(got, expected, what);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Runs `body` (the driver's part of a probe), turning a driver error into a mismatch of the
 * operation under way; `stage.op` says which that is.
 */
async function driverPart(stage: { op: Mismatch['operation']; input: Buffer }, body: () => Promise<Verdict>): Promise<Verdict> {
  try {
    return await body();
  } catch (err) {
    return { operation: stage.op, message: `the driver failed: ${describeError(err)}`, input: stage.input, got: describeError(err) };
  }
}

function compare(
  op: Mismatch['operation'],
  what: string,
  input: Buffer,
  got: Buffer,
  expected: Buffer,
  tag?: Buffer,
): Mismatch | undefined {
  const message = difference(got, expected, what);
  return message === undefined ? undefined : { operation: op, message, input, expected, got, ...(tag ? { tag } : {}) };
}

/** A whole cipher request each way: encrypt the data, decrypt the reference's ciphertext. */
export function cipherWhole(f: CipherFamily, open: Opener): Probe {
  return {
    what: 'whole request',
    async run(t) {
      const expected = refCipher(f, t.key, t.iv, t.data);
      const stage = { op: 'encrypt' as Mismatch['operation'], input: t.data };
      return driverPart(stage, async () => {
        const s = await open(CipherSession, specOf(f, { key: t.key }));
        try {
          const options = t.iv ? { iv: t.iv } : undefined;
          const { ciphertext } = await s.encrypt(t.data, options);
          const enc = compare('encrypt', 'ciphertext', t.data, ciphertext, expected);
          if (enc) return enc;
          Object.assign(stage, { op: 'decrypt', input: expected });
          return compare('decrypt', 'decrypted', expected, await s.decrypt(expected, options), t.data);
        } finally {
          await s.close();
        }
      });
    },
  };
}

/** A whole AEAD request each way; the output compared is ciphertext ‖ tag. */
export function aeadWhole(f: AeadFamily, open: Opener, tagLength: number): Probe {
  return {
    what: 'whole request',
    tagLength,
    async run(t) {
      const keys = t.authKey ? { key: t.key, authKey: t.authKey } : { key: t.key };
      const iv = t.iv!;
      const ref = refAead(f, keys, iv, t.aad, t.data, tagLength);
      const stage = { op: 'encrypt' as Mismatch['operation'], input: t.data };
      return driverPart(stage, async () => {
        const s = await open(AeadSession, specOf(f, keys, tagLength));
        try {
          const out = await s.encrypt(t.data, { iv, aad: t.aad });
          const enc = compare(
            'encrypt',
            'ciphertext ‖ tag',
            t.data,
            Buffer.concat([out.ciphertext, out.tag]),
            Buffer.concat([ref.ciphertext, ref.tag]),
          );
          if (enc) return enc;
          Object.assign(stage, { op: 'decrypt', input: ref.ciphertext });
          const pt = await s.decrypt(ref.ciphertext, { iv, aad: t.aad, tag: ref.tag });
          return compare('decrypt', 'decrypted', ref.ciphertext, pt, t.data, ref.tag);
        } finally {
          await s.close();
        }
      });
    },
  };
}

/**
 * Three uneven pieces of `data`, each at least `min` bytes (XTS takes whole data units of at
 * least a block) and cut at multiples of `align` (a driver that takes whole blocks only), or
 * the data whole when it is too short for that.
 */
export function piecesOf(data: Buffer, min = 0, align = 1): Buffer[] {
  const n = data.length;
  const unit = Math.max(min, align, 1);
  if (n < 3 * unit) return [data];
  const down = (x: number): number => x - (x % align);
  const spare = n - 3 * unit;
  const a = down(unit + Math.floor(spare / 7));
  const b = down(a + unit + Math.floor((spare * 3) / 7));
  return [data.subarray(0, a), data.subarray(a, b), data.subarray(b)];
}

type Digester = 'whole' | 'parts' | 'update-final';

/** A digest of the data whole, of its pieces as one call, or through update() per piece and final(). */
export function digestProbe(f: HashFamily | MacFamily, open: Opener, how: Digester): Probe {
  const what = { whole: 'digest', parts: 'digest of 3 pieces', 'update-final': 'update() of 3 pieces, final()' }[how];
  return {
    what,
    async run(t) {
      const expected = refDigest(f, t.key, [t.data]);
      const op = how === 'update-final' ? 'update-final' : 'digest';
      return driverPart({ op, input: t.data }, async () => {
        const s = await open(HashSession, specOf(f, { key: t.key }));
        try {
          const parts = piecesOf(t.data);
          let got: Buffer;
          if (how === 'whole') got = await s.digest(t.data);
          else if (how === 'parts') got = await s.digest(parts);
          else {
            for (const p of parts) await s.update(p);
            got = await s.final();
          }
          return compare(op, what, t.data, got, expected);
        } finally {
          await s.close();
        }
      });
    },
  };
}

/** Everything a drop-in stream gives for `pieces` written one by one. */
function streamed(c: Transform, pieces: readonly Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    c.on('data', (b: Buffer) => out.push(b));
    c.on('end', () => resolve(Buffer.concat(out)));
    c.on('error', reject);
    // A zero-length write carries nothing; the empty message is the stream's end alone.
    for (const p of pieces) if (p.length > 0) c.write(p);
    c.end();
  });
}

/**
 * A cipher through the node:crypto drop-in on the driver, fed in uneven pieces (so the stream
 * carries CBC's IV and CTR's counter from one request to the next), each way. The reference is
 * node:crypto fed the same pieces: XTS treats each write as a data unit of its own.
 */
export function cipherSplit(f: CipherFamily, driver: string, align = 1): Probe {
  return {
    what: 'split through the drop-in',
    async run(t) {
      const name = nodeCipherName(f.mode, t.key.length);
      const pieces = piecesOf(t.data, f.minLength, align);
      const ref = nodeCipheriv(name, t.key, t.iv);
      ref.setAutoPadding(false);
      const expected = Buffer.concat([...pieces.map((p) => ref.update(p)), ref.final()]);
      const stage = { op: 'encrypt' as Mismatch['operation'], input: t.data };
      return driverPart(stage, async () => {
        const enc = createCipheriv(name, t.key, t.iv, { driver });
        enc.setAutoPadding(false);
        const ct = compare('encrypt', `ciphertext of ${pieces.length} piece(s)`, t.data, await streamed(enc, pieces), expected);
        if (ct) return ct;
        Object.assign(stage, { op: 'decrypt', input: expected });
        const dec = createDecipheriv(name, t.key, t.iv, { driver });
        dec.setAutoPadding(false);
        const back = await streamed(dec, piecesOf(expected, f.minLength, align));
        return compare('decrypt', `decrypted from ${pieces.length} piece(s)`, expected, back, t.data);
      });
    },
  };
}

/**
 * An AEAD through the node:crypto drop-in, fed in uneven pieces; the stream gathers the message
 * into one request (its tag covers all of it). authenc has no node:crypto name: no drop-in.
 */
export function aeadSplit(f: AeadFamily, driver: string, tagLength: number): Probe {
  return {
    what: 'split through the drop-in',
    tagLength,
    async run(t) {
      const name = nodeCipherName(f.mode, t.key.length);
      const iv = t.iv!;
      const ref = refAead(f, { key: t.key }, iv, t.aad, t.data, tagLength);
      const withAad = <T extends { setAAD(b: Buffer, o?: { plaintextLength: number }): unknown }>(c: T): T => {
        if (f.mode === 'ccm' || t.aad.length > 0) c.setAAD(t.aad, { plaintextLength: t.data.length });
        return c;
      };
      const stage = { op: 'encrypt' as Mismatch['operation'], input: t.data };
      return driverPart(stage, async () => {
        const enc = withAad(createCipheriv(name, t.key, iv, { driver, authTagLength: tagLength }));
        const ct = await streamed(enc, piecesOf(t.data));
        const got = Buffer.concat([ct, enc.getAuthTag()]);
        const bad = compare('encrypt', 'ciphertext ‖ tag of 3 pieces', t.data, got, Buffer.concat([ref.ciphertext, ref.tag]));
        if (bad) return bad;
        Object.assign(stage, { op: 'decrypt', input: ref.ciphertext });
        const dec = createDecipheriv(name, t.key, iv, { driver, authTagLength: tagLength });
        dec.setAuthTag(ref.tag);
        const pt = await streamed(withAad(dec), piecesOf(ref.ciphertext));
        return compare('decrypt', 'decrypted from 3 pieces', ref.ciphertext, pt, t.data, ref.tag);
      });
    },
  };
}

/** Errors with which a driver says it cannot work in place (an explained outcome, not a failure). */
const NO_IN_PLACE = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * A cipher request in place (`crp.obuf = null`, as crypto(9) has it) on the session's
 * framework session: openSession()'s own requests always have a separate output buffer, so this
 * is the only way the in-place path of a driver is reached. Built as the API's cipher backend
 * builds its requests, but over a copy of the data that the driver overwrites.
 */
export function cipherInPlace(f: CipherFamily, open: Opener): Probe {
  return {
    what: 'in place through the framework',
    async run(t) {
      const expected = refCipher(f, t.key, t.iv, t.data);
      return driverPart({ op: 'encrypt', input: t.data }, async () => {
        const s = await open(CipherSession, specOf(f, { key: t.key }));
        try {
          const sid = s.frameworkSid;
          if (sid === undefined) return `in place: the session has no framework session on ${s.driver}`;
          const desc = new CryptoDesc();
          desc.alg = idsOf(s.algorithm)[0]!;
          desc.len = t.data.length;
          desc.flags = C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT;
          if (t.iv) {
            desc.iv = t.iv;
            desc.ivLength = t.iv.length;
          }
          const crp = new CryptoOp();
          crp.sid = sid;
          crp.buf = Buffer.from(t.data);
          crp.obuf = null;
          crp.flags = C.CRYPTO_F_CBIMM;
          crp.desc = desc;
          const done = await framework.process(crp);
          if (done.etype !== 0) {
            const name = errnoName(done.etype);
            if (NO_IN_PLACE.has(name)) return `in place refused by the driver (${name})`;
            return { operation: 'encrypt', message: `in place: the request failed with ${name}`, input: t.data, got: name };
          }
          return compare('encrypt', 'ciphertext in place', t.data, done.buf as Buffer, expected);
        } finally {
          await s.close();
        }
      });
    },
  };
}
