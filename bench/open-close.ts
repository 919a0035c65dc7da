/**
 * Session open and close on one driver, and the event loop meanwhile. On a device, binding and
 * keying a transform and releasing it are device round trips; kcrypto runs them on the device
 * lane, so the loop should stay as free as it is idle while sessions come and go.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { openSession } from '../src/index.js';
import { loadAddon } from '../src/kernel/bridge/addon.js';
import { Op } from '../src/kernel/bridge/engine/index.js';
import { errorText } from './common.js';
import { loopDelayDuring } from './measure.js';
import type { OpenCloseRow } from './results.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor((s.length - 1) / 2)]!;
}

/**
 * `rounds` times, one after another, after one uncounted round: opens an AES-128-CBC session on
 * `driver`, encrypts 16 bytes, closes it. Times each open and close, and the lateness of a 1 ms
 * timer throughout the counted rounds.
 */
export async function openCloseRow(driver: string, rounds: number): Promise<OpenCloseRow> {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const opens: number[] = [];
  const closes: number[] = [];
  let served = '';
  const round = async (): Promise<void> => {
    const t0 = performance.now();
    const s = await openSession({ cipher: 'aes-128-cbc', key }, { driver });
    opens.push(performance.now() - t0);
    served = s.driver;
    await s.encrypt(Buffer.alloc(16), { iv });
    const t1 = performance.now();
    await s.close();
    closes.push(performance.now() - t1);
  };
  try {
    await round();
    opens.length = closes.length = 0;
    const { delay } = await loopDelayDuring(async () => {
      for (let i = 0; i < rounds; i++) await round();
    });
    return { label: `kcrypto ${served}`, rounds, openMs: median(opens), closeMs: median(closes), delay };
  } catch (err) {
    return { label: `kcrypto {driver: '${driver}'}`, rounds, reason: errorText(err) };
  }
}

/**
 * The same rounds through the engine alone, with the open and close on this thread: the
 * native `openAfAlg()` bound and keyed in the call, and `close()` released in the call, as
 * every kcrypto session did before its device opens moved to the device lane. The request
 * runs inline (`run()`).
 */
export function openCloseOnThisThreadRow(bindName: string, rounds: number): Promise<OpenCloseRow> {
  const { addon } = loadAddon();
  const label = `engine openAfAlg('${bindName}') on this thread`;
  if (!addon?.openAfAlg) return Promise.resolve({ label, rounds, reason: 'no AF_ALG in this addon' });
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const opens: number[] = [];
  const closes: number[] = [];
  const round = (): void => {
    const t0 = performance.now();
    const native = addon.openAfAlg!('skcipher', bindName, key, 0, true, 4 << 20, 0);
    opens.push(performance.now() - t0);
    const out = Buffer.alloc(16);
    const rc = native.run(Op.Encrypt, Buffer.alloc(16), out, iv, 0, -1);
    const t1 = performance.now();
    native.close();
    closes.push(performance.now() - t1);
    if (rc < 0) throw new Error(`${bindName}: encrypt failed (${rc})`);
  };
  // One round at a time, each in its own turn, so that the timer can run between them.
  const turn = (): Promise<void> =>
    new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          round();
          resolve();
        } catch (err) {
          reject(err);
        }
      }),
    );
  return (async () => {
    try {
      await turn();
      opens.length = closes.length = 0;
      const { delay } = await loopDelayDuring(async () => {
        for (let i = 0; i < rounds; i++) await turn();
      });
      return { label, rounds, openMs: median(opens), closeMs: median(closes), delay };
    } catch (err) {
      return { label, rounds, reason: errorText(err) };
    }
  })();
}
