// Sessions the framework composes from several driver sessions: split sessions (a chain no
// single driver has), the same algorithm twice in one session, and routed sessions (each
// request to the driver measured fastest for its size). Real computations on cryptosoft,
// checked against node:crypto.
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { registerCryptosoft } from '../../../src/drivers/software/cryptosoft.js';
import * as C from '../../../src/framework/constants.js';
import { Framework, type DriverImpl, type SessionInfo } from '../../../src/framework/framework.js';
import { RouteTable, ROUTE_SIZES } from '../../../src/framework/route-table.js';
import { registerRouter } from '../../../src/framework/router.js';
import { registerSplitter } from '../../../src/framework/splitter.js';
import { CryptoIni, type CryptoOp } from '../../../src/framework/structures.js';
import { errnoOf } from '../../../src/errno.js';

/**
 * A driver that serves some algorithms of cryptosoft by forwarding to a private cryptosoft
 * instance, completing each request after `delay(size)` ms: a stand-in for a device whose
 * cost depends on the size.
 */
function delegatingDriver(
  fw: Framework,
  name: string,
  flags: number,
  algs: number[],
  delay: (size: number) => number,
  info: SessionInfo = {},
): { id: number; processed: () => number } {
  const inner = new Framework();
  const soft = registerCryptosoft(inner);
  let processed = 0;
  const sids = new Map<number, bigint>();
  let next = 0;
  const impl: DriverImpl = {
    async newSession(_a, cri) {
      const lid = next++;
      sids.set(lid, await inner.newSession(cri, soft));
      return lid;
    },
    async freeSession(_a, sid) {
      await inner.freeSession(sids.get(Number(sid & 0xffffffffn))!);
    },
    process(_a, crp) {
      processed++;
      let size = 0;
      for (let d = crp.desc; d; d = d.next) size = Math.max(size, d.len);
      const outerSid = crp.sid;
      const cb = crp.callback;
      crp.sid = sids.get(Number(outerSid & 0xffffffffn))!;
      crp.callback = (r) => {
        setTimeout(() => {
          r.sid = outerSid;
          r.callback = cb;
          // The inner framework marked it done; this driver completes it to the outer one.
          r.flags &= ~C.CRYPTO_F_DONE;
          fw.done(r);
        }, delay(size));
      };
      inner.dispatch(crp);
      return 0;
    },
    describeSession: () => info,
  };
  const id = fw.getDriverId(flags, name);
  for (const a of algs) fw.register(id, a, 0, 0, impl);
  return { id, processed: () => processed };
}

const KEY = randomBytes(16);
const MACKEY = randomBytes(32);

describe('split sessions', () => {
  it('a cipher on one driver and its MAC on another behave as one session (encrypt-then-MAC over one buffer)', async () => {
    const fw = new Framework();
    const cipherOnly = delegatingDriver(fw, 'cipher-device', C.CRYPTOCAP_F_HARDWARE, [C.CRYPTO_AES_CBC], () => 0);
    const macOnly = delegatingDriver(fw, 'mac-device', C.CRYPTOCAP_F_HARDWARE, [C.CRYPTO_SHA2_256_HMAC], () => 0);
    const splitter = registerSplitter(fw);
    const cri = new CryptoIni({
      alg: C.CRYPTO_AES_CBC,
      klen: 128,
      key: KEY,
      next: new CryptoIni({ alg: C.CRYPTO_SHA2_256_HMAC, klen: 256, key: MACKEY, mlen: 16 }),
    });
    await assert.rejects(fw.newSession(cri, cipherOnly.id), /no driver supports/, 'a named driver is not split');
    const sid = await fw.newSession(cri, C.CRYPTOCAP_F_HARDWARE);
    assert.equal(fw.sessionInfo(sid)?.driverId, splitter);
    const payload = randomBytes(64);
    const iv = randomBytes(16);
    const buf = Buffer.concat([Buffer.from('hdr!'), payload, Buffer.alloc(16)]);
    const crp = fw.getReq(2);
    crp.sid = sid;
    crp.buf = buf;
    Object.assign(crp.desc!, {
      alg: C.CRYPTO_AES_CBC,
      skip: 4,
      len: 64,
      flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
      iv,
    });
    Object.assign(crp.desc!.next!, { alg: C.CRYPTO_SHA2_256_HMAC, skip: 0, len: 68, inject: 68 });
    const done = await fw.process(crp);
    assert.equal(done.etype, 0);
    const c = createCipheriv('aes-128-cbc', KEY, iv).setAutoPadding(false);
    const ct = Buffer.concat([c.update(payload), c.final()]);
    assert.deepEqual(buf.subarray(4, 68), ct);
    assert.deepEqual(buf.subarray(68), createHmac('sha256', MACKEY).update(buf.subarray(0, 68)).digest().subarray(0, 16));
    assert.equal(cipherOnly.processed(), 1);
    assert.equal(macOnly.processed(), 1);
    await fw.freeSession(sid);
  });

  it('a part whose driver is unregistered moves unseen: the split session keeps working', async () => {
    const fw = new Framework();
    const cipherDev = delegatingDriver(fw, 'cipher-device', C.CRYPTOCAP_F_HARDWARE, [C.CRYPTO_AES_CBC], () => 1);
    delegatingDriver(fw, 'mac-device', C.CRYPTOCAP_F_HARDWARE, [C.CRYPTO_SHA2_256_HMAC], () => 0);
    registerSplitter(fw);
    registerCryptosoft(fw);
    // Hardware only, so that the chain is split rather than given to cryptosoft whole.
    const cri = new CryptoIni({
      alg: C.CRYPTO_AES_CBC,
      klen: 128,
      key: KEY,
      next: new CryptoIni({ alg: C.CRYPTO_SHA2_256_HMAC, klen: 256, key: MACKEY }),
    });
    const sid = await fw.newSession(cri, C.CRYPTOCAP_F_HARDWARE);
    const run = async (): Promise<CryptoOp> => {
      const crp = fw.getReq(1);
      crp.sid = sid;
      crp.buf = randomBytes(32);
      Object.assign(crp.desc!, { alg: C.CRYPTO_AES_CBC, len: 32, flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT });
      return fw.process(crp);
    };
    assert.equal((await run()).etype, 0);
    await fw.unregisterAll(cipherDev.id);
    const after = await run();
    assert.equal(after.etype, 0, 'the cipher part moved to cryptosoft');
    assert.equal(after.sid, sid, 'the caller keeps its sid');
  });
});

