// The crypto(9) framework over real kernel drivers: every AF_ALG framework driver computes
// what cryptosoft computes for each algorithm it registers (descriptor requests, the
// framework's own path); unregistering a driver with 1000 requests in flight loses none and
// completes each once; a driver that pushes back with ERESTART loses nothing and keeps each
// session's order; 10 000 sessions opened and freed give back every descriptor.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';

import { registerAfAlgDriver } from '../../src/drivers/afalg/driver.js';
import { registerCryptosoft } from '../../src/drivers/software/cryptosoft.js';
import { kernelReport, targetOf } from '../../src/api/kernel-view.js';
import { kindOf } from '../../src/framework/algorithms.js';
import * as C from '../../src/framework/constants.js';
import { Framework, type DriverImpl } from '../../src/framework/framework.js';
import { CryptoDesc, CryptoIni, CryptoOp } from '../../src/framework/structures.js';
import { idsOfKernelName } from '../../src/algorithms/crypto-ids.js';
import type { KernelDriver } from '../../src/kernel/discovery/discover.js';
import { errnoOf } from '../../src/errno.js';
import { canCountFds, leakedFds, openFds } from '../support/fds.js';
import { IN_LAB } from '../support/drivers.js';

const EAGAIN = errnoOf('EAGAIN');

let drivers: KernelDriver[] = [];
let noKernel: string | undefined;

before(async () => {
  const k = await kernelReport();
  if (!k?.afalg.available) noKernel = `AF_ALG unavailable here${IN_LAB ? '' : ' (runs in the lab)'}`;
  else drivers = k.drivers.filter((d) => !d.internal && d.reachable && idsOfKernelName(d.name).length > 0);
});

/** A key length each algorithm takes. */
function keyLength(alg: number): number {
  if (alg === C.CRYPTO_AES_XTS || alg === C.CRYPTO_CHACHA20_POLY1305) return 32;
  const k = kindOf(alg);
  if (k?.kind === 'auth' && !k.keyed) return 0;
  if (k?.kind === 'rng') return 0;
  return alg === C.CRYPTO_KC_AES_CMAC || k?.kind === 'cipher' || k?.kind === 'aead' ? 16 : 32;
}

/** One request exercising `alg` over a 4 KiB buffer (+ room for a tag), as a consumer writes it. */
function request(sid: bigint, alg: number, buf: Buffer, iv: Buffer): CryptoOp {
  const crp = new CryptoOp();
  crp.sid = sid;
  crp.buf = buf;
  const k = kindOf(alg)!;
  const n = buf.length - 64;
  crp.desc = Object.assign(new CryptoDesc(), {
    alg,
    skip: 0,
    len: n,
    inject: n,
    flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
    iv,
  });
  // An AEAD's auth half: no AAD, the tag after the payload.
  if (k.kind === 'aead') crp.desc.next = Object.assign(new CryptoDesc(), { alg: k.auth[0]!, skip: 0, len: 0, inject: n });
  return crp;
}

function run(fw: Framework, crp: CryptoOp): Promise<CryptoOp> {
  return fw.process(crp);
}

