/**
 * The host benchmark's throughput subjects: node:crypto the way its users call it, against the
 * public API on the default session, serially and with requests in flight, and serially on each
 * software driver alone (`software`: node:crypto in this process; `openssl`: OpenSSL's EVP
 * through the addon); and 8 × 1 MiB in flight against node:crypto one after another.
 */
import * as nodeCrypto from 'node:crypto';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

import { openSession } from '../src/api/open-session.js';
import type { CipherSession, HashSession } from '../src/api/session.js';
import type { Subject } from './host-measure.js';
import { BATCH, throughputId } from './host-results.js';

export const KEY = randomBytes(16);
export const IV = randomBytes(16);

/** The drivers measured alone, besides the default session. */
export const DRIVERS = ['software', 'openssl'] as const;

/** Sessions the subjects use; close them when done. */
export interface Opened {
  aes: CipherSession;
  sha: HashSession;
  /** Per driver of {@link DRIVERS} that opens here: its AES and SHA-256 sessions. */
  on: Map<string, { aes: CipherSession; sha: HashSession }>;
  /** Why a driver of {@link DRIVERS} did not open here. */
  missing: Map<string, string>;
  close(): Promise<void>;
}

/** The default sessions (no driver option) and a session per driver of {@link DRIVERS}. */
export async function openSessions(): Promise<Opened> {
  const aes = await openSession({ cipher: 'aes-128-cbc', key: KEY });
  const sha = await openSession({ hash: 'sha256' });
  const on = new Map<string, { aes: CipherSession; sha: HashSession }>();
  const missing = new Map<string, string>();
  for (const driver of DRIVERS) {
    try {
      on.set(driver, {
        aes: await openSession({ cipher: 'aes-128-cbc', key: KEY }, { driver }),
        sha: await openSession({ hash: 'sha256' }, { driver }),
      });
    } catch (err) {
      missing.set(driver, (err as Error).message);
    }
  }
  return {
    aes,
    sha,
    on,
    missing,
    close: async () => {
      await Promise.all([aes.close(), sha.close(), ...[...on.values()].flatMap((x) => [x.aes.close(), x.sha.close()])]);
    },
  };
}

/** node:crypto's AES-128-CBC as its users write it: a cipher per request, update, final. */
export function nodeCbc(data: Buffer): Buffer {
  const c = createCipheriv('aes-128-cbc', KEY, IV);
  return Buffer.concat([c.update(data), c.final()]);
}

type OneShotHash = (algorithm: string, data: Buffer, outputEncoding: 'buffer') => Buffer;
/** `crypto.hash()` (Node 21.7, backported to 20.12), when this Node has it. */
const oneShot = (nodeCrypto as unknown as { hash?: OneShotHash }).hash;

const MODES: readonly [mode: string, inFlight: number, label: string][] = [
  ['serial', 0, 'serial (await each)'],
  ['inflight-1', 1, '1 in flight'],
  ['inflight-8', 8, '8 in flight'],
  ['inflight-64', 64, '64 in flight'],
];

/**
 * Per size: node:crypto's forms, then the default session serially and with 1, 8 and 64 in
 * flight, for AES-128-CBC encrypt and SHA-256.
 */
export function throughputSubjects(s: Opened, sizes: readonly number[]): Subject[] {
  const subjects: Subject[] = [];
  for (const size of sizes) {
    const data = randomBytes(size);
    subjects.push({
      id: throughputId('aes', 'node', 'serial', size),
      label: 'node:crypto createCipheriv().update() + final(), serial',
      size,
      inFlight: 0,
      sync: () => nodeCbc(data),
    });
    for (const [mode, inFlight, label] of MODES)
      subjects.push({
        id: throughputId('aes', 'kcrypto', mode, size),
        label: `kcrypto encrypt() on the default session (${s.aes.driver}), ${label}`,
        size,
        inFlight,
        async: () => s.aes.encrypt(data, { iv: IV }),
      });
    for (const driver of DRIVERS) subjects.push(onDriver(s, driver, 'aes', size, data));
    subjects.push({
      id: throughputId('sha', 'node', 'serial', size),
      label: 'node:crypto createHash().update().digest(), serial',
      size,
      inFlight: 0,
      sync: () => createHash('sha256').update(data).digest(),
    });
    const hash: Subject = {
      id: throughputId('sha', 'node-oneshot', 'serial', size),
      label: "node:crypto crypto.hash('sha256', data, 'buffer'), serial",
      size,
      inFlight: 0,
    };
    if (oneShot) hash.sync = () => oneShot('sha256', data, 'buffer');
    else hash.reason = `crypto.hash() is absent from Node ${process.versions.node} (it came in 21.7 and 20.12)`;
    subjects.push(hash);
    for (const [mode, inFlight, label] of MODES)
      subjects.push({
        id: throughputId('sha', 'kcrypto', mode, size),
        label: `kcrypto digest() on the default session (${s.sha.driver}), ${label}`,
        size,
        inFlight,
        async: () => s.sha.digest(data),
      });
    for (const driver of DRIVERS) subjects.push(onDriver(s, driver, 'sha', size, data));
  }
  return subjects;
}

/** A serial subject on one driver alone. */
function onDriver(s: Opened, driver: string, alg: 'aes' | 'sha', size: number, data: Buffer): Subject {
  const subject: Subject = {
    id: throughputId(alg, `driver-${driver}`, 'serial', size),
    label: `kcrypto ${alg === 'aes' ? 'encrypt()' : 'digest()'} on driver '${driver}' alone, serial (await each)`,
    size,
    inFlight: 0,
  };
  const x = s.on.get(driver);
  if (!x) subject.reason = s.missing.get(driver) ?? `${driver} did not open`;
  else if (alg === 'aes') subject.async = () => x.aes.encrypt(data, { iv: IV });
  else subject.async = () => x.sha.digest(data);
  return subject;
}

/** Where a session's requests ran, from its engine counters (none on the software driver). */
function ranOf(session: CipherSession): string | undefined {
  const st = session.stats();
  return st ? `inline ${st.inline}, threads ${st.threaded}, deferred ${st.deferred}` : undefined;
}

export const BATCH_SIZE = 1 << 20;
const BATCH_COUNT = 8;

/**
 * 8 requests of 1 MiB: on the default session all 8 issued at once and awaited together,
 * against node:crypto doing the 8 one after another. A round's rate is batches per second.
 */
export function batchSubjects(s: Opened): Subject[] {
  const data = Array.from({ length: BATCH_COUNT }, () => randomBytes(BATCH_SIZE));
  return [
    {
      id: BATCH.kcrypto,
      label: `kcrypto encrypt() on the default session (${s.aes.driver}), 8 in flight (Promise.all)`,
      size: BATCH_SIZE,
      inFlight: 0,
      async: () => Promise.all(data.map((d) => s.aes.encrypt(d, { iv: IV }))),
      ran: () => ranOf(s.aes),
    },
    {
      id: BATCH.node,
      label: 'node:crypto createCipheriv().update() + final(), 8 one after another',
      size: BATCH_SIZE,
      inFlight: 0,
      sync: () => data.map(nodeCbc),
    },
  ];
}
