/**
 * The host benchmark's layer table: each layer of a request's path on the native loopback
 * engine (a test double of the engine that XORs its input, so that what is timed is the layer
 * and not a cipher), the framework with a trivial synchronous driver, the public API on the
 * software driver, and libuv's own thread-pool round trip for reference.
 *
 * The loopback engine is exported only when KCRYPTO_TEST_HOOKS=1 is in the environment as the
 * addon loads: host.ts imports ./host-hooks.js first for that.
 */
import { pbkdf2, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openSession } from '../src/api/open-session.js';
import { CRYPTO_AES_CBC, CRYPTO_F_CBIMM, CRYPTOCAP_F_SOFTWARE, CRYPTOCAP_F_SYNC } from '../src/framework/constants.js';
import { Framework, type DriverImpl } from '../src/framework/framework.js';
import { CryptoIni, CryptoOp } from '../src/framework/structures.js';
import { loadAddon } from '../src/kernel/bridge/addon.js';
import { KernelSession, Op, type Execution } from '../src/kernel/bridge/engine/index.js';
import type { Subject } from './host-measure.js';
import { LAYER } from './host-results.js';
import { IV, KEY } from './host-subjects.js';

/** The layer subjects, and what to close once they have run. */
export interface Layers {
  subjects: Subject[];
  close(): Promise<void>;
}

function ranText(ks: KernelSession): () => string {
  return () => {
    const s = ks.stats();
    return `inline ${s.inline}, threads ${s.threaded}, deferred ${s.deferred}`;
  };
}

/** A framework with one driver that completes every request inside process(). */
async function trivialFramework(): Promise<{ fw: Framework; sid: bigint }> {
  const fw = new Framework();
  const id = fw.getDriverId(CRYPTOCAP_F_SOFTWARE | CRYPTOCAP_F_SYNC, 'bench-trivial');
  const impl: DriverImpl = {
    newSession: () => 0,
    freeSession: () => undefined,
    process: (_arg, crp) => {
      crp.etype = 0;
      crp.olen = crp.ilen;
      fw.done(crp);
      return 0;
    },
  };
  fw.register(id, CRYPTO_AES_CBC, 0, 0, impl);
  const sid = await fw.newSession(new CryptoIni({ alg: CRYPTO_AES_CBC, klen: 128, key: KEY }), id);
  return { fw, sid };
}

/** A request through the framework as the API sends one: CRYPTO_F_CBIMM, a promise per request. */
function dispatchOnce(fw: Framework, sid: bigint, data: Uint8Array): Promise<CryptoOp> {
  return new Promise((resolve, reject) => {
    const crp = new CryptoOp();
    crp.sid = sid;
    crp.buf = data;
    crp.ilen = data.length;
    crp.flags = CRYPTO_F_CBIMM;
    crp.callback = (r) => (r.etype === 0 ? resolve(r) : reject(new Error(`framework request failed: errno ${r.etype}`)));
    fw.dispatch(crp);
  });
}

