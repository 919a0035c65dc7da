/**
 * What the benchmark's tables share: the sizes, the sections (algorithm, kcrypto groups,
 * node:crypto counterpart), opening a kcrypto session as a request function, and reading
 * kcrypto's execution counters around a measurement.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { openSession } from '../src/index.js';
import { loadAddon, type DispatcherStats } from '../src/kernel/bridge/addon.js';
import type { KernelSessionStats } from '../src/kernel/bridge/engine/index.js';
import { findPackageRoot } from '../src/package-root.js';
import type { DevCryptoBaselineAlg, Sample } from './measure.js';
import type { ExecDelta, Group } from './results.js';

export const SIZES = [64, 1024, 16 * 1024, 64 * 1024];
export const SIZE_IN_FLIGHT = 64 * 1024;
export const SIZE_SMALL = 64;
export const SIZE_LOOP = 16 * 1024;
export const LOOP_IN_FLIGHT = 1000;

export function packageRoot(): string {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (root === null) throw new Error('bench: cannot find the kcrypto package root');
  return root;
}

export function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

export type Kind = 'cipher' | 'aead' | 'hash';

export interface GroupSpec extends Group {
  kind: Kind;
  /** kcrypto spec, without the key. */
  cipher?: string;
  hash?: string;
  keyLength: number;
  afalgType: 'skcipher' | 'aead' | 'hash';
  /** What the C baseline binds when kcrypto could not tell which driver it used. */
  fallbackBind: string;
  /** /dev/crypto groups: the driver's kernel name ('' on NetBSD, which names none). */
  devcryptoDriver?: string;
}

export interface Section {
  node: string;
  nodeLabel: string;
  groups: GroupSpec[];
  /** The kernel's name of the algorithm, as drivers() lists it. */
  kernelName: string;
  /** The algorithm's name for bench/devcrypto-baseline.c. */
  devcryptoAlg: DevCryptoBaselineAlg;
}

export const SECTIONS: Section[] = [
  {
    node: 'aes-128-cbc',
    nodeLabel: 'node:crypto aes-128-cbc',
    groups: [
      {
        key: 'cbc-aesni',
        title: 'AES-128-CBC',
        requested: 'cbc-aes-aesni',
        kind: 'cipher',
        cipher: 'aes-128-cbc',
        keyLength: 16,
        afalgType: 'skcipher',
        fallbackBind: 'cbc-aes-aesni',
      },
      {
        key: 'cbc-virtio',
        title: 'AES-128-CBC',
        requested: 'virtio_crypto_aes_cbc',
        kind: 'cipher',
        cipher: 'aes-128-cbc',
        keyLength: 16,
        afalgType: 'skcipher',
        fallbackBind: 'virtio_crypto_aes_cbc',
      },
    ],
    kernelName: 'cbc(aes)',
    devcryptoAlg: 'aes-cbc',
  },
  {
    node: 'aes-256-gcm',
    nodeLabel: 'node:crypto aes-256-gcm',
    groups: [
      {
        key: 'gcm',
        title: 'AES-256-GCM',
        requested: 'kernel',
        kind: 'aead',
        cipher: 'aes-256-gcm',
        keyLength: 32,
        afalgType: 'aead',
        fallbackBind: 'gcm(aes)',
      },
    ],
    kernelName: 'gcm(aes)',
    devcryptoAlg: 'aes-gcm',
  },
  {
    node: 'sha256',
    nodeLabel: 'node:crypto sha256',
    groups: [
      {
        key: 'sha256',
        title: 'SHA-256',
        requested: 'kernel',
        kind: 'hash',
        hash: 'sha256',
        keyLength: 0,
        afalgType: 'hash',
        fallbackBind: 'sha256',
      },
    ],
    kernelName: 'sha256',
    devcryptoAlg: 'sha256',
  },
];

/** A request function for a given input, on an open kcrypto session. */
export type Requester = (data: Buffer) => () => Promise<unknown>;

