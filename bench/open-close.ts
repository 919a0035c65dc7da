/**
 * Session open and close on one driver, and the event loop meanwhile. On a device, binding and
 * keying a transform and releasing it are device round trips; kcrypto runs them on the device
 * lane, so the loop should stay as free as it is idle while sessions come and go.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { openSession } from '../src/index.js';
import { errorText } from './common.js';
import { loopDelayDuring } from './measure.js';
import type { OpenCloseRow } from './results.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor((s.length - 1) / 2)]!;
}

/**
 * `rounds` times, one after another: opens an AES-128-CBC session on `driver`, encrypts 16
 * bytes, closes it. Times each open and close, and the lateness of a 1 ms timer throughout.
 */
export async function openCloseRow(driver: string, rounds: number): Promise<OpenCloseRow> {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const opens: number[] = [];
  const closes: number[] = [];
  let served = '';
  try {
    const { delay } = await loopDelayDuring(async () => {
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        const s = await openSession({ cipher: 'aes-128-cbc', key }, { driver });
        opens.push(performance.now() - t0);
        served = s.driver;
        await s.encrypt(Buffer.alloc(16), { iv });
        const t1 = performance.now();
        await s.close();
        closes.push(performance.now() - t1);
      }
    });
    return { label: `kcrypto ${served}`, rounds, openMs: median(opens), closeMs: median(closes), delay };
  } catch (err) {
    return { label: `kcrypto {driver: '${driver}'}`, rounds, reason: errorText(err) };
  }
}
