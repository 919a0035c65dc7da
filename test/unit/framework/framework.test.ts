// The crypto(9) framework with drivers written for the test: registry, session selection,
// dispatch and completion, ERESTART flow control, batching, migration, keying operations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  CRK_MOD_EXP,
  CRYPTO_AES_CBC,
  CRYPTO_F_BATCH,
  CRYPTO_F_CBIFSYNC,
  CRYPTO_F_CBIMM,
  CRYPTO_F_DONE,
  CRYPTO_HINT_MORE,
  CRYPTO_SHA1_HMAC,
  CRYPTO_SYMQ,
  CRYPTOCAP_F_HARDWARE,
  CRYPTOCAP_F_SOFTWARE,
  CRYPTOCAP_F_SYNC,
} from '../../../src/framework/constants.js';
import { Framework, type DriverImpl } from '../../../src/framework/framework.js';
import { CryptKop, CryptoIni, type CryptoOp } from '../../../src/framework/structures.js';
import { errnoOf } from '../../../src/errno.js';

const EAGAIN = errnoOf('EAGAIN');
const EINVAL = errnoOf('EINVAL');

/**
 * A driver that completes requests asynchronously (after `delayMs`), takes at most `depth` at
 * a time (ERESTART beyond), records the order it processed them in, and unblocks itself.
 */
class TestDriver implements DriverImpl {
  readonly id: number;
  inFlight = 0;
  processed: CryptoOp[] = [];
  hints: number[] = [];
  sessions = 0;
  freed: bigint[] = [];
  private blocked = false;

  constructor(
    readonly fw: Framework,
    flags: number,
    name: string,
    algs: number[],
    readonly depth = Infinity,
    readonly delayMs = 1,
  ) {
    this.id = fw.getDriverId(flags, name);
    for (const a of algs) fw.register(this.id, a, 0, 0, this);
  }
  newSession(): number {
    return this.sessions++;
  }
  freeSession(_arg: unknown, sid: bigint): void {
    this.freed.push(sid);
  }
  process(_arg: unknown, crp: CryptoOp, hint: number): number {
    if (this.inFlight >= this.depth) {
      this.blocked = true;
      return this.fw.ERESTART;
    }
    this.inFlight++;
    this.processed.push(crp);
    this.hints.push(hint);
    setTimeout(() => {
      this.inFlight--;
      crp.etype = 0;
      crp.olen = crp.ilen;
      this.fw.done(crp);
      if (this.blocked) {
        this.blocked = false;
        this.fw.unblock(this.id, CRYPTO_SYMQ);
      }
    }, this.delayMs);
    return 0;
  }
}

const aes = (): CryptoIni => new CryptoIni({ alg: CRYPTO_AES_CBC, klen: 128, key: new Uint8Array(16) });
const eta = (): CryptoIni =>
  new CryptoIni({
    alg: CRYPTO_AES_CBC,
    klen: 128,
    key: new Uint8Array(16),
    next: new CryptoIni({ alg: CRYPTO_SHA1_HMAC, klen: 160, key: new Uint8Array(20) }),
  });

function request(fw: Framework, sid: bigint, tag: number, flags = 0): CryptoOp {
  const crp = fw.getReq(1);
  crp.sid = sid;
  crp.buf = new Uint8Array(16);
  crp.ilen = 16;
  crp.flags = flags;
  crp.opaque = tag;
  return crp;
}

/** Dispatches and resolves with the request once its callback has run, counting callbacks. */
function run(fw: Framework, crp: CryptoOp, calls: Map<CryptoOp, number>): Promise<CryptoOp> {
  return new Promise((resolve) => {
    crp.callback = (c) => {
      calls.set(c, (calls.get(c) ?? 0) + 1);
      resolve(c);
    };
    assert.equal(fw.dispatch(crp), 0);
  });
}

