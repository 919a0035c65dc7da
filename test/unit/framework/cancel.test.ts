// framework.cancel(crp): a request waiting in its driver's queue (never handed to the driver)
// completes at once, once, with ECANCELED; one the driver holds is not touched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CRYPTO_F_CBIMM, CRYPTO_SHA1, CRYPTOCAP_F_SOFTWARE } from '../../../src/framework/constants.js';
import { Framework, type DriverImpl } from '../../../src/framework/framework.js';
import { CryptoDesc, CryptoIni, CryptoOp } from '../../../src/framework/structures.js';
import { errnoOf } from '../../../src/errno.js';

/** A driver that holds one request at a time, pushing back (ERESTART) while it does. */
class OneAtATime implements DriverImpl {
  readonly id: number;
  held: CryptoOp | null = null;
  processed = 0;
  constructor(readonly fw: Framework) {
    this.id = fw.getDriverId(CRYPTOCAP_F_SOFTWARE, 'one0');
    fw.register(this.id, CRYPTO_SHA1, 0, 0, this);
  }
  newSession(): number {
    return 0;
  }
  freeSession(): void {
    // nothing kept per session
  }
  process(_arg: unknown, crp: CryptoOp): number {
    if (this.held) return this.fw.ERESTART;
    this.held = crp;
    this.processed++;
    return 0;
  }
  finish(): void {
    const crp = this.held!;
    this.held = null;
    this.fw.done(crp);
    this.fw.unblock(this.id, 1);
  }
}

function request(sid: bigint, calls: number[], i: number): CryptoOp {
  const crp = new CryptoOp();
  crp.sid = sid;
  crp.buf = Buffer.alloc(8);
  crp.desc = Object.assign(new CryptoDesc(), { alg: CRYPTO_SHA1, len: 8 });
  crp.flags = CRYPTO_F_CBIMM;
  crp.callback = () => calls.push(i);
  return crp;
}

describe('framework.cancel', () => {
  it('completes a queued request with ECANCELED, once; leaves a held one alone', async () => {
    const fw = new Framework();
    const d = new OneAtATime(fw);
    const sid = await fw.newSession(new CryptoIni({ alg: CRYPTO_SHA1 }), d.id);
    const calls: number[] = [];
    const [a, b, c] = [0, 1, 2].map((i) => request(sid, calls, i));
    for (const crp of [a!, b!, c!]) assert.equal(fw.dispatch(crp), 0);
    assert.equal(d.processed, 1, 'the driver holds the first, the others wait in its queue');
    assert.equal(fw.cancel(a!), false, 'the held request cannot be cancelled');
    assert.equal(fw.cancel(b!), true);
    assert.deepEqual(calls, [1], 'the cancelled request completed at once');
    assert.equal(b!.etype, errnoOf('ECANCELED'));
    assert.equal(fw.cancel(b!), false, 'a completed request cannot be cancelled again');
    d.finish();
    await new Promise((r) => setImmediate(r));
    d.finish();
    assert.deepEqual(calls, [1, 0, 2]);
    assert.equal(a!.etype, 0);
    assert.equal(c!.etype, 0);
    assert.equal(d.processed, 2, 'the cancelled request never reached the driver');
  });
});