describe('the same algorithm twice in one session', () => {
  it('two HMAC-SHA256 with different keys over different regions: the n-th descriptor uses the n-th key', async () => {
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const sid = await fw.newSession(
      new CryptoIni({
        alg: C.CRYPTO_SHA2_256_HMAC,
        klen: 256,
        key: k1,
        next: new CryptoIni({ alg: C.CRYPTO_SHA2_256_HMAC, klen: 256, key: k2, mlen: 12 }),
      }),
      id,
    );
    const buf = Buffer.concat([randomBytes(100), Buffer.alloc(32 + 12)]);
    const crp = fw.getReq(2);
    crp.sid = sid;
    crp.buf = buf;
    Object.assign(crp.desc!, { alg: C.CRYPTO_SHA2_256_HMAC, skip: 0, len: 50, inject: 100 });
    Object.assign(crp.desc!.next!, { alg: C.CRYPTO_SHA2_256_HMAC, skip: 50, len: 50, inject: 132 });
    assert.equal((await fw.process(crp)).etype, 0);
    assert.deepEqual(buf.subarray(100, 132), createHmac('sha256', k1).update(buf.subarray(0, 50)).digest());
    assert.deepEqual(buf.subarray(132, 144), createHmac('sha256', k2).update(buf.subarray(50, 100)).digest().subarray(0, 12));
  });
});

