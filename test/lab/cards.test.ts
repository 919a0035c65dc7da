// Several virtio-crypto cards behind one kernel driver name: the kernel binds a transform to one
// card when it is created, so the AF_ALG framework driver opens one transform per card for a
// session and spreads its requests over them. Which card served a request is read from the
// cards' interrupt counts in /proc/interrupts: a session on the framework driver must make
// every card interrupt, where a single kernel transform (the control) makes only one of them.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { findCipher, type CipherAlgorithm } from '../../src/algorithms/catalog.js';
import { kernelReport, targetOf } from '../../src/api/kernel-view.js';
import { openAfAlgCipher } from '../../src/drivers/afalg/sessions.js';
import { registerAfAlgDriver } from '../../src/drivers/afalg/driver.js';
import * as C from '../../src/framework/constants.js';
import { Framework } from '../../src/framework/framework.js';
import { CryptoIni, type CryptoOp } from '../../src/framework/structures.js';
import { deviceWatch } from '../../src/kernel/discovery/device-watch.js';
import { IN_LAB } from '../support/drivers.js';

const DRIVER = 'virtio_crypto_aes_cbc';
const REQUESTS = 256;
const SIZE = 16 * 1024;

/** Interrupts each card raised so far, by its virtio device name, from /proc/interrupts. */
function interrupts(cards: readonly string[]): Map<string, number> {
  const out = new Map(cards.map((c) => [c, 0]));
  for (const line of readFileSync('/proc/interrupts', 'utf8').split('\n')) {
    const card = cards.find((c) => new RegExp(`\\b${c}-`).test(line) || line.trim().endsWith(` ${c}`));
    if (!card) continue;
    const counts = line.split(':')[1]?.trim().split(/\s+/) ?? [];
    let n = 0;
    for (const f of counts) {
      if (!/^\d+$/.test(f)) break;
      n += Number(f);
    }
    out.set(card, out.get(card)! + n);
  }
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...after].map(([c, n]) => [c, n - (before.get(c) ?? 0)]));
}

async function whySkip(): Promise<string | undefined> {
  if (!IN_LAB) return 'needs virtio-crypto cards: runs in the lab';
  const cards = deviceWatch.devices().filter((d) => d.sysfsDriver === 'virtio_crypto');
  if (cards.length < 2) return `needs two virtio-crypto cards, found ${cards.length}`;
  if (!(await kernelReport())?.drivers.some((d) => d.driver === DRIVER)) return `${DRIVER} is not registered`;
  return undefined;
}

const skip = await whySkip();
// Since 7.2 AF_ALG refuses asynchronous drivers: the cards are out of its reach, and that is
// what this kernel is held to.
const refused = skip === undefined && (await kernelReport())!.drivers.find((x) => x.driver === DRIVER)?.asyncRefused === true;

describe('several cards behind one kernel driver', { skip: skip ?? false }, () => {
  if (refused) {
    it(`${DRIVER} is refused through AF_ALG on this kernel, with the reason, on every card`, async () => {
      const d = (await kernelReport())!.drivers.find((x) => x.driver === DRIVER)!;
      assert.equal(d.reachable, false);
      assert.match(d.reason ?? '', /asynchronous drivers are refused through AF_ALG since 7\.2/);
      // A device's transform opens on the device lane: the refusal comes from its open.
      const b = openAfAlgCipher(findCipher('aes-128-cbc', 16) as CipherAlgorithm, randomBytes(16), targetOf(d));
      await assert.rejects(b.ready!, (e: unknown) => {
        const err = e as { code?: string; syscall?: string };
        return err.code === 'ENOENT' && err.syscall === 'bind';
      });
      await b.close();
    });
    return;
  }
  it('a framework session spreads its requests over every card; one kernel transform stays on one', async (t) => {
    const cards = deviceWatch
      .devices()
      .filter((d) => d.sysfsDriver === 'virtio_crypto')
      .map((d) => d.name);
    const d = (await kernelReport())!.drivers.find((x) => x.driver === DRIVER)!;
    const key = randomBytes(16);
    const data = randomBytes(SIZE);
    const iv = randomBytes(16);
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    const expected = Buffer.concat([c.update(data), c.final()]);

    // Control: one kernel transform, 8 requests in flight at a time.
    const single = openAfAlgCipher(findCipher('aes-128-cbc', 16) as CipherAlgorithm, key, targetOf(d));
    const i0 = interrupts(cards);
    for (let done = 0; done < REQUESTS; done += 8) {
      const outs = await Promise.all(Array.from({ length: 8 }, () => Promise.resolve(single.encrypt(data, iv))));
      for (const o of outs) assert.ok(o.ciphertext.equals(expected));
    }
    const control = delta(i0, interrupts(cards));
    await single.close();

    // The framework driver: one session, the same load.
    const fw = new Framework();
    const id = registerAfAlgDriver(fw, { craName: d.name, target: targetOf(d), hardware: true });
    const sid = await fw.newSession(new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key }), id);
    const one = (): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        const buf = Buffer.from(data);
        const crp: CryptoOp = fw.getReq(1);
        crp.sid = sid;
        crp.buf = buf;
        crp.flags = C.CRYPTO_F_CBIMM;
        Object.assign(crp.desc!, {
          alg: C.CRYPTO_AES_CBC,
          len: SIZE,
          flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
          iv,
        });
        crp.callback = (r) => (r.etype === 0 ? resolve(buf) : reject(new Error(`etype ${r.etype}`)));
        fw.dispatch(crp);
      });
    const i1 = interrupts(cards);
    for (let done = 0; done < REQUESTS; done += 8) {
      const outs = await Promise.all(Array.from({ length: 8 }, one));
      for (const o of outs) assert.ok(o.equals(expected));
    }
    const spread = delta(i1, interrupts(cards));
    await fw.freeSession(sid);
    t.diagnostic(`interrupts per card: one transform ${JSON.stringify(control)}, framework session ${JSON.stringify(spread)}`);

    assert.equal(Object.values(control).filter((n) => n > 0).length, 1, `one kernel transform uses one card: ${JSON.stringify(control)}`);
    for (const card of cards) assert.ok(spread[card]! > 0, `the framework session used ${card}: ${JSON.stringify(spread)}`);
  });
});
