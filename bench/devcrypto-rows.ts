/** The /dev/crypto rows of the benchmark: the serial C figure, and requests in flight. */
import { randomBytes } from 'node:crypto';

import { loadAddon } from '../src/kernel/bridge/addon.js';

import { runDevCryptoBaseline, inFlight } from './measure.js';
import { sizeLabel } from './report-format.js';
import type { Cell, LoadRow } from './results.js';
import { devCryptoMark, engineBatches, openEngineCbc, type DevCryptoSetup } from './devcrypto.js';
import { counted, errorText, fmtSample, log, SIZES, SIZE_IN_FLIGHT, type GroupSpec, type Opened, type Section } from './common.js';

/** native/addon.h kDeviceLane. */
const DEVICE_LANE = 1;

/**
 * A serial C figure over /dev/crypto. The module cannot be told which kernel driver to use (it
 * takes the kernel's choice for the algorithm, as kcrypto's session does), so a C baseline
 * served by another driver than kcrypto's group is noted.
 */
export function devBaselineCell(
  dev: DevCryptoSetup,
  built: { binary: string } | { reason: string },
  section: Section,
  g: GroupSpec,
  size: number,
  seconds: number,
  failed: Map<string, string>,
  notes: string[],
): Cell {
  if ('reason' in built) return { reason: built.reason };
  const earlier = failed.get(g.key);
  if (earlier !== undefined) return { reason: earlier };
  try {
    const r = runDevCryptoBaseline(built.binary, dev.path, section.devcryptoAlg, g.keyLength, size, seconds);
    if (g.devcryptoDriver && r.driver !== g.devcryptoDriver)
      notes.push(`C /dev/crypto baseline for ${g.title} was served by ${r.driver || 'an unnamed driver'}, not ${g.devcryptoDriver}`);
    log(`C /dev/crypto ${r.driver} ${sizeLabel(size)}: ${fmtSample(r)}`);
    return { sample: r };
  } catch (err) {
    const reason = errorText(err);
    // A failure at the first size is one of setup (device, session): skip the rest.
    if (size === SIZES[0]) failed.set(g.key, reason);
    log(`C /dev/crypto ${g.title} ${sizeLabel(size)}: ${reason}`);
    return { reason };
  }
}

/**
 * Rows with 1, 4, 16 and 64 AES-128-CBC requests in flight on a /dev/crypto driver: the public
 * API (`encrypt()` calls outstanding, on the device threads; past the lane's 16 threads, the
 * requests waiting go to the module's queue together), the same with those batches turned off,
 * the engine's request queue (devCryptoRunBatch), and the C baseline over the module's queue.
 * Where the device has no queue, those rows carry the reason.
 */
export async function devInFlight(
  dev: DevCryptoSetup,
  built: { binary: string } | { reason: string },
  driver: string,
  kernelDriver: string,
  api: Opened | undefined,
  apiFailed: string | undefined,
  seconds: number,
  notes: string[],
): Promise<LoadRow[]> {
  const mark = devCryptoMark(dev);
  const depths = [1, 4, 16, 64];
  const apiRows: LoadRow[] = [];
  const engineRows: LoadRow[] = [];
  const cRows: LoadRow[] = [];
  const apiLabel = `kcrypto ${api?.driver ?? driver} encrypt()${mark}`;
  const unbatchedLabel = `kcrypto ${api?.driver ?? driver} encrypt(), no queue batches (each request waits for a device thread)${mark}`;
  const { addon } = loadAddon();
  const apiRow = async (label: string, n: number): Promise<LoadRow> => {
    const row: LoadRow = { label, inFlight: n, size: SIZE_IN_FLIGHT, cell: { reason: apiFailed ?? 'not opened' } };
    if (api) {
      try {
        const data = randomBytes(SIZE_IN_FLIGHT);
        const { value, exec } = await counted(api.kernel, () => inFlight(api.request(data), SIZE_IN_FLIGHT, n, seconds));
        row.cell = exec ? { sample: value, exec } : { sample: value };
        log(`${label} ${n} in flight at ${sizeLabel(SIZE_IN_FLIGHT)}: ${fmtSample(value)}`);
      } catch (err) {
        row.cell = { reason: errorText(err) };
      }
    }
    return row;
  };
  for (const n of depths) apiRows.push(await apiRow(apiLabel, n));
  // The same, the busy lane's batches off: what the queue adds where the threads run out.
  addon?.setBatching(DEVICE_LANE, false);
  try {
    apiRows.push(await apiRow(unbatchedLabel, depths[depths.length - 1]!));
  } finally {
    addon?.setBatching(DEVICE_LANE, true);
  }

  const queue = dev.queue;
  const engineLabel = `kcrypto engine devCryptoRunBatch() on ${driver}${'mechanism' in queue ? ` (${queue.mechanism})` : ''}${mark}`;
  let engineReason = 'reason' in queue ? queue.reason : undefined;
  let engine: ReturnType<typeof openEngineCbc> | undefined;
  if (engineReason === undefined) {
    try {
      engine = openEngineCbc(dev.path, dev.abi!, randomBytes(16));
      // The engine session takes the kernel's choice for cbc(aes), as kcrypto's driver does.
      const served = engine.info.cipherDriver;
      if (kernelDriver && served && served !== kernelDriver)
        notes.push(`the engine's AES-CBC session on ${dev.path} was served by ${served}, not ${kernelDriver}`);
      if (!engine.info.async) engineReason = `the engine session reports no request queue on ${dev.path}`;
    } catch (err) {
      engineReason = errorText(err);
    }
  }
  for (const n of depths) {
    const row: LoadRow = { label: engineLabel, inFlight: n, size: SIZE_IN_FLIGHT, cell: { reason: engineReason ?? 'not opened' } };
    if (engine && engineReason === undefined) {
      try {
        const value = await engineBatches(engine, SIZE_IN_FLIGHT, n, seconds);
        row.cell = { sample: value };
        log(`${engineLabel} batches of ${n} at ${sizeLabel(SIZE_IN_FLIGHT)}: ${fmtSample(value)}`);
      } catch (err) {
        row.cell = { reason: errorText(err) };
      }
    }
    engineRows.push(row);
  }
  engine?.native.close();

  const cLabel = `C /dev/crypto ${kernelDriver || driver}, CIOCASYNCCRYPT queue${mark}`;
  let cReason = 'reason' in built ? built.reason : undefined;
  for (const n of depths) {
    const row: LoadRow = { label: cLabel, inFlight: n, size: SIZE_IN_FLIGHT, cell: { reason: cReason ?? 'not run' } };
    if (cReason === undefined && 'binary' in built) {
      try {
        const r = runDevCryptoBaseline(built.binary, dev.path, 'aes-cbc', 16, SIZE_IN_FLIGHT, seconds, n);
        row.cell = { sample: r };
        if (r.mostInFlight < n)
          notes.push(`C /dev/crypto queue at depth ${n}: the module took at most ${r.mostInFlight} at once (its ring is smaller)`);
        log(`${cLabel} ${n} in flight at ${sizeLabel(SIZE_IN_FLIGHT)}: ${fmtSample(r)}`);
      } catch (err) {
        // The same program fails the same way at every depth (no queue, no device).
        cReason = errorText(err);
        row.cell = { reason: cReason };
        log(`${cLabel}: ${cReason}`);
      }
    }
    cRows.push(row);
  }
  return [...apiRows, ...engineRows, ...cRows];
}