/** Anything that reports kcrypto's execution counters: a session, or an engine session. */
export interface StatsSource {
  stats(): KernelSessionStats | null;
}

export interface Opened {
  driver: string;
  request: Requester;
  kernel: StatsSource | null;
  close(): Promise<void>;
}

export const IV16 = randomBytes(16);
export const IV12 = randomBytes(12);

/** Opens a kcrypto session; its stats() reports where requests ran (null on software). */
export async function openKcrypto(g: GroupSpec, key: Buffer, driver: string, execution?: 'auto' | 'inline' | 'threads'): Promise<Opened> {
  const options = execution ? { driver, execution } : { driver };
  let s;
  let request: Requester;
  if (g.kind === 'cipher') {
    const c = await openSession({ cipher: g.cipher!, key }, options);
    if (c.kind !== 'cipher') throw new Error(`${g.cipher} opened as ${c.kind}`);
    request = (d) => () => c.encrypt(d, { iv: IV16 });
    s = c;
  } else if (g.kind === 'aead') {
    const a = await openSession({ cipher: g.cipher!, key }, options);
    if (a.kind !== 'aead') throw new Error(`${g.cipher} opened as ${a.kind}`);
    request = (d) => () => a.encrypt(d, { iv: IV12 });
    s = a;
  } else {
    const h = await openSession({ hash: g.hash! }, options);
    request = (d) => () => h.digest(d);
    s = h;
  }
  await request(Buffer.alloc(64))();
  const session = s;
  return { driver: session.driver, request, kernel: session.stats() ? session : null, close: () => session.close() };
}

export function nodeRequest(algorithm: string, key: Buffer, data: Buffer): () => unknown {
  switch (algorithm) {
    case 'aes-128-cbc':
      return () => {
        const c = createCipheriv('aes-128-cbc', key, IV16);
        c.setAutoPadding(false);
        c.update(data);
        return c.final();
      };
    case 'aes-256-gcm':
      return () => {
        const c = createCipheriv('aes-256-gcm', key, IV12);
        c.update(data);
        c.final();
        return c.getAuthTag();
      };
    case 'sha256':
      return () => createHash('sha256').update(data).digest();
    default:
      throw new Error(`no node:crypto request for ${algorithm}`);
  }
}

export function dispatcherStats(): DispatcherStats | undefined {
  try {
    return loadAddon().addon?.dispatcherStats();
  } catch {
    return undefined;
  }
}

/** Runs `fn` and returns what kcrypto's counters did meanwhile. */
export async function counted<T>(ks: StatsSource | null, fn: () => Promise<T>): Promise<{ value: T; exec?: ExecDelta }> {
  const s0 = ks?.stats();
  if (!ks || !s0) return { value: await fn() };
  const d0 = dispatcherStats();
  const value = await fn();
  const s1 = ks.stats();
  // A session's counters are its kernel driver's: without them the figure may be another driver's.
  if (!s1)
    throw new Error(
      "session.stats() became null during the measurement: the framework no longer has the session on its kernel driver (moved or lost), so the figure is not that driver's",
    );
  const d1 = dispatcherStats();
  return {
    value,
    exec: {
      inline: s1.inline - s0.inline,
      threaded: s1.threaded - s0.threaded,
      wakeups: d0 && d1 ? d1.wakeups - d0.wakeups : 0,
      deliveries: d0 && d1 ? d1.deliveries - d0.deliveries : 0,
      ...(d0 && d1 && d1.batched > d0.batched ? { queued: d1.batched - d0.batched, queueBatches: d1.batches - d0.batches } : {}),
    },
  };
}

export function fmtSample(s: Sample): string {
  return `${Math.round(s.ops / s.seconds)} ops/s, ${(s.bytes / s.seconds / 1e6).toFixed(2)} MB/s`;
}

/** The group key of a /dev/crypto driver in a section. */
export function devGroupKey(section: Section, driver: string): string {
  return `${section.node}@${driver}`;
}