describe('routed sessions', () => {
  it('measures each driver per size, caches the table on disk, and sends each request to the fastest for its size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-routes-'));
    try {
      const fw = new Framework();
      // "cpu" is instant for small requests and slow for large ones; "device" the reverse.
      const cpu = delegatingDriver(fw, 'cpu', C.CRYPTOCAP_F_SOFTWARE, [C.CRYPTO_AES_CBC], (n) => (n >= 16384 ? 8 : 0));
      const device = delegatingDriver(fw, 'device', C.CRYPTOCAP_F_HARDWARE, [C.CRYPTO_AES_CBC], (n) => (n >= 16384 ? 0 : 8));
      const table = new RouteTable(join(dir, 'routes.json'));
      const router = registerRouter(fw, table);
      const cri = new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: KEY });
      const sid = await fw.newSession(cri, C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE, { route: 'fastest' });
      assert.equal(fw.sessionInfo(sid)?.driverId, router.id);
      const routes = router.routes(sid)!;
      assert.deepEqual(
        routes.map((r) => r.driver),
        ROUTE_SIZES.map((s) => (s >= 16384 ? 'device' : 'cpu')),
      );
      const before = { cpu: cpu.processed(), device: device.processed() };
      for (const size of [64, 65536]) {
        const crp = fw.getReq(1);
        crp.sid = sid;
        crp.buf = randomBytes(size);
        Object.assign(crp.desc!, { alg: C.CRYPTO_AES_CBC, len: size, flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT });
        assert.equal((await fw.process(crp)).etype, 0);
      }
      assert.equal(cpu.processed() - before.cpu, 1, 'the 64-byte request went to cpu');
      assert.equal(device.processed() - before.device, 1, 'the 64 KiB request went to device');
      // A second framework reads the table from disk instead of measuring again.
      const fw2 = new Framework();
      const cpu2 = delegatingDriver(fw2, 'cpu', C.CRYPTOCAP_F_SOFTWARE, [C.CRYPTO_AES_CBC], () => 0);
      delegatingDriver(fw2, 'device', C.CRYPTOCAP_F_HARDWARE, [C.CRYPTO_AES_CBC], () => 0);
      const r2 = registerRouter(fw2, new RouteTable(join(dir, 'routes.json')));
      const sid2 = await fw2.newSession(cri, C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE, { route: 'fastest' });
      assert.equal(cpu2.processed(), 0, 'nothing was measured: the cached table was used');
      assert.deepEqual(
        r2.routes(sid2)!.map((r) => r.driver),
        routes.map((r) => r.driver),
      );
      r2.table.clear();
      assert.equal(r2.table.snapshot().length, 0, 'clear() forgets the measurements (refresh)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a stream never goes to a driver whose sessions keep no hash state, nor a request to one too small for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-routes-'));
    try {
      const fw = new Framework();
      // "bsd" is the cheaper at every size, but hashes whole messages of at most 1 KiB only.
      const bsd = delegatingDriver(fw, 'bsd', C.CRYPTOCAP_F_HARDWARE, [C.CRYPTO_SHA2_256], () => 0, {
        stateless: true,
        maxRequestBytes: 1024,
      });
      const cpu = delegatingDriver(fw, 'cpu', C.CRYPTOCAP_F_SOFTWARE, [C.CRYPTO_SHA2_256], () => 4);
      registerRouter(fw, new RouteTable(join(dir, 'routes.json')));
      const sid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_SHA2_256 }), C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE, {
        route: 'fastest',
      });
      const run = async (size: number, flags = 0): Promise<CryptoOp> => {
        const crp = fw.getReq(1);
        crp.sid = sid;
        crp.buf = randomBytes(size);
        crp.mac = Buffer.alloc(32);
        Object.assign(crp.desc!, { alg: C.CRYPTO_SHA2_256, len: size, flags });
        return fw.process(crp);
      };
      const before = { bsd: bsd.processed(), cpu: cpu.processed() };
      assert.equal((await run(64)).etype, 0);
      assert.equal(bsd.processed() - before.bsd, 1, 'a small digest goes to the cheaper driver');
      assert.equal((await run(4096)).etype, 0);
      assert.equal(cpu.processed() - before.cpu, 1, 'a digest over its limit does not');
      assert.equal((await run(64, C.CRD_F_KC_UPDATE)).etype, 0);
      assert.equal((await run(0, C.CRD_F_KC_FINAL)).etype, 0);
      assert.equal(cpu.processed() - before.cpu, 3, 'the stream went to the driver that keeps a state');
      assert.equal(bsd.processed() - before.bsd, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a request whose driver went away is resubmitted by the router; a disposable obuf is replaced, for the consumer too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-routes-'));
    try {
      const fw = new Framework();
      delegatingDriver(fw, 'cpu', C.CRYPTOCAP_F_SOFTWARE, [C.CRYPTO_AES_CBC], (n) => (n >= 16384 ? 8 : 0));
      const device = delegatingDriver(fw, 'device', C.CRYPTOCAP_F_HARDWARE, [C.CRYPTO_AES_CBC], (n) => (n >= 16384 ? 0 : 8));
      registerRouter(fw, new RouteTable(join(dir, 'routes.json')));
      const sid = await fw.newSession(
        new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: KEY }),
        C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE,
        { route: 'fastest' },
      );
      // The 64 KiB requests go to "device"; it goes away, and its session moves.
      await fw.unregisterAll(device.id);
      for (const flags of [C.CRYPTO_F_KC_OBUF_DISPOSABLE, 0]) {
        const data = randomBytes(65536);
        const iv = randomBytes(16);
        const obuf = Buffer.alloc(data.length);
        const crp = fw.getReq(1);
        Object.assign(crp, { sid, buf: data, obuf, flags: crp.flags | flags });
        Object.assign(crp.desc!, {
          alg: C.CRYPTO_AES_CBC,
          len: data.length,
          iv,
          flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
        });
        const done = await fw.process(crp);
        assert.equal(done.etype, 0);
        assert.equal(done.sid, sid, 'the consumer keeps its sid');
        const c = createCipheriv('aes-128-cbc', KEY, iv).setAutoPadding(false);
        const expected = Buffer.concat([c.update(data), c.final()]);
        if (flags) {
          assert.notEqual(done.obuf, obuf, 'a fresh output buffer for the resubmission');
          assert.ok(Buffer.from(done.obuf!).equals(expected));
        } else {
          assert.equal(done.obuf, obuf, "without the flag the consumer's buffer is kept");
          assert.ok(obuf.equals(expected));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with one candidate there is no routing: the session is on that driver', async () => {
    const fw = new Framework();
    const id = registerCryptosoft(fw);
    registerRouter(fw, new RouteTable(join(tmpdir(), `kcrypto-none-${process.pid}.json`)));
    const sid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: KEY }), C.CRYPTOCAP_F_SOFTWARE, {
      route: 'fastest',
    });
    assert.equal(fw.sessionInfo(sid)?.driverId, id);
    assert.equal(errnoOf('EINVAL') > 0, true);
  });
});
