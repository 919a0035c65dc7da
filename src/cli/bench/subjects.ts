/**
 * What `kcrypto bench` measures for one algorithm: a kcrypto session on each driver asked for,
 * and node:crypto as the reference every ratio is taken against.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createHash } from 'node:crypto';

import { drivers, type DriverInfo } from '../../api/drivers.js';
import { openSession } from '../../api/open-session.js';
import type { CipherSession, HashSession } from '../../api/session.js';
import { measureInFlight, measureSync, type Measured } from './measure.js';
import type { BenchAlgorithm } from './options.js';

/** Who did the work: a kcrypto session, node:crypto, or the compiled C baseline. */
export type SubjectKind = 'kcrypto' | 'node' | 'c';

/** One line of the results: something that encrypts or hashes requests of any size. */
export interface Subject {
  /** Its label in the table, the chart and the JSON (`software`, `fastest`, `node:crypto`, `C AF_ALG`). */
  readonly name: string;
  readonly kind: SubjectKind;
  /** kcrypto: the driver the session reports serving it (`fastest` routes among several). */
  readonly driver?: string;
  /** One request at a time whatever the depth (node:crypto): measured once per size. */
  readonly synchronous: boolean;
  /** Measures requests of `size` bytes with `depth` in flight for `ms` milliseconds. */
  measure(size: number, depth: number, ms: number): Promise<Measured>;
  close(): Promise<void>;
}

/** A subject that could not be measured, and why. */
export interface Skipped {
  name: string;
  kind: SubjectKind;
  reason: string;
}

/** The driver choice that is not a driver: every driver, each request routed by its size. */
export const FASTEST = 'fastest';
export const NODE_CRYPTO = 'node:crypto';

/** Fixed key and IV: this measures speed, it is not a use of the cipher. */
const keyOf = (alg: BenchAlgorithm): Buffer => Buffer.alloc(alg.kind === 'cipher' ? alg.keyLength : 0, 0x5a);
const IV = Buffer.alloc(16, 0xa5);

/** One input buffer per size, shared by every request: requests read it and never write it. */
function inputs(): (size: number) => Buffer {
  const bySize = new Map<number, Buffer>();
  return (size) => {
    let b = bySize.get(size);
    if (!b) {
      b = Buffer.alloc(size);
      for (let i = 0; i < size; i++) b[i] = (i * 7 + 3) & 0xff;
      bySize.set(size, b);
    }
    return b;
  };
}

/** Whether `d` lists `alg`: node:crypto names for the software driver, kernel names for the others. */
export function driverServes(d: DriverInfo, alg: BenchAlgorithm): boolean {
  return d.algorithms.includes(d.interface === 'software' ? alg.name : alg.kernelName);
}

/** The drivers measured when `--driver` is not given: every usable one serving `alg`, then `fastest`. */
export function defaultDrivers(list: readonly DriverInfo[], alg: BenchAlgorithm): string[] {
  return [...list.filter((d) => d.available && driverServes(d, alg)).map((d) => d.name), FASTEST];
}

async function kcryptoSubject(alg: BenchAlgorithm, choice: string): Promise<Subject> {
  const input = inputs();
  const base = { name: choice, kind: 'kcrypto' as const, synchronous: false };
  if (alg.kind === 'cipher') {
    // alg is a plain cipher (options.ts admits no AEAD), so the session is a CipherSession.
    const session = (await openSession({ cipher: alg.name, key: keyOf(alg) }, { driver: choice })) as CipherSession;
    const options = alg.ivLength > 0 ? { iv: IV.subarray(0, alg.ivLength) } : {};
    return {
      ...base,
      driver: session.driver,
      measure: (size, depth, ms) => {
        const data = input(size);
        return measureInFlight(() => session.encrypt(data, options), size, depth, ms);
      },
      close: () => session.close(),
    };
  }
  const session: HashSession = await openSession({ hash: alg.name }, { driver: choice });
  return {
    ...base,
    driver: session.driver,
    measure: (size, depth, ms) => {
      const data = input(size);
      return measureInFlight(() => session.digest(data), size, depth, ms);
    },
    close: () => session.close(),
  };
}

/** node:crypto as a program uses it for one message: a cipher or hash object per request. */
export function nodeCryptoSubject(alg: BenchAlgorithm): Subject {
  const input = inputs();
  const key = keyOf(alg);
  const request =
    alg.kind === 'cipher'
      ? (data: Buffer) => () => {
          const c = createCipheriv(alg.name, key, alg.ivLength > 0 ? IV.subarray(0, alg.ivLength) : null).setAutoPadding(false);
          return [c.update(data), c.final()];
        }
      : (data: Buffer) => () => createHash(alg.name).update(data).digest();
  return {
    name: NODE_CRYPTO,
    kind: 'node',
    synchronous: true,
    measure: (size, _depth, ms) => Promise.resolve(measureSync(request(input(size)), size, ms)),
    close: () => Promise.resolve(),
  };
}

/**
 * kcrypto sessions for `alg` on the drivers named (or, with none named, every usable driver
 * that serves it and `fastest`); a driver whose session does not open is skipped with the reason.
 */
export async function kcryptoSubjects(alg: BenchAlgorithm, named: readonly string[]): Promise<{ subjects: Subject[]; skipped: Skipped[] }> {
  const choices = named.length > 0 ? named : defaultDrivers(await drivers(), alg);
  const subjects: Subject[] = [];
  const skipped: Skipped[] = [];
  for (const choice of choices) {
    try {
      subjects.push(await kcryptoSubject(alg, choice));
    } catch (err) {
      skipped.push({ name: choice, kind: 'kcrypto', reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return { subjects, skipped };
}
