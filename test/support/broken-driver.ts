/**
 * A deliberately wrong driver for the conformance kit's own tests: AES-CBC computed correctly
 * (by a private cryptosoft, i.e. node:crypto) with one byte of the output flipped in every
 * request of {@link BROKEN_FROM} bytes or more. The differential check must find it and shrink
 * its reproducer to exactly that length.
 */
import { framework } from '../../src/api/framework-instance.js';
import { registerCryptosoft } from '../../src/drivers/software/cryptosoft.js';
import * as C from '../../src/framework/constants.js';
import type { DriverImpl } from '../../src/framework/driver.js';
import { Framework } from '../../src/framework/framework.js';
import type { CryptoOp } from '../../src/framework/structures.js';

/** The framework driver name openSession()'s `driver` option reaches it by. */
export const BROKEN_DRIVER = 'broken-cbc';

/** Requests from this many bytes on come back wrong. */
export const BROKEN_FROM = 1024;

let registered: number | undefined;

/**
 * Registers the broken driver on the process-wide framework (once); returns its id. Flagged
 * software so that `'hardware'` never picks it; sessions reach it by name only.
 */
export function registerBrokenDriver(): number {
  if (registered !== undefined) return registered;
  const inner = new Framework();
  const soft = registerCryptosoft(inner);
  const sids = new Map<number, bigint>();
  let next = 0;
  const lidOf = (sid: bigint): number => Number(sid & 0xffffffffn);
  const impl: DriverImpl = {
    async newSession(_arg, cri) {
      const lid = next++;
      sids.set(lid, await inner.newSession(cri, soft));
      return lid;
    },
    async freeSession(_arg, sid) {
      const lid = lidOf(sid);
      const innerSid = sids.get(lid);
      sids.delete(lid);
      if (innerSid !== undefined) await inner.freeSession(innerSid);
    },
    process(_arg, crp) {
      const outerSid = crp.sid;
      const callback = crp.callback;
      crp.sid = sids.get(lidOf(outerSid))!;
      crp.callback = (r: CryptoOp) => {
        r.sid = outerSid;
        r.callback = callback;
        const d = r.desc;
        if (r.etype === 0 && d !== null && d.len >= BROKEN_FROM) {
          const out = (r.obuf ?? r.buf) as Uint8Array;
          out[d.skip + d.len - 1]! ^= 0x01;
        }
        // The inner framework marked it done; this driver completes it to the outer one.
        r.flags &= ~C.CRYPTO_F_DONE;
        framework.done(r);
      };
      inner.dispatch(crp);
      return 0;
    },
  };
  const id = framework.getDriverId(C.CRYPTOCAP_F_SOFTWARE, BROKEN_DRIVER);
  framework.register(id, C.CRYPTO_AES_CBC, 0, 0, impl);
  registered = id;
  return id;
}
