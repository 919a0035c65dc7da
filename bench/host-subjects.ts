/**
 * The host benchmark's throughput subjects: node:crypto the way its users call it, against the
 * public API on the default driver, serially and with requests in flight; and 8 × 1 MiB on the
 * software driver against node:crypto one after another.
 */
import * as nodeCrypto from 'node:crypto';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

import { openSession } from '../src/api/open-session.js';
import type { CipherSession, HashSession } from '../src/api/session.js';
import type { Subject } from './host-measure.js';
import { BATCH, throughputId } from './host-results.js';

export const KEY = randomBytes(16);
export const IV = randomBytes(16);

/** Sessions the subjects use; close them when done. */
export interface Opened {
  aes: CipherSession;
  sha: HashSession;
  software: CipherSession;
  close(): Promise<void>;
}

/** The default-driver sessions (no driver option) and a software-driver AES session. */
export async function openSessions(): Promise<Opened> {
  const aes = await openSession({ cipher: 'aes-128-cbc', key: KEY });
  const sha = await openSession({ hash: 'sha256' });
  const software = await openSession({ cipher: 'aes-128-cbc', key: KEY }, { driver: 'software' });
  return {
    aes,
    sha,
    software,
    close: async () => {
      await Promise.all([aes.close(), sha.close(), software.close()]);
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
        label: `kcrypto encrypt() on ${s.aes.driver}, ${label}`,
        size,
        inFlight,
        async: () => s.aes.encrypt(data, { iv: IV }),
      });
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
        label: `kcrypto digest() on ${s.sha.driver}, ${label}`,
        size,
        inFlight,
        async: () => s.sha.digest(data),
      });
  }
  return subjects;
}

export const BATCH_SIZE = 1 << 20;
const BATCH_COUNT = 8;

/**
 * 8 requests of 1 MiB: on the software driver all 8 issued at once and awaited together,
 * against node:crypto doing the 8 one after another. A round's rate is batches per second.
 */
export function batchSubjects(s: Opened): Subject[] {
  const data = Array.from({ length: BATCH_COUNT }, () => randomBytes(BATCH_SIZE));
  return [
    {
      id: BATCH.kcrypto,
      label: `kcrypto encrypt() on ${s.software.driver}, 8 in flight (Promise.all)`,
      size: BATCH_SIZE,
      inFlight: 0,
      async: () => Promise.all(data.map((d) => s.software.encrypt(d, { iv: IV }))),
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