describe('AF_ALG framework drivers against cryptosoft', () => {
  it('each registered kernel driver computes what cryptosoft computes, for every algorithm it registers', async (t) => {
    if (noKernel) return t.skip(noKernel);
    const fw = new Framework();
    const soft = registerCryptosoft(fw);
    let checked = 0;
    // authenc() drivers take a cipher with its MAC only: the next test covers them.
    for (const kd of drivers.filter((d) => !d.name.startsWith('authenc('))) {
      const id = registerAfAlgDriver(fw, { craName: kd.name, target: targetOf(kd), hardware: kd.kind === 'hardware' });
      for (const alg of fw.algorithmsOf(id)) {
        const kind = kindOf(alg);
        if (!kind || kind.kind === 'aead-auth' || kind.kind === 'rng' || !fw.algorithmsOf(soft).includes(alg)) continue;
        // A cipher driver's HMACs are served only beside its cipher (authenc): probed below.
        if (kind.kind === 'auth' && kind.keyed && !idsOfKernelName(kd.name).includes(alg)) continue;
        const key = randomBytes(keyLength(alg));
        const ini = (): CryptoIni => {
          const c = new CryptoIni({ alg, klen: key.length * 8, key: key.length ? key : null });
          if (kind.kind === 'aead') c.next = new CryptoIni({ alg: kind.auth[0]!, mlen: 16 });
          return c;
        };
        const sidK = await fw.newSession(ini(), id);
        const sidS = await fw.newSession(ini(), soft);
        const data = randomBytes(4096 + 64);
        const iv = randomBytes(16);
        const [a, b] = [Buffer.from(data), Buffer.from(data)];
        const rk = await run(fw, request(sidK, alg, a, iv));
        const rs = await run(fw, request(sidS, alg, b, iv));
        assert.equal(rk.etype, 0, `${kd.driver} algorithm ${alg}: etype ${rk.etype}`);
        assert.equal(rs.etype, 0, `cryptosoft algorithm ${alg}`);
        assert.ok(a.equals(b), `${kd.driver} and cryptosoft differ for algorithm ${alg}`);
        await fw.freeSession(sidK);
        await fw.freeSession(sidS);
        checked++;
      }
    }
    assert.ok(checked >= drivers.length / 2, `checked ${checked} algorithm/driver pairs over ${drivers.length} drivers`);
  });

  it('a cbc(aes) driver pairs an HMAC with its cipher through one authenc() transform (encrypt-then-MAC)', async (t) => {
    if (noKernel) return t.skip(noKernel);
    const kd = drivers.find((d) => d.name === 'cbc(aes)' && d.kind !== 'hardware');
    if (!kd) return t.skip('no CPU cbc(aes) driver');
    const fw = new Framework();
    const soft = registerCryptosoft(fw);
    const id = registerAfAlgDriver(fw, { craName: kd.name, target: targetOf(kd), hardware: false });
    const key = randomBytes(16);
    const mkey = randomBytes(32);
    const cri = (): CryptoIni =>
      new CryptoIni({
        alg: C.CRYPTO_AES_CBC,
        klen: 128,
        key,
        next: new CryptoIni({ alg: C.CRYPTO_SHA2_256_HMAC, klen: 256, key: mkey, mlen: 16 }),
      });
    const sids = [await fw.newSession(cri(), id), await fw.newSession(cri(), soft)];
    const data = Buffer.concat([randomBytes(8), randomBytes(1024), Buffer.alloc(16)]);
    const iv = randomBytes(16);
    const outs: Buffer[] = [];
    for (const sid of sids) {
      const buf = Buffer.from(data);
      const crp = fw.getReq(2);
      crp.sid = sid;
      crp.buf = buf;
      Object.assign(crp.desc!, {
        alg: C.CRYPTO_AES_CBC,
        skip: 8,
        len: 1024,
        flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
        iv,
      });
      Object.assign(crp.desc!.next!, { alg: C.CRYPTO_SHA2_256_HMAC, skip: 0, len: 1032, inject: 1032 });
      assert.equal((await fw.process(crp)).etype, 0);
      outs.push(buf);
    }
    assert.ok(outs[0]!.equals(outs[1]!), 'authenc() and cryptosoft agree on ciphertext and ICV');
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    assert.ok(outs[0]!.subarray(8, 1032).equals(Buffer.concat([c.update(data.subarray(8, 1032)), c.final()])));
  });
});

describe('migration under load', () => {
  it('unregisterAll with 1000 requests in flight: each completes exactly once, EAGAIN ones succeed when resubmitted', async (t) => {
    if (noKernel) return t.skip(noKernel);
    const kd = drivers.find((d) => d.name === 'cbc(aes)' && d.kind === 'hardware') ?? drivers.find((d) => d.name === 'cbc(aes)');
    if (!kd) return t.skip('no cbc(aes) kernel driver');
    const fw = new Framework();
    registerCryptosoft(fw);
    const id = registerAfAlgDriver(fw, { craName: kd.name, target: targetOf(kd), hardware: kd.kind === 'hardware' });
    const key = randomBytes(16);
    const sid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key }), id);
    const N = 1000;
    const completions = new Array<number>(N).fill(0);
    const inputs = Array.from({ length: N }, () => ({ data: randomBytes(4096), iv: randomBytes(16) }));
    let resubmitted = 0;
    const submit = ({ data, iv }: { data: Buffer; iv: Buffer }, i: number): Promise<Buffer> =>
      new Promise<Buffer>((resolve, reject) => {
        const buf = Buffer.from(data);
        const crp = fw.getReq(1);
        crp.sid = sid;
        crp.buf = buf;
        Object.assign(crp.desc!, {
          alg: C.CRYPTO_AES_CBC,
          len: 4096,
          flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
          iv,
        });
        crp.callback = (r) => {
          completions[i]!++;
          if (r.etype === EAGAIN) {
            resubmitted++;
            assert.notEqual(r.sid, sid, 'EAGAIN carries the new sid');
            fw.dispatch(r);
            return;
          }
          if (r.etype !== 0) reject(new Error(`request ${i}: etype ${r.etype}`));
          else resolve(buf);
        };
        assert.equal(fw.dispatch(crp), 0);
      });
    // 600 in flight on the driver, then unregisterAll while 200 more arrive during the
    // migration and 200 after it: those come back with EAGAIN and the new sid.
    const all = inputs.slice(0, 600).map(submit);
    const unregistering = fw.unregisterAll(id);
    all.push(...inputs.slice(600, 800).map((x, j) => submit(x, 600 + j)));
    await unregistering;
    all.push(...inputs.slice(800).map((x, j) => submit(x, 800 + j)));
    const outs = await Promise.all(all);
    outs.forEach((o, i) => {
      const c = createCipheriv('aes-128-cbc', key, inputs[i]!.iv).setAutoPadding(false);
      assert.ok(o.equals(Buffer.concat([c.update(inputs[i]!.data), c.final()])), `request ${i}`);
    });
    // Each request's callback ran once per dispatch: once, or twice when it came back with EAGAIN.
    const resubmittedCount = completions.filter((n) => n === 2).length;
    assert.ok(
      completions.every((n) => n === 1 || n === 2),
      'no request completed more than once per dispatch',
    );
    assert.equal(resubmittedCount, resubmitted);
    assert.ok(resubmitted >= 200, `at least the 200 requests sent after the migration came back with EAGAIN (${resubmitted})`);
    t.diagnostic(`${N - resubmitted} completed on ${kd.driver}, ${resubmitted} came back with EAGAIN and completed on the new session`);
    const st = fw.stats().find((s) => s.id === id)!;
    assert.equal(st.inFlight, 0);
    assert.equal(st.sessions, 0);
  });
});

