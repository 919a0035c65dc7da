/** The layer table: where the time goes on the CPU driver, from the native call to the public API. */
import { randomBytes } from 'node:crypto';

import { loadAddon } from '../src/kernel/bridge/addon.js';
import { KernelSession } from '../src/kernel/bridge/engine/index.js';
import {
  counted,
  errorText,
  fmtSample,
  IV16,
  log,
  openKcrypto,
  SECTIONS,
  SIZE_LOOP,
  SIZE_SMALL,
  type Opened,
  type StatsSource,
} from './common.js';
import { serialAsync, serialSync } from './measure.js';
import { sizeLabel } from './report-format.js';
import type { Cell, Results, Row } from './results.js';

/** A timed subject of the layer table: label, and how to make a request of a given input. */
export interface LayerSubject {
  label: string;
  sync?: (data: Buffer, out: Buffer) => () => unknown;
  async?: (data: Buffer, out: Buffer) => () => Promise<unknown>;
  kernel: StatsSource | null;
  reason?: string;
}

/**
 * The layer table on the CPU driver at 64 B and 16 KiB: the native engine call by itself, the
 * engine's KernelSession.request() forced inline and forced onto threads, then the public API
 * (session.encrypt) under each execution policy, with the serial C figure for reference.
 */
export async function layers(
  aesni: Opened,
  results: Results,
  costLabels: Map<StatsSource, string>,
  opened: Map<string, Opened>,
  seconds: number,
): Promise<Row[]> {
  const g = SECTIONS[0]!.groups[0]!;
  const bind = aesni.driver.slice('afalg:'.length);
  const key = randomBytes(16);
  const subjects: LayerSubject[] = [];
  const { addon } = loadAddon();
  const check = (rc: number): number => {
    if (rc < 0) throw new Error(`native run failed (encoded status ${rc})`);
    return rc;
  };
  const engines: KernelSession[] = [];
  try {
    if (!addon?.openAfAlg) throw new Error('native AF_ALG engine unavailable');
    const native = addon.openAfAlg('skcipher', bind, key, 0, true, 4 << 20, 0);
    subjects.push({
      label: `engine: native run() on ${bind} (synchronous, no promise)`,
      sync: (d, out) => () => check(native.run(0, d, out, IV16, 0, -1)),
      kernel: null,
    });
    engines.push(new KernelSession(native, aesni.driver, true, 'inline'));
    subjects.push({
      label: "engine: KernelSession.request(), execution 'inline'",
      async: (d, out) => () => engines[0]!.request(0, d, out, IV16, 0),
      kernel: engines[0]!,
    });
    const native2 = addon.openAfAlg('skcipher', bind, key, 0, true, 4 << 20, 0);
    engines.push(new KernelSession(native2, aesni.driver, true, 'threads'));
    subjects.push({
      label: "engine: KernelSession.request(), execution 'threads'",
      async: (d, out) => () => engines[1]!.request(0, d, out, IV16, 0),
      kernel: engines[1]!,
    });
  } catch (err) {
    subjects.push({ label: 'engine', kernel: null, reason: errorText(err) });
  }
  subjects.push({ label: `API: ${aesni.driver} encrypt(), execution 'auto'`, async: (d) => aesni.request(d), kernel: aesni.kernel });
  for (const ex of ['inline', 'threads'] as const) {
    try {
      const s = await openKcrypto(g, key, bind, ex);
      if (s.kernel) costLabels.set(s.kernel, `${s.driver} ${g.title}, execution '${ex}'`);
      opened.set(`layers-${ex}`, s);
      subjects.push({ label: `API: ${s.driver} encrypt(), execution '${ex}'`, async: (d) => s.request(d), kernel: s.kernel });
    } catch (err) {
      subjects.push({ label: `API: encrypt(), execution '${ex}'`, kernel: null, reason: errorText(err) });
    }
  }

  const rows: Row[] = subjects.map((x, i) => ({ path: 'kcrypto', group: `layer-${i}`, label: x.label, cells: new Map<number, Cell>() }));
  for (const size of [SIZE_SMALL, SIZE_LOOP]) {
    const data = randomBytes(size);
    const out = Buffer.alloc(size);
    for (const [i, x] of subjects.entries()) {
      const row = rows[i]!;
      if (x.reason !== undefined) {
        row.cells.set(size, { reason: x.reason });
        continue;
      }
      try {
        const { value, exec } = await counted(x.kernel, async () =>
          x.sync ? serialSync(x.sync(data, out), size, seconds) : serialAsync(x.async!(data, out), size, seconds),
        );
        row.cells.set(size, exec ? { sample: value, exec } : { sample: value });
        log(`${x.label} ${sizeLabel(size)}: ${fmtSample(value)}`);
      } catch (err) {
        row.cells.set(size, { reason: errorText(err) });
      }
    }
  }
  for (const [i, ks] of engines.entries())
    costLabels.set(ks, `engine KernelSession on ${bind}, execution '${i === 0 ? 'inline' : 'threads'}'`);
  for (const ks of engines) await ks.close().catch(() => undefined);
  const c = results.rows.find((r) => r.path === 'c' && r.group === 'cbc-aesni');
  if (c)
    rows.push({
      path: 'c',
      group: 'layer-c',
      label: `C AF_ALG ${bind} (serial table above)`,
      cells: new Map([SIZE_SMALL, SIZE_LOOP].map((sz) => [sz, c.cells.get(sz) ?? { reason: 'not measured' }])),
    });
  return rows;
}
