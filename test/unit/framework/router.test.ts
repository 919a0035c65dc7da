// How the framework runs a request to a routed session: the router picks an alternative in
// dispatch() and the consumer's request itself runs there (RouterImpl). What could go wrong is
// the bookkeeping around that: the consumer must get its own sid back, hear exactly once, and
// the request must follow an alternative that moves while it is in flight.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { registerCryptosoft } from '../../../src/drivers/software/cryptosoft.js';
import * as C from '../../../src/framework/constants.js';
import { Framework, type DriverImpl } from '../../../src/framework/framework.js';
import { RouteTable, ROUTE_SIZES } from '../../../src/framework/route-table.js';
import { registerRouter } from '../../../src/framework/router.js';
import { CryptoIni, type CryptoOp } from '../../../src/framework/structures.js';
import { errnoOf } from '../../../src/errno.js';

const KEY = randomBytes(16);

/**
 * A device driver that holds every request until release(), as a device with requests in
 * flight does; once failed (failDriver) it drops what it held, as the framework asks of a
 * driver that went away.
 */
function holdingDriver(fw: Framework, name: string): { id: number; held: CryptoOp[]; release(): void } {
  const held: CryptoOp[] = [];
  let next = 0;
  const impl: DriverImpl = {
    newSession: () => next++,
    freeSession: () => undefined,
    process(_a, crp) {
      held.push(crp);
      return 0;
    },
  };
  const id = fw.getDriverId(C.CRYPTOCAP_F_HARDWARE, name);
  fw.register(id, C.CRYPTO_AES_CBC, 0, 0, impl);
  return {
    id,
    held,
    release() {
      for (const crp of held.splice(0)) fw.done(crp);
    },
  };
}

/** A route table in `dir` where `cheap` costs 1 ns per request at every size and `dear` 1 ms. */
function table(dir: string, cheap: string, dear: string, cri: CryptoIni): RouteTable {
  const t = new RouteTable(join(dir, 'routes.json'));
  const key = `${cri.alg}/${cri.klen}`;
  t.set(cheap, key, { time: ROUTE_SIZES.map(() => 1), cpu: ROUTE_SIZES.map(() => 1) });
  t.set(dear, key, { time: ROUTE_SIZES.map(() => 1e6), cpu: ROUTE_SIZES.map(() => 1e6) });
  return t;
}

function request(fw: Framework, sid: bigint, data: Buffer, iv: Buffer): CryptoOp {
  const crp = fw.getReq(1);
  Object.assign(crp, { sid, buf: data, obuf: Buffer.alloc(data.length), flags: crp.flags | C.CRYPTO_F_KC_OBUF_DISPOSABLE });
  Object.assign(crp.desc!, {
    alg: C.CRYPTO_AES_CBC,
    len: data.length,
    iv,
    flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
  });
  return crp;
}

/** What each test starts from: a device, "soft", and a routed session over both. */
interface Routing {
  fw: Framework;
  cri: CryptoIni;
  device: ReturnType<typeof holdingDriver>;
  router: ReturnType<typeof registerRouter>;
  table: RouteTable;
  sid: bigint;
}

/**
 * Runs `body` on a framework with a device that holds its requests and the software driver
 * as "soft", and a routed session whose table makes the device the cheaper at every size.
 */
