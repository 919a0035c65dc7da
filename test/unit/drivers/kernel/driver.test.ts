// The shared kernel driver: a session whose opens ran on the device lane can come back after
// its device went away; it must not join a driver that is gone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KernelDriver, type KernelDriverSession } from '../../../../src/drivers/kernel/driver.js';
import * as C from '../../../../src/framework/constants.js';
import { Framework, type SessionOptions } from '../../../../src/framework/framework.js';
import { CryptoIni } from '../../../../src/framework/structures.js';

/** A device driver whose sessions open when the test says so, with one transform to close. */
class SlowOpenDriver extends KernelDriver {
  closed = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly spec = { name: 'test:slow-open', kernelDriver: 'test_slow_open', hardware: true };

  get name(): string {
    return this.spec.name;
  }

  get kernelDriver(): string {
    return this.spec.kernelDriver;
  }

  get hardware(): boolean {
    return this.spec.hardware;
  }

  /** Lets the opens in progress finish. */
  finishOpens(): void {
    for (const go of this.waiting.splice(0)) go();
  }

  async newSession(_arg: unknown, cri: CryptoIni, _o?: SessionOptions): Promise<number> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    const close = (): Promise<void> => {
      this.closed++;
      return Promise.resolve();
    };
    const session: KernelDriverSession = {
      entries: [{ alg: cri.alg, mlen: 0, transform: { kind: 'rng', generate: (n) => new Uint8Array(n), close } }],
      stats: undefined,
      maxRequest: 0,
    };
    return this.add(session);
  }
}

function register(fw: Framework): SlowOpenDriver {
  const d = new SlowOpenDriver(fw);
  d.id = fw.getDriverId(C.CRYPTOCAP_F_HARDWARE, d.name);
  fw.register(d.id, C.CRYPTO_AES_CBC, 0, 0, d.impl());
  return d;
}

const aes = (): CryptoIni => new CryptoIni({ alg: C.CRYPTO_AES_CBC, klen: 128, key: new Uint8Array(16) });

describe('kernel driver: sessions that open on the device lane', () => {
  it('joins the driver once its opens have run', async () => {
    const fw = new Framework();
    const d = register(fw);
    const opening = fw.newSession(aes(), C.CRYPTOCAP_F_HARDWARE);
    await new Promise((r) => setImmediate(r));
    d.finishOpens();
    const sid = await opening;
    assert.equal(fw.sessionInfo(sid)?.driver, 'test:slow-open');
    assert.equal(d.driverStats().sessions, 1);
  });

  it('fails with ENXIO, its transforms closed, when the device went away during the open', async () => {
    const fw = new Framework();
    const d = register(fw);
    const opening = fw.newSession(aes(), C.CRYPTOCAP_F_HARDWARE);
    await new Promise((r) => setImmediate(r));
    d.markGone('removed by the test');
    d.finishOpens();
    await assert.rejects(opening, (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENXIO');
      assert.match(err.message, /went away while the session opened \(removed by the test\)/);
      return true;
    });
    assert.equal(d.closed, 1);
    assert.equal(d.driverStats().sessions, 0);
  });
});