describe('crypto(9) framework', () => {
  it('registers drivers, finds them by name, picks hardware first, fewest sessions among equals', async () => {
    const fw = new Framework();
    const soft = new TestDriver(fw, CRYPTOCAP_F_SOFTWARE, 'soft', [CRYPTO_AES_CBC, CRYPTO_SHA1_HMAC]);
    const hw1 = new TestDriver(fw, CRYPTOCAP_F_HARDWARE, 'card0', [CRYPTO_AES_CBC]);
    const hw2 = new TestDriver(fw, CRYPTOCAP_F_HARDWARE, 'card1', [CRYPTO_AES_CBC]);
    assert.equal(fw.findDriver('card1'), hw2.id);
    assert.equal(fw.findDriver('nope'), -1);
    const both = CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE;
    const a = await fw.newSession(aes(), both);
    const b = await fw.newSession(aes(), both);
    assert.deepEqual([Number(a >> 32n), Number(b >> 32n)].sort(), [hw1.id, hw2.id].sort(), 'spread over the two cards');
    assert.equal(Number((await fw.newSession(aes(), CRYPTOCAP_F_SOFTWARE)) >> 32n), soft.id);
    assert.equal(Number((await fw.newSession(eta(), both)) >> 32n), soft.id, 'only soft has both algorithms');
    assert.equal(Number((await fw.newSession(aes(), hw2.id)) >> 32n), hw2.id, 'an explicit driver id');
    await assert.rejects(fw.newSession(eta(), CRYPTOCAP_F_HARDWARE), { code: 'EOPNOTSUPP' });
  });

  it('dispatch: EINVAL without a callback; every request gets exactly one callback, after dispatch returns', async () => {
    const fw = new Framework();
    new TestDriver(fw, CRYPTOCAP_F_SOFTWARE, 'soft', [CRYPTO_AES_CBC]);
    const sid = await fw.newSession(aes(), CRYPTOCAP_F_SOFTWARE);
    assert.equal(fw.dispatch(null), EINVAL);
    assert.equal(fw.dispatch(request(fw, sid, 0)), EINVAL, 'no callback');
    const calls = new Map<CryptoOp, number>();
    let returned = false;
    const p = run(fw, request(fw, 12345n, 1), calls).then((c) => {
      assert.ok(returned, 'callback after dispatch returned');
      return c;
    });
    returned = true;
    const bad = await p;
    assert.equal(bad.etype, EINVAL, 'unknown session: EINVAL through the callback');
    const ok = await run(fw, request(fw, sid, 2), calls);
    assert.equal(ok.etype, 0);
    assert.ok(ok.flags & CRYPTO_F_DONE);
    fw.done(ok);
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual([...calls.values()], [1, 1], 'a second done() is ignored');
  });

  it('a freed session is unknown at once, however recently its requests ran; the others still run', async () => {
    const fw = new Framework();
    new TestDriver(fw, CRYPTOCAP_F_SOFTWARE, 'soft', [CRYPTO_AES_CBC]);
    const [a, b, c] = [
      await fw.newSession(aes(), CRYPTOCAP_F_SOFTWARE),
      await fw.newSession(aes(), CRYPTOCAP_F_SOFTWARE),
      await fw.newSession(aes(), CRYPTOCAP_F_SOFTWARE),
    ];
    const calls = new Map<CryptoOp, number>();
    // Requests alternating over the sessions, so that each was looked up a moment ago.
    for (const sid of [a, b, c, b, a]) assert.equal((await run(fw, request(fw, sid, 0), calls)).etype, 0);
    assert.equal(await fw.freeSession(a), 0);
    assert.equal(fw.sessionInfo(a), undefined);
    assert.equal((await run(fw, request(fw, a, 1), calls)).etype, EINVAL, 'the freed session');
    assert.equal(await fw.freeSession(b), 0);
    assert.equal((await run(fw, request(fw, b, 2), calls)).etype, EINVAL, 'freed just after its lookup');
    assert.equal((await run(fw, request(fw, c, 3), calls)).etype, 0, 'the one left');
    assert.equal(await fw.freeSession(a), EINVAL, 'freed twice');
  });

  it('CRYPTO_F_CBIMM calls back inside done(); otherwise from the return queue, in a later turn', async () => {
    const fw = new Framework();
    const held: CryptoOp[] = [];
    // A driver that keeps requests until the test completes them.
    const id = fw.getDriverId(CRYPTOCAP_F_SOFTWARE, 'manual');
    fw.register(id, CRYPTO_AES_CBC, 0, 0, { newSession: () => 0, freeSession: () => undefined, process: (_a, crp) => (held.push(crp), 0) });
    const sid = await fw.newSession(aes(), id);
    for (const [flags, immediate] of [
      [CRYPTO_F_CBIMM, true],
      [0, false],
    ] as const) {
      let called = false;
      const crp = request(fw, sid, 0, flags);
      const delivered = new Promise<void>((resolve) => {
        crp.callback = () => {
          called = true;
          resolve();
        };
      });
      fw.dispatch(crp);
      assert.equal(held.at(-1), crp, 'handed to the driver');
      fw.done(crp);
      assert.equal(called, immediate, immediate ? 'CBIMM: callback ran inside done()' : 'queued: not yet');
      await delivered;
    }
  });

  it('CRYPTO_F_CBIFSYNC calls back inside done() only on a CRYPTOCAP_F_SYNC driver', async () => {
    const fw = new Framework();
    for (const [flags, immediate] of [
      [CRYPTOCAP_F_SOFTWARE | CRYPTOCAP_F_SYNC, true],
      [CRYPTOCAP_F_SOFTWARE, false],
    ] as const) {
      const held: CryptoOp[] = [];
      const id = fw.getDriverId(flags);
      fw.register(id, CRYPTO_AES_CBC, 0, 0, {
        newSession: () => 0,
        freeSession: () => undefined,
        process: (_a, crp) => (held.push(crp), 0),
      });
      const sid = await fw.newSession(aes(), id);
      let called = false;
      const crp = request(fw, sid, 0, CRYPTO_F_CBIFSYNC);
      const delivered = new Promise<void>(
        (resolve) =>
          (crp.callback = () => {
            called = true;
            resolve();
          }),
      );
      fw.dispatch(crp);
      fw.done(held[0]!);
      assert.equal(called, immediate);
      await delivered;
    }
  });

  it('ERESTART: requests are held while the driver is blocked, resumed on unblock, in order, none lost', async () => {
    const fw = new Framework();
    const drv = new TestDriver(fw, CRYPTOCAP_F_HARDWARE, 'card', [CRYPTO_AES_CBC], 2, 2);
    const sid = await fw.newSession(aes(), CRYPTOCAP_F_HARDWARE);
    const calls = new Map<CryptoOp, number>();
    const reqs = Array.from({ length: 50 }, (_, i) => request(fw, sid, i));
    const done = await Promise.all(reqs.map((r) => run(fw, r, calls)));
    assert.equal(done.length, 50);
    assert.ok(done.every((c) => c.etype === 0));
    assert.deepEqual(
      drv.processed.map((c) => c.opaque),
      reqs.map((r) => r.opaque),
      'processed in dispatch order',
    );
    assert.ok([...calls.values()].every((n) => n === 1));
    const st = fw.stats().find((s) => s.id === drv.id)!;
    assert.ok(st.blocks > 0, 'the driver pushed back');
    assert.equal(st.requests, 50);
    assert.equal(st.queueLength, 0);
    assert.equal(st.inFlight, 0);
    assert.ok(st.latency.samples === 50 && st.latency.p99 >= st.latency.p50);
  });

  it('CRYPTO_F_BATCH gathers requests and submits them together, hinting that more follow', async () => {
    const fw = new Framework();
    const drv = new TestDriver(fw, CRYPTOCAP_F_SOFTWARE, 'soft', [CRYPTO_AES_CBC]);
    const sid = await fw.newSession(aes(), CRYPTOCAP_F_SOFTWARE);
    const calls = new Map<CryptoOp, number>();
    const ps = Array.from({ length: 5 }, (_, i) => run(fw, request(fw, sid, i, CRYPTO_F_BATCH), calls));
    assert.equal(drv.processed.length, 0, 'nothing submitted yet');
    await Promise.all(ps);
    assert.deepEqual(drv.hints, [CRYPTO_HINT_MORE, CRYPTO_HINT_MORE, CRYPTO_HINT_MORE, CRYPTO_HINT_MORE, 0]);
  });

  it('unregisterAll with requests in flight and queued: each completes once; queued ones get EAGAIN and the new sid, and succeed when resubmitted', async () => {
    const fw = new Framework();
    const card = new TestDriver(fw, CRYPTOCAP_F_HARDWARE, 'card', [CRYPTO_AES_CBC], 10, 5);
    const soft = new TestDriver(fw, CRYPTOCAP_F_SOFTWARE, 'soft', [CRYPTO_AES_CBC]);
    const sid = await fw.newSession(aes(), CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE);
    assert.equal(Number(sid >> 32n), card.id);
    const calls = new Map<CryptoOp, number>();
    const first = Array.from({ length: 1000 }, (_, i) => run(fw, request(fw, sid, i), calls));
    await fw.unregisterAll(card.id);
    const results = await Promise.all(first);
    const again = results.filter((c) => c.etype === EAGAIN);
    assert.ok(again.length > 0 && again.length < 1000, `some were in flight (${1000 - again.length}), the rest moved`);
    assert.ok(results.every((c) => c.etype === 0 || c.etype === EAGAIN));
    const newSid = again[0]!.sid;
    assert.notEqual(newSid, sid);
    assert.equal(Number(newSid >> 32n), soft.id);
    assert.ok(again.every((c) => c.sid === newSid));
    const resubmitted = await Promise.all(again.map((c) => run(fw, c, calls)));
    assert.ok(resubmitted.every((c) => c.etype === 0));
    assert.equal(calls.size, 1000);
    assert.ok(
      [...calls.entries()].every(([c, n]) => n === (again.includes(c) ? 2 : 1)),
      'once per dispatch',
    );
    // A request that still names the old session is told where it went.
    const late = await run(fw, request(fw, sid, 9999), calls);
    assert.equal(late.etype, EAGAIN);
    assert.equal(late.sid, newSid);
    assert.equal(fw.findDriver('card'), -1);
  });

  it('unregister(alg) moves only the sessions that use it', async () => {
    const fw = new Framework();
    const a = new TestDriver(fw, CRYPTOCAP_F_HARDWARE, 'a', [CRYPTO_AES_CBC, CRYPTO_SHA1_HMAC]);
    new TestDriver(fw, CRYPTOCAP_F_SOFTWARE, 'b', [CRYPTO_AES_CBC, CRYPTO_SHA1_HMAC]);
    const any = CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE;
    const mac = await fw.newSession(new CryptoIni({ alg: CRYPTO_SHA1_HMAC, key: new Uint8Array(20) }), any);
    const cipher = await fw.newSession(aes(), any);
    await fw.unregister(a.id, CRYPTO_AES_CBC);
    assert.deepEqual(a.freed, [cipher]);
    const calls = new Map<CryptoOp, number>();
    assert.equal((await run(fw, request(fw, mac, 1), calls)).etype, 0, 'the MAC session stayed');
    assert.equal((await run(fw, request(fw, cipher, 2), calls)).etype, EAGAIN, 'the cipher session moved');
  });

  it('kdispatch: runs a keying operation on a driver that registered it, EOPNOTSUPP otherwise', async () => {
    const fw = new Framework();
    const id = fw.getDriverId(CRYPTOCAP_F_SOFTWARE, 'bn');
    fw.kregister(id, CRK_MOD_EXP, 0, {
      newSession: () => 0,
      freeSession: () => undefined,
      process: () => EINVAL,
      kprocess: (_a, krp) => {
        krp.status = 0;
        queueMicrotask(() => fw.kdone(krp));
        return 0;
      },
    });
    const run1 = (op: number): Promise<CryptKop> =>
      new Promise((resolve) => {
        const krp = new CryptKop();
        krp.op = op;
        krp.callback = resolve;
        assert.equal(fw.kdispatch(krp), 0);
      });
    const ok = await run1(CRK_MOD_EXP);
    assert.equal(ok.status, 0);
    assert.equal(ok.hid, id);
    assert.equal((await run1(3)).status, errnoOf('EOPNOTSUPP'));
    assert.equal(fw.kdispatch(new CryptKop()), EINVAL, 'no callback');
  });

  it('the promise form resolves with the completed request', async () => {
    const fw = new Framework();
    new TestDriver(fw, CRYPTOCAP_F_SOFTWARE, 'soft', [CRYPTO_AES_CBC]);
    const sid = await fw.newSession(aes(), CRYPTOCAP_F_SOFTWARE);
    const crp = await fw.process(request(fw, sid, 1));
    assert.equal(crp.etype, 0);
    assert.equal(await fw.freeSession(sid), 0);
    assert.equal(await fw.freeSession(sid), EINVAL);
  });
});
