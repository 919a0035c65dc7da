// Helpers of the legacy-algorithm tests (legacy-*.test.ts): the EINVAL checks, and sessions and
// requests of a framework with cryptosoft registered.
import { KCryptoError } from '../../../../src/errors.js';
import type { Framework } from '../../../../src/framework/framework.js';
import { CryptoIni, type CryptoDesc, type CryptoOp } from '../../../../src/framework/structures.js';
import { errnoOf } from '../../../../src/errno.js';

export const EINVAL = errnoOf('EINVAL');

export function isEinval(err: unknown): boolean {
  return err instanceof KCryptoError && err.code === 'EINVAL';
}

export async function session(fw: Framework, id: number, alg: number, key: Uint8Array | null, mlen = 0): Promise<bigint> {
  return fw.newSession(new CryptoIni({ alg, klen: (key?.length ?? 0) * 8, key, mlen }), id);
}

export function request(fw: Framework, sid: bigint, buf: Uint8Array, desc: Partial<CryptoDesc>): CryptoOp {
  const crp = fw.getReq(1);
  crp.sid = sid;
  crp.buf = buf;
  Object.assign(crp.desc!, desc);
  return crp;
}
