// The workload and report helpers of hot-unplug.test.ts (run inside a lab guest): its settings,
// what each request's outcome records, framework requests that follow a moving session, the tally
// of outcomes, waiting, and what the guest's /proc and /sys say.
import { createCipheriv } from 'node:crypto';
import { access, readdir, readFile } from 'node:fs/promises';
import { inspect } from 'node:util';

import { framework } from '../../src/api/framework-instance.js';
import { KCryptoError } from '../../src/index.js';
import { deviceWatch, type CryptoDevice } from '../../src/kernel/discovery/device-watch.js';
import * as C from '../../src/framework/constants.js';
import type { CryptoOp } from '../../src/framework/structures.js';
import { afAlgUnavailable, IN_LAB, kernelListing } from '../support/drivers.js';

export const DRIVER = 'virtio_crypto_aes_cbc';
export const LABEL = `afalg:${DRIVER}`;
/** Short, so that requests stuck on the removed card are abandoned well within the run. */
export const DEADLINE_MS = 3000;
/** Sessions of each kind: openSession() ones, and kernel sessions of the AF_ALG driver. */
export const SESSIONS = 4;
/** Concurrent request loops per session. */
export const LOOPS = 2;
export const SIZE = 16 * 1024;
const TYPED = new Set(['ETIMEDOUT', 'ENODEV', 'ESHUTDOWN', 'EIO']);

export type Layer = 'framework' | 'api' | 'kernel';
export const LAYERS: readonly Layer[] = ['framework', 'api', 'kernel'];

export interface Outcome {
  /** The kind of session, and which session of that kind. */
  layer: Layer;
  session: number;
  /** How many times the request's promise settled (a settling counted twice would be a bug here). */
  settles: number;
  ok?: boolean;
  error?: unknown;
  /** framework: callbacks run (one per dispatch), and how many said EAGAIN. */
  callbacks?: number;
  eagain?: number;
}

export function refCbc(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** Waits (the event loop free) until `cond()` holds or `limitMs` passes; says which. */
export async function waitFor(cond: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** This process's threads in uninterruptible sleep, with where they sleep, for the report. */
export async function stuckThreads(): Promise<string[]> {
  const out: string[] = [];
  for (const tid of await readdir('/proc/self/task').catch(() => [])) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'D') continue;
    const wchan = await readFile(`/proc/self/task/${tid}/wchan`, 'utf8').catch(() => '?');
    out.push(`${tid}:${wchan}`);
  }
  return out;
}

export function cards(): CryptoDevice[] {
  return deviceWatch.devices().filter((d) => d.sysfsDriver === 'virtio_crypto' && d.pciAddress !== undefined);
}

export async function whySkip(): Promise<string | undefined> {
  if (!IN_LAB) return 'removes a virtio-crypto card: runs inside `kcrypto lab` only';
  if (process.env['KCRYPTO_LAB_HOTPLUG'] !== '1')
    return 'removes a card for the rest of the guest run: set KCRYPTO_LAB_HOTPLUG=1 and run this file on its own';
  const noAfAlg = afAlgUnavailable(await kernelListing());
  if (noAfAlg) return noAfAlg;
  const n = cards().length;
  if (n < 2) return `needs two virtio-crypto cards, found ${n}`;
  return undefined;
}

/** One request on raw framework session `i` of `fwSids`, following the session when it moves (its new sid written back there). */
export function frameworkEncryptor(fwSids: bigint[]): (i: number, data: Buffer, iv: Buffer, o: Outcome) => Promise<Buffer> {
  const EAGAIN = framework.errno('EAGAIN');
  return (i: number, data: Buffer, iv: Buffer, o: Outcome): Promise<Buffer> =>
    new Promise<Buffer>((resolve, reject) => {
      const buf = Buffer.from(data);
      const crp: CryptoOp = framework.getReq(1);
      crp.sid = fwSids[i]!;
      crp.buf = buf;
      crp.flags = C.CRYPTO_F_CBIMM;
      Object.assign(crp.desc!, {
        alg: C.CRYPTO_AES_CBC,
        len: SIZE,
        flags: C.CRD_F_ENCRYPT | C.CRD_F_IV_EXPLICIT | C.CRD_F_IV_PRESENT,
        iv,
      });
      o.callbacks = 0;
      o.eagain = 0;
      let sent = crp.sid;
      crp.callback = (r) => {
        o.callbacks!++;
        if (r.etype === EAGAIN) {
          o.eagain!++;
          if (r.sid === sent) return reject(new Error('EAGAIN without a new sid'));
          sent = r.sid;
          fwSids[i] = r.sid;
          framework.dispatch(r);
          return;
        }
        if (r.etype !== 0)
          reject(
            Object.assign(new Error(`etype ${r.etype} (${framework.driverName(framework.sessionInfo(r.sid)?.driverId ?? -1)})`), {
              etype: r.etype,
            }),
          );
        else resolve(buf);
      };
      const rc = framework.dispatch(crp);
      if (rc !== 0) reject(new Error(`dispatch returned ${rc}`));
    });
}

/**
 * The outcomes that settled once, counted per layer by result (`ok`, or the error's code, syscall
 * and driver), and what settled wrongly: a wrong ciphertext, a failure above the kernel sessions, or
 * a kernel session's error that is not a typed one naming the driver.
 */
export function tallyOutcomes(outcomes: readonly Outcome[]): { codes: Record<Layer, Record<string, number>>; wrong: string[] } {
  const codes: Record<Layer, Record<string, number>> = { framework: {}, api: {}, kernel: {} };
  const wrong: string[] = [];
  for (const o of outcomes) {
    if (o.settles !== 1) continue;
    const tally = codes[o.layer];
    if (o.error === undefined) {
      if (!o.ok) wrong.push(`${o.layer} session ${o.session}: wrong ciphertext`);
      tally['ok'] = (tally['ok'] ?? 0) + 1;
      continue;
    }
    const err = o.error;
    if (o.layer !== 'kernel') {
      // Above the kernel sessions the migration is the framework's: nothing may fail.
      wrong.push(`${o.layer} session ${o.session}: ${inspect(err)}`);
      continue;
    }
    if (!(err instanceof KCryptoError)) {
      wrong.push(`${o.layer}: not a KCryptoError: ${inspect(err)}`);
      continue;
    }
    const what = `${err.code}/${err.syscall}`;
    if (o.layer === 'kernel' && (!TYPED.has(err.code) || err.driver !== LABEL))
      wrong.push(`kernel: unexpected ${what} [${err.driver}]: ${err.message}`);
    const key = `${what}${/session abandoned|no completion within/.test(err.message) ? ' (kcrypto)' : ''} [${err.driver}]`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return { codes, wrong };
}