async function withRoutedSession(body: (r: Routing) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kcrypto-route-'));
  try {
    const fw = new Framework();
    const cri = new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: KEY });
    const device = holdingDriver(fw, 'device');
    registerCryptosoft(fw, 'soft');
    const t = table(dir, 'device', 'soft', cri);
    const router = registerRouter(fw, t);
    const sid = await fw.newSession(cri, C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE, { route: 'fastest' });
    await body({ fw, cri, device, router, table: t, sid });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('routed requests in the framework', () => {
  it('run on the alternative chosen, then reach the consumer once, under the routed sid', async () => {
    await withRoutedSession(async ({ fw, device, router, sid }) => {
      const calls: CryptoOp[] = [];
      const crp = request(fw, sid, randomBytes(4096), randomBytes(16));
      crp.callback = (r) => calls.push(r);
      assert.equal(fw.dispatch(crp), 0);
      assert.equal(device.held.length, 1, 'the request itself went to the device');
      assert.notEqual(device.held[0]!.sid, sid, "under the alternative's sid while there");
      device.release();
      // Without CRYPTO_F_CBIMM the callback comes from the return queue, a turn later.
      await new Promise((r) => setImmediate(r));
      assert.equal(calls.length, 1);
      assert.equal(calls[0], crp);
      assert.equal(crp.sid, sid);
      const stats = new Map(fw.stats().map((s) => [s.name, s]));
      assert.equal(stats.get('device')!.requests, 1);
      assert.equal(stats.get('route0')!.requests, 1);
      assert.equal(stats.get('route0')!.latency.samples, 1, "the router's latency is its requests' latency where they ran");
      assert.deepEqual(router.sent(sid), { device: 1, soft: 0 });
    });
  });

  it('in flight on a device that goes away: each follows its moved alternative and completes once, correctly', async () => {
    await withRoutedSession(async ({ fw, device, router, sid }) => {
      const n = 20;
      const calls = new Map<CryptoOp, number>();
      const expected = new Map<CryptoOp, Buffer>();
      for (let i = 0; i < n; i++) {
        const data = randomBytes(16 * (i + 1));
        const iv = randomBytes(16);
        const crp = request(fw, sid, data, iv);
        const c = createCipheriv('aes-128-cbc', KEY, iv).setAutoPadding(false);
        expected.set(crp, Buffer.concat([c.update(data), c.final()]));
        crp.callback = (r) => calls.set(r, (calls.get(r) ?? 0) + 1);
        fw.dispatch(crp);
      }
      assert.equal(device.held.length, n);
      await fw.failDriver(device.id);
      // The gone device's late completions are dropped by it; none reach the consumer again.
      device.held.splice(0);
      await new Promise((r) => setImmediate(r));
      assert.equal(calls.size, n);
      for (const [crp, count] of calls) {
        assert.equal(count, 1, 'exactly one completion');
        assert.equal(crp.etype, 0);
        assert.equal(crp.sid, sid, 'the consumer keeps its sid');
        assert.ok(Buffer.from(crp.obuf!).equals(expected.get(crp)!), 'computed on the alternative it moved to');
      }
      // The device's alternative moved to "soft", which is an alternative already: that one
      // took each request routed again.
      assert.deepEqual(router.sent(sid), { device: n, soft: n });
      assert.equal(fw.stats().find((s) => s.name === 'soft')!.requests, n);
      // The router counts nothing in flight any more: the next request goes where it is cheapest now.
      const next = request(fw, sid, randomBytes(64), randomBytes(16));
      assert.equal((await fw.process(next)).etype, 0);
    });
  });

  it('a device registered again after its driver went (a card plugged back) is adopted by the sessions open, once', async () => {
    await withRoutedSession(async ({ fw, cri, device, router, table: t, sid }) => {
      await fw.failDriver(device.id);
      // The device's alternative follows its moved session on its next request.
      assert.equal((await fw.process(request(fw, sid, randomBytes(4096), randomBytes(16)))).etype, 0);
      assert.equal(router.routeFor(sid, 4096)!.driver, 'soft', 'only "soft" is left');
      const back = holdingDriver(fw, 'device-again');
      t.set('device-again', `${cri.alg}/${cri.klen}`, { time: ROUTE_SIZES.map(() => 1), cpu: ROUTE_SIZES.map(() => 1) });
      assert.equal(await router.adopt(back.id), 1);
      assert.equal(await router.adopt(back.id), 0, 'a session already on it gains nothing');
      assert.ok(router.alternatives(sid)!.some((a) => a.driver === back.id && !a.gone));
      assert.equal(router.routeFor(sid, 4096)!.driver, 'device-again');
      const data = randomBytes(4096);
      const iv = randomBytes(16);
      const crp = request(fw, sid, data, iv);
      const done = fw.process(crp);
      assert.equal(back.held.length, 1, 'the request went to the device that came back');
      back.release();
      const r = await done;
      assert.equal(r.etype, 0);
      assert.equal(r.sid, sid);
      assert.equal(router.sent(sid)!['device-again'], 1);
      // A session freed is not adopted.
      await fw.freeSession(sid);
      const later = holdingDriver(fw, 'device-later');
      assert.equal(await router.adopt(later.id), 0);
    });
  });

  it("an alternative whose session moves to a driver that is none of the others takes that driver's costs", async () => {
    await withRoutedSession(async ({ fw, cri, device, router, table: t, sid }) => {
      // A second device arrives after the session was opened; it is dearer than "soft".
      const late = holdingDriver(fw, 'late-device');
      t.set('late-device', `${cri.alg}/${cri.klen}`, { time: ROUTE_SIZES.map(() => 1e9), cpu: ROUTE_SIZES.map(() => 1e9) });
      const first = request(fw, sid, randomBytes(4096), randomBytes(16));
      first.callback = () => undefined;
      fw.dispatch(first);
      assert.equal(device.held.length, 1);
      // The device goes: its session moves to the late device (hardware first). The request is
      // routed again, and the alternative now costs what the late device costs: more than
      // "soft" (with the device's costs kept, it would have gone to the late device).
      await fw.failDriver(device.id);
      await new Promise((r) => setImmediate(r));
      assert.equal(late.held.length, 0);
      assert.equal(first.etype, 0);
      assert.equal(first.sid, sid);
      assert.deepEqual(router.sent(sid), { 'late-device': 1, soft: 1 }, "the alternative took the late device's name");
      assert.equal(router.routeFor(sid, 4096)!.driver, 'soft');
      const next = request(fw, sid, randomBytes(4096), randomBytes(16));
      assert.equal((await fw.process(next)).etype, 0);
      assert.deepEqual(router.sent(sid), { 'late-device': 1, soft: 2 });
    });
  });

  it('a router that cannot place a request fails it with EINVAL, once, without throwing', async () => {
    const fw = new Framework();
    registerCryptosoft(fw, 'a');
    registerCryptosoft(fw, 'b');
    const id = fw.getDriverId(C.CRYPTOCAP_F_SOFTWARE | C.CRYPTOCAP_F_HARDWARE, 'router');
    let settled = 0;
    fw.attachRouter(id, {
      newSession: () => 0,
      freeSession: () => undefined,
      route: () => {
        throw new Error('no such routed session');
      },
      settle: () => {
        settled++;
      },
    });
    const sid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: KEY }), C.CRYPTOCAP_F_SOFTWARE, {
      route: 'fastest',
    });
    const crp = request(fw, sid, randomBytes(64), randomBytes(16));
    let calls = 0;
    crp.callback = () => {
      calls++;
    };
    assert.equal(fw.dispatch(crp), 0);
    await new Promise((r) => setImmediate(r));
    assert.equal(calls, 1);
    assert.equal(crp.etype, errnoOf('EINVAL'));
    assert.equal(crp.sid, sid);
    assert.equal(settled, 0, 'the router placed nothing, so it settles nothing');
    // The same request, reused on a plain session, is that session's only.
    const plain = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: KEY }), fw.findDriver('a'));
    crp.sid = plain;
    crp.flags |= C.CRYPTO_F_CBIMM;
    assert.equal(fw.dispatch(crp), 0);
    assert.equal(calls, 2);
    assert.equal(crp.etype, 0);
    assert.equal(crp.sid, plain);
    assert.equal(settled, 0);
  });
});