describe('flow control', () => {
  it('a driver that returns ERESTART over a queue depth: requests held, resumed on unblock, order per session kept, nothing lost', async (t) => {
    if (noKernel) return t.skip(noKernel);
    const kd = drivers.find((d) => d.name === 'cbc(aes)');
    if (!kd) return t.skip('no cbc(aes) kernel driver');
    const fw = new Framework();
    const inner = registerAfAlgDriver(fw, { craName: kd.name, target: targetOf(kd), hardware: kd.kind === 'hardware' });
    // A driver in TypeScript in front of the kernel driver, taking at most 3 requests at once.
    const DEPTH = 3;
    let inFlight = 0;
    let restarts = 0;
    const innerSids = new Map<number, bigint>();
    let lids = 0;
    const order = new Map<bigint, number[]>();
    const gate: DriverImpl = {
      async newSession(_a, cri) {
        const lid = lids++;
        innerSids.set(lid, await fw.newSession(cri, inner));
        return lid;
      },
      freeSession: async (_a, sid) => {
        await fw.freeSession(innerSids.get(Number(sid & 0xffffffffn))!);
      },
      process(_a, crp) {
        if (inFlight >= DEPTH) {
          restarts++;
          return fw.ERESTART;
        }
        inFlight++;
        // The order the framework hands a session's requests to the driver.
        order.get(crp.sid)!.push((crp.opaque as { seq: number }).seq);
        const sub = new CryptoOp();
        Object.assign(sub, { sid: innerSids.get(Number(crp.sid & 0xffffffffn))!, buf: crp.buf, desc: crp.desc });
        sub.callback = (r) => {
          inFlight--;
          crp.etype = r.etype;
          fw.done(crp);
          fw.unblock(gateId, C.CRYPTO_SYMQ);
        };
        fw.dispatch(sub);
        return 0;
      },
    };
    const gateId = fw.getDriverId(C.CRYPTOCAP_F_HARDWARE, 'gate');
    fw.register(gateId, C.CRYPTO_AES_CBC, 0, 0, gate);
    const sessions = await Promise.all(
      [0, 1, 2].map(() => fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: randomBytes(16) }), gateId)),
    );
    for (const s of sessions) order.set(s, []);
    const PER = 100;
    const done: Promise<CryptoOp>[] = [];
    for (let i = 0; i < PER; i++) {
      for (const s of sessions) {
        const crp = fw.getReq(1);
        crp.sid = s;
        crp.buf = randomBytes(1024);
        crp.opaque = { seq: i };
        Object.assign(crp.desc!, { alg: C.CRYPTO_AES_CBC, len: 1024, flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT });
        done.push(fw.process(crp));
      }
    }
    const results = await Promise.all(done);
    assert.equal(results.length, PER * sessions.length);
    assert.ok(results.every((r) => r.etype === 0));
    for (const s of sessions)
      assert.deepEqual(
        order.get(s),
        Array.from({ length: PER }, (_, i) => i),
        "the order a session's requests reached the driver",
      );
    assert.ok(restarts > 0, 'the driver pushed back');
    assert.ok(fw.stats().find((x) => x.id === gateId)!.blocks > 0);
  });
});

describe('descriptors', () => {
  it('10 000 sessions opened and freed through the framework: every descriptor given back', async (t) => {
    if (noKernel) return t.skip(noKernel);
    if (!canCountFds()) return t.skip('no /proc/self/fd');
    const kd = drivers.find((d) => d.name === 'cbc(aes)' && d.kind !== 'hardware');
    if (!kd) return t.skip('no CPU cbc(aes) driver');
    const fw = new Framework();
    const id = registerAfAlgDriver(fw, { craName: kd.name, target: targetOf(kd), hardware: false });
    const fdsBefore = openFds();
    for (let batch = 0; batch < 100; batch++) {
      const sids = await Promise.all(
        Array.from({ length: 100 }, () => fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: randomBytes(16) }), id)),
      );
      // One request on some of them, so that op sockets are opened too.
      if (batch % 10 === 0) {
        const crp = fw.getReq(1);
        crp.sid = sids[0]!;
        crp.buf = randomBytes(64);
        Object.assign(crp.desc!, { alg: C.CRYPTO_AES_CBC, len: 64, flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT });
        assert.equal((await fw.process(crp)).etype, 0);
      }
      for (const sid of sids) await fw.freeSession(sid);
    }
    assert.deepEqual(leakedFds(fdsBefore, openFds()), []);
    assert.equal(fw.stats().find((s) => s.id === id)!.sessions, 0);
  });
});