/** The layer subjects at `size` bytes per request. */
export async function layerSubjects(size: number): Promise<Layers> {
  const data = randomBytes(size);
  const outs = Array.from({ length: 64 }, () => Buffer.alloc(size));
  let next = 0;
  // Concurrent requests each get an output buffer of their own (64 in rotation).
  const out = (): Buffer => outs[next++ & 63]!;
  const subjects: Subject[] = [];
  const closers: (() => unknown)[] = [];

  const { addon, error } = loadAddon();
  const loopback = addon?.openLoopback?.bind(addon);
  const engineReason = !addon
    ? `native addon not loaded: ${error}`
    : !loopback
      ? 'the addon has no loopback engine (KCRYPTO_TEST_HOOKS=1 was not set as it loaded)'
      : undefined;
  const engine = (execution: Execution): KernelSession => {
    const ks = new KernelSession(loopback!(0, 0), 'bench:loopback', true, execution);
    closers.push(() => ks.close());
    return ks;
  };
  if (engineReason !== undefined || !loopback) {
    for (const [id, label] of [
      [LAYER.nativeRun, 'native run() inline'],
      [LAYER.engineInline, "engine KernelSession.request(), execution 'inline'"],
      [LAYER.engineAuto, "engine KernelSession.request(), execution 'auto'"],
      [LAYER.engineThreads, "engine KernelSession.request(), execution 'threads': one round trip"],
      [LAYER.engineThreads64, "engine KernelSession.request(), execution 'threads', 64 in flight"],
    ] as const)
      subjects.push({ id, label, size, inFlight: 0, reason: engineReason ?? 'no loopback engine' });
  } else {
    const native = loopback(0, 0);
    closers.push(() => native.close());
    subjects.push({
      id: LAYER.nativeRun,
      label: 'native run() inline (synchronous, no promise)',
      size,
      inFlight: 0,
      sync: () => {
        const rc = native.run(Op.Encrypt, data, outs[0]!, null, 0, -1);
        if (rc < 0) throw new Error(`native run failed (encoded status ${rc})`);
        return rc;
      },
    });
    const inline = engine('inline');
    subjects.push({
      id: LAYER.engineInline,
      label: "engine KernelSession.request(), execution 'inline'",
      size,
      inFlight: 0,
      async: () => inline.request(Op.Encrypt, data, outs[0]!, null, 0),
      ran: ranText(inline),
    });
    const auto = engine('auto');
    subjects.push({
      id: LAYER.engineAuto,
      label: "engine KernelSession.request(), execution 'auto' (the measured policy chooses)",
      size,
      inFlight: 0,
      async: () => auto.request(Op.Encrypt, data, outs[0]!, null, 0),
      ran: ranText(auto),
    });
    const threads = engine('threads');
    subjects.push({
      id: LAYER.engineThreads,
      label: "engine KernelSession.request(), execution 'threads': one round trip",
      size,
      inFlight: 0,
      async: () => threads.request(Op.Encrypt, data, outs[0]!, null, 0),
      ran: ranText(threads),
    });
    const batch = engine('threads');
    subjects.push({
      id: LAYER.engineThreads64,
      label: "engine KernelSession.request(), execution 'threads', 64 in flight (time per request)",
      size,
      inFlight: 64,
      async: () => batch.request(Op.Encrypt, data, out(), null, 0),
      ran: ranText(batch),
    });
  }

  const { fw, sid } = await trivialFramework();
  closers.push(() => fw.freeSession(sid));
  subjects.push({
    id: LAYER.framework,
    label: 'framework dispatch() to a trivial synchronous driver (CRYPTO_F_CBIMM, one promise)',
    size,
    inFlight: 0,
    async: () => dispatchOnce(fw, sid, data),
  });

  const software = await openSession({ cipher: 'aes-128-cbc', key: KEY }, { driver: 'software' });
  closers.push(() => software.close());
  subjects.push({
    id: LAYER.api,
    label: `API encrypt() on ${software.driver} (AES-128-CBC)`,
    size,
    inFlight: 0,
    async: () => software.encrypt(data, { iv: IV }),
  });
  try {
    const openssl = await openSession({ cipher: 'aes-128-cbc', key: KEY }, { driver: 'openssl', execution: 'inline' });
    closers.push(() => openssl.close());
    subjects.push({
      id: LAYER.apiOpenssl,
      label: `API encrypt() on ${openssl.driver}, execution 'inline' (AES-128-CBC)`,
      size,
      inFlight: 0,
      async: () => openssl.encrypt(data, { iv: IV }),
    });
  } catch (err) {
    subjects.push({
      id: LAYER.apiOpenssl,
      label: 'API encrypt() on openssl (AES-128-CBC)',
      size,
      inFlight: 0,
      reason: (err as Error).message,
    });
  }

  const dir = mkdtempSync(join(tmpdir(), 'kcrypto-bench-'));
  const file = join(dir, 'stat-me');
  writeFileSync(file, 'x');
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  subjects.push({
    id: LAYER.libuvStat,
    label: 'libuv thread pool: fs.promises.stat() of a file in a tmpdir',
    size,
    inFlight: 0,
    async: () => stat(file),
  });
  const salt = randomBytes(16);
  subjects.push({
    id: LAYER.libuvPbkdf2,
    label: "libuv thread pool: crypto.pbkdf2(1 iteration, 'sha256') with a callback",
    size,
    inFlight: 0,
    async: () =>
      new Promise<Buffer>((resolve, reject) => pbkdf2(data, salt, 1, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key)))),
  });

  return {
    subjects,
    close: async () => {
      for (const c of closers.reverse()) await c();
    },
  };
}
