// The soak's algorithms and drivers: which drivers serve each algorithm (every usable one of
// drivers(), one per kind among the AF_ALG ones, and the policies), one request of each
// algorithm, and the bytes node:crypto computes for it.
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

import type { DriverInfo } from '../../src/api/drivers.js';
import type { AeadSession, CipherSession, HashSession } from '../../src/index.js';
import type { SessionSpec } from '../../src/api/open-session.js';

export type Session = CipherSession | AeadSession | HashSession;

export interface Algorithm {
  /** node:crypto's name, and the soak's. */
  name: string;
  /** The kernel's name, as drivers() lists it. */
  kernel: string;
  spec(key: Buffer): SessionSpec;
  /** Requests must be a multiple of this. */
  align: number;
}

export const ALGORITHMS: readonly Algorithm[] = [
  { name: 'aes-128-cbc', kernel: 'cbc(aes)', spec: (key) => ({ cipher: 'aes-128-cbc', key }), align: 16 },
  { name: 'aes-128-ctr', kernel: 'ctr(aes)', spec: (key) => ({ cipher: 'aes-128-ctr', key }), align: 1 },
  { name: 'aes-128-gcm', kernel: 'gcm(aes)', spec: (key) => ({ cipher: 'aes-128-gcm', key }), align: 1 },
  { name: 'sha256', kernel: 'sha256', spec: () => ({ hash: 'sha256' }), align: 1 },
  { name: 'hmac-sha256', kernel: 'hmac(sha256)', spec: (key) => ({ hmac: 'sha256', key }), align: 1 },
];

/** Request sizes, small ones more often (as most traffic is), up to 256 KiB. */
export const SIZES: readonly number[] = [16, 16, 64, 64, 256, 1024, 4096, 4096, 16384, 65536, 262144];

/** The policies every algorithm is also opened with. */
export const POLICIES: readonly string[] = ['software', 'fastest', 'kernel'];

/**
 * The drivers each algorithm runs on: of the usable AF_ALG drivers that serve it, the one of
 * highest priority of each kind (the card, CPU instructions, generic C), and the policies.
 */
export function lanesOf(list: readonly DriverInfo[]): { alg: Algorithm; driver: string }[] {
  const out: { alg: Algorithm; driver: string }[] = [];
  for (const alg of ALGORITHMS) {
    const serving = list
      .filter((d) => d.interface === 'afalg' && d.available && d.algorithms.includes(alg.kernel))
      .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
    const kinds = new Set<string>();
    for (const d of serving) {
      if (kinds.has(d.kind)) continue;
      kinds.add(d.kind);
      out.push({ alg, driver: d.name });
    }
    for (const p of POLICIES) out.push({ alg, driver: p });
  }
  return out;
}

/** Runs one request of `bytes` on `s`; resolves with what the driver computed and what node:crypto computes. */
export async function oneRequest(alg: Algorithm, s: Session, key: Buffer, bytes: number): Promise<{ got: Buffer; want: Buffer }> {
  const data = randomBytes(bytes - (bytes % alg.align));
  switch (alg.name) {
    case 'aes-128-cbc':
    case 'aes-128-ctr': {
      const iv = randomBytes(16);
      const { ciphertext } = await (s as CipherSession).encrypt(data, { iv });
      const c = createCipheriv(alg.name, key, iv).setAutoPadding(false);
      return { got: ciphertext, want: Buffer.concat([c.update(data), c.final()]) };
    }
    case 'aes-128-gcm': {
      const iv = randomBytes(12);
      const aad = randomBytes(16);
      const { ciphertext, tag } = await (s as AeadSession).encrypt(data, { iv, aad });
      const c = createCipheriv('aes-128-gcm', key, iv).setAAD(aad);
      const want = Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
      return { got: Buffer.concat([ciphertext, tag]), want };
    }
    case 'sha256':
      return { got: await (s as HashSession).digest(data), want: createHash('sha256').update(data).digest() };
    default:
      return { got: await (s as HashSession).digest(data), want: createHmac('sha256', key).update(data).digest() };
  }
}
