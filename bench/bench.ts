/** One benchmark run here: every table of the report, measured in one process. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

import { drivers, kernelReport } from '../src/index.js';
import { devCryptoTarget } from '../src/api/framework-instance.js';
import { loadAddon } from '../src/kernel/bridge/addon.js';
import { engineStats } from '../src/kernel/bridge/engine/index.js';
import type { Options } from './args.js';
import {
  counted,
  devGroupKey,
  dispatcherStats,
  errorText,
  fmtSample,
  log,
  nodeRequest,
  openKcrypto,
  packageRoot,
  SECTIONS,
  SIZES,
  SIZE_IN_FLIGHT,
  SIZE_LOOP,
  SIZE_SMALL,
  LOOP_IN_FLIGHT,
  type GroupSpec,
  type Opened,
  type StatsSource,
} from './common.js';
import { devCryptoDriversFor, devCryptoMark, devCryptoSetup, devCryptoSummary, type DevCryptoSetup } from './devcrypto.js';
import { devBaselineCell, devInFlight } from './devcrypto-rows.js';
import { layers } from './layers.js';
import { openCloseOnThisThreadRow, openCloseRow } from './open-close.js';
import { buildBaseline, idleLoopDelay, inFlight, loopDelayInFlight, runBaseline, serialAsync, serialSync } from './measure.js';
import { sizeLabel } from './report-format.js';
import type { Cell, CostRow, DevCryptoReport, Group, LoadRow, Results, Row } from './results.js';
import { routingBench } from './routing.js';

/** Sessions opened and closed per driver in the open/close rows. */
const OPEN_CLOSE_ROUNDS = 32;

export async function bench(o: Options): Promise<Results> {
  const root = packageRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  const cpus = os.cpus();
  const notes: string[] = [];

  const k = await kernelReport().catch(() => null);
  const afalg = k
    ? k.afalg.available
      ? 'available'
      : `unavailable: ${k.afalg.reason ?? 'unknown reason'}`
    : `unavailable: ${loadAddon().error ?? 'native addon not loaded'}`;
  const built = o.harnessTest ? { reason: 'harness test (no kernel rows)' } : buildBaseline(root, 'afalg-baseline', log);
  const baselineReason = 'reason' in built ? built.reason : undefined;

  // /dev/crypto: the drivers kcrypto lists for the device it uses, and the C baseline over it.
  const dev: DevCryptoSetup | undefined = o.harnessTest ? undefined : devCryptoSetup(await drivers(), devCryptoTarget());
  let devBuilt: { binary: string } | { reason: string };
  if (!dev) devBuilt = { reason: 'harness test (no kernel rows)' };
  else if (dev.reason !== undefined) devBuilt = { reason: dev.reason };
  else if (dev.abi !== 'cryptodev-linux')
    devBuilt = { reason: `the C baseline speaks the cryptodev-linux ABI; ${dev.path} speaks ${dev.abi}` };
  else devBuilt = buildBaseline(root, 'devcrypto-baseline', log);
  const devMark = dev ? devCryptoMark(dev) : '';
  if (dev) log(`/dev/crypto: ${devCryptoSummary(dev)}`);

  const results: Results = {
    date: new Date().toISOString(),
    kernel: os.release(),
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    node: process.version,
    kcrypto: version,
    seconds: o.seconds,
    quick: o.quick,
    harnessTest: o.harnessTest,
    afalg,
    baseline: baselineReason
      ? `unavailable: ${baselineReason}`
      : 'bench/afalg-baseline.c, built with cc -O2 (raw AF_ALG, one sendmsg + one read per request)',
    sizes: SIZES,
    groups: [],
    rows: [],
    inFlight: [],
    smallInFlight: [],
    loop: [],
    openClose: [],
    policy: [],
    costs: [],
    notes,
  };
  const devReport: DevCryptoReport = {
    summary: dev ? devCryptoSummary(dev) : 'not measured: harness test (no kernel rows)',
    fixture: dev?.fixture ?? false,
    baseline:
      'reason' in devBuilt
        ? `unavailable: ${devBuilt.reason}`
        : 'bench/devcrypto-baseline.c, built with cc -O2 (raw cryptodev-linux ioctls: one CIOCCRYPT or CIOCAUTHCRYPT per request; with N in flight, CIOCASYNCCRYPT + poll + CIOCASYNCFETCH)',
    inFlight: [],
  };
  results.devcrypto = devReport;

  const opened = new Map<string, Opened>();
  const openFailed = new Map<string, string>();
  const costLabels = new Map<StatsSource, string>();

  for (const section of SECTIONS) {
    const key = randomBytes(section.groups[0]!.keyLength);
    const groupRows: { g: GroupSpec; k: Row; c: Row }[] = [];
    const devGroups: GroupSpec[] = dev
      ? devCryptoDriversFor(dev, section.kernelName).map((d) => ({
          ...section.groups[0]!,
          key: devGroupKey(section, d.name),
          requested: d.name,
          devcryptoDriver: d.kernelDriver,
        }))
      : [];
    if (dev && dev.reason === undefined && devGroups.length === 0)
      notes.push(`/dev/crypto: no driver on ${dev.path} serves ${section.kernelName}`);
    for (const g of [...section.groups, ...devGroups]) {
      const isDev = g.devcryptoDriver !== undefined;
      const mark = isDev ? devMark : '';
      const driverChoice = o.harnessTest ? 'software' : g.requested;
      let label = `kcrypto {driver: '${driverChoice}'} ${g.title}`;
      try {
        log(`opening ${g.title} on ${driverChoice}`);
        const s = await openKcrypto(g, key, driverChoice);
        opened.set(g.key, s);
        label = `kcrypto ${s.driver} ${g.title}${g.requested === 'kernel' ? " ({driver: 'kernel'})" : ''}${mark}`;
        if (s.kernel) costLabels.set(s.kernel, `${s.driver} ${g.title}${mark}`);
      } catch (err) {
        openFailed.set(g.key, errorText(err));
        log(`  unavailable: ${errorText(err)}`);
      }
      const s = opened.get(g.key);
      if (isDev) {
        // The full kcrypto name, so that the ratio table tells it from the AF_ALG group of the same kernel driver.
        results.groups.push({
          key: g.key,
          title: g.title,
          requested: g.requested,
          driver: s?.driver ?? g.requested,
          interface: 'devcrypto',
          ...(mark ? { mark } : {}),
        });
        const kRow: Row = { path: 'kcrypto', group: g.key, label, cells: new Map() };
        const cRow: Row = {
          path: 'c',
          group: g.key,
          label: `C /dev/crypto ${g.devcryptoDriver || g.requested} ${g.title}${mark}`,
          cells: new Map(),
        };
        results.rows.push(kRow, cRow);
        groupRows.push({ g, k: kRow, c: cRow });
        continue;
      }
      const kernelDriver = s?.driver.startsWith('afalg:') ? s.driver.slice('afalg:'.length) : undefined;
      const group: Group = { key: g.key, title: g.title, requested: g.requested, ...(kernelDriver ? { driver: kernelDriver } : {}) };
      results.groups.push(group);
      const kRow: Row = { path: 'kcrypto', group: g.key, label, cells: new Map() };
      const cRow: Row = { path: 'c', group: g.key, label: `C AF_ALG ${kernelDriver ?? g.fallbackBind} ${g.title}`, cells: new Map() };
      results.rows.push(kRow, cRow);
      groupRows.push({ g, k: kRow, c: cRow });
    }
    const nRow: Row = { path: 'node', group: section.node, label: section.nodeLabel, cells: new Map() };
    results.rows.push(nRow);

    const cFailed = new Map<string, string>();
    for (const size of SIZES) {
      const data = randomBytes(size);
      for (const { g, k: kRow, c: cRow } of groupRows) {
        const s = opened.get(g.key);
        let kc: Cell;
        if (!s) kc = { reason: openFailed.get(g.key) ?? 'not opened' };
        else {
          try {
            const { value, exec } = await counted(s.kernel, () => serialAsync(s.request(data), size, o.seconds));
            kc = exec ? { sample: value, exec } : { sample: value };
            log(
              `${kRow.label} ${sizeLabel(size)}: ${fmtSample(value)}${exec ? ` (inline ${exec.inline}, threaded ${exec.threaded})` : ''}`,
            );
          } catch (err) {
            kc = { reason: errorText(err) };
            log(`${kRow.label} ${sizeLabel(size)}: ${kc.reason}`);
          }
        }
        kRow.cells.set(size, kc);

        let cc: Cell;
        const bind = s?.driver.startsWith('afalg:') ? s.driver.slice('afalg:'.length) : g.fallbackBind;
        if (g.devcryptoDriver !== undefined) cc = devBaselineCell(dev!, devBuilt, section, g, size, o.seconds, cFailed, notes);
        else if ('reason' in built) cc = { reason: built.reason };
        else if (cFailed.has(g.key)) cc = { reason: cFailed.get(g.key)! };
        else {
          try {
            const r = runBaseline(built.binary, g.afalgType, bind, g.keyLength, size, o.seconds);
            cc = { sample: r };
            if (r.driver && r.driver !== bind) notes.push(`C baseline bound ${bind}, served by ${r.driver}`);
            log(`C ${bind} ${sizeLabel(size)}: ${fmtSample(r)}`);
          } catch (err) {
            cc = { reason: errorText(err) };
            // A failure at the first size is one of setup (AF_ALG, bind, key): skip the rest.
            if (size === SIZES[0]) cFailed.set(g.key, cc.reason!);
            log(`C ${bind} ${sizeLabel(size)}: ${cc.reason}`);
          }
        }
        cRow.cells.set(size, cc);
      }
      const nodeSample = serialSync(nodeRequest(section.node, key, data), size, o.seconds);
      nRow.cells.set(size, { sample: nodeSample });
      log(`${nRow.label} ${sizeLabel(size)}: ${fmtSample(nodeSample)}`);
    }
  }

  // Requests in flight on the device.
  /** `n` requests of `size` kept in flight on the session opened as `key`. */
  const loadRow = async (key: string, bind: string, n: number, size: number): Promise<LoadRow> => {
    const s = opened.get(key);
    const label = s ? `kcrypto ${s.driver}` : `kcrypto {driver: '${bind}'}`;
    const row: LoadRow = { label, inFlight: n, size, cell: { reason: openFailed.get(key) ?? 'not opened' } };
    if (!s) return row;
    try {
      const data = randomBytes(size);
      const { value, exec } = await counted(s.kernel, () => inFlight(s.request(data), size, n, o.seconds));
      row.cell = exec ? { sample: value, exec } : { sample: value };
      log(`${label} ${n} in flight at ${sizeLabel(size)}: ${fmtSample(value)}`);
    } catch (err) {
      row.cell = { reason: errorText(err) };
    }
    return row;
  };
  for (const n of [1, 4, 16]) results.inFlight.push(await loadRow('cbc-virtio', 'virtio_crypto_aes_cbc', n, SIZE_IN_FLIGHT));
  // The same on the CPU driver at 16, and C on each with as many threads as requests in flight:
  // what each kernel driver gets through when kept busy, beside what kcrypto gets out of it.
  results.inFlight.push(await loadRow('cbc-aesni', 'cbc-aes-aesni', 16, SIZE_IN_FLIGHT));
  for (const [bind, depths] of [
    ['virtio_crypto_aes_cbc', [1, 4, 16]],
    ['cbc-aes-aesni', [16]],
  ] as const) {
    let reason = 'reason' in built ? built.reason : undefined;
    for (const n of depths) {
      const label = `C AF_ALG ${bind}, ${n === 1 ? '1 thread' : `${n} threads`}`;
      const row: LoadRow = { label, inFlight: n, size: SIZE_IN_FLIGHT, cell: { reason: reason ?? 'not run' } };
      if (reason === undefined && 'binary' in built) {
        try {
          const r = runBaseline(built.binary, 'skcipher', bind, 16, SIZE_IN_FLIGHT, o.seconds, n);
          row.cell = { sample: r };
          log(`${label} at ${sizeLabel(SIZE_IN_FLIGHT)}: ${fmtSample(r)}`);
        } catch (err) {
          reason = errorText(err);
          row.cell = { reason };
        }
      }
      results.inFlight.push(row);
    }
  }
  if (!dev) devReport.inFlightReason = 'harness test (no kernel rows)';
  else if (dev.reason !== undefined) devReport.inFlightReason = dev.reason;
  else if (devCryptoDriversFor(dev, 'cbc(aes)').length === 0) devReport.inFlightReason = `no driver on ${dev.path} serves cbc(aes)`;
  if (dev) {
    for (const d of devCryptoDriversFor(dev, 'cbc(aes)')) {
      devReport.inFlight.push(
        ...(await devInFlight(
          dev,
          devBuilt,
          d.name,
          d.kernelDriver,
          opened.get(devGroupKey(SECTIONS[0]!, d.name)),
          openFailed.get(devGroupKey(SECTIONS[0]!, d.name)),
          o.seconds,
          notes,
        )),
      );
    }
  }

  // Many small requests in flight on the CPU driver.
  results.smallInFlight.push(await loadRow('cbc-aesni', 'cbc-aes-aesni', 64, SIZE_SMALL));

  // Event-loop delay with 1000 requests in flight.
  results.idleDelay = await idleLoopDelay(Math.max(0.2, o.seconds / 2));
  for (const [key, bind] of [
    ['cbc-aesni', 'cbc-aes-aesni'],
    ['cbc-virtio', 'virtio_crypto_aes_cbc'],
  ] as const) {
    const s = opened.get(key);
    const label = s ? `kcrypto ${s.driver}` : `kcrypto {driver: '${bind}'}`;
    const row: LoadRow = { label, inFlight: LOOP_IN_FLIGHT, size: SIZE_LOOP, cell: { reason: openFailed.get(key) ?? 'not opened' } };
    if (s) {
      try {
        const data = randomBytes(SIZE_LOOP);
        const { value, exec } = await counted(s.kernel, () => loopDelayInFlight(s.request(data), SIZE_LOOP, LOOP_IN_FLIGHT, o.seconds));
        row.cell = exec ? { sample: value.sample, exec } : { sample: value.sample };
        row.delay = value.delay;
        row.burstMs = value.burstMs;
        log(
          `${label} ${LOOP_IN_FLIGHT} in flight at ${sizeLabel(SIZE_LOOP)}: ${fmtSample(value.sample)}, loop p99 ${value.delay.p99.toFixed(2)} ms, burst ${value.burstMs.toFixed(1)} ms`,
        );
      } catch (err) {
        row.cell = { reason: errorText(err) };
      }
    }
    results.loop.push(row);
  }

  // Sessions coming and going: what their opens and closes cost the event loop.
  if (k?.afalg.available && !o.harnessTest) {
    for (const measure of [
      () => openCloseRow('cbc-aes-aesni', OPEN_CLOSE_ROUNDS),
      () => openCloseRow('virtio_crypto_aes_cbc', OPEN_CLOSE_ROUNDS),
      () => openCloseOnThisThreadRow('virtio_crypto_aes_cbc', OPEN_CLOSE_ROUNDS),
    ]) {
      const row = await measure();
      results.openClose.push(row);
      log(
        row.delay
          ? `${row.label} open/close ×${row.rounds}: open ${row.openMs!.toFixed(1)} ms, close ${row.closeMs!.toFixed(1)} ms, loop p99 ${row.delay.p99.toFixed(2)} ms, max ${row.delay.max.toFixed(2)} ms`
          : `${row.label} open/close: ${row.reason}`,
      );
    }
  }

  // Measured routing against each driver alone, on a mix of small and large requests.
  if (k?.afalg.available && !o.harnessTest) {
    results.routing = [];
    // 3:1 by count, and 15:1: with 3 small requests per 1 MiB one the small ones are a few per
    // cent of any driver's work, so where they go hardly matters; with 15 they weigh on a device
    // as the large ones weigh on the CPU driver.
    for (const [large, smallPerLarge] of [
      [64 * 1024, 3],
      [1024 * 1024, 3],
      [1024 * 1024, 15],
    ] as const) {
      log(`routing: mixed 64 B / ${sizeLabel(large)} ${smallPerLarge}:1 AES-128-CBC, 16 in flight`);
      const rt = await routingBench(o.seconds, large, smallPerLarge);
      results.routing.push(rt);
      for (const r of rt.rows)
        log(
          `routing ${sizeLabel(large)} ${smallPerLarge}:1 ${r.label} (${r.driver}): ${r.mbps !== undefined ? `${r.mbps.toFixed(1)} MB/s` : r.reason}`,
        );
    }
  }

  // Where the time goes on the CPU driver: the engine alone (the native call, then
  // KernelSession.request) and the public API under each execution policy, same run.
  const aesni = opened.get('cbc-aesni');
  if (aesni?.kernel && aesni.driver.startsWith('afalg:')) {
    results.policy = await layers(aesni, results, costLabels, opened, o.seconds);
  }

  for (const [ks, label] of costLabels) {
    const st = ks.stats();
    if (!st) continue;
    const row: CostRow = {
      label,
      synchronous: st.synchronous,
      execution: st.execution,
      fixedNs: st.fixedNs,
      perByteNs: st.perByteNs,
      samples: st.samples,
      requests: st.requests,
      inline: st.inline,
      threaded: st.threaded,
    };
    results.costs.push(row);
  }
  results.engine = engineStats();
  const d = dispatcherStats();
  if (d) {
    const { cpu, device } = d;
    results.dispatcher = { ...cpu };
    results.deviceDispatcher = { ...device };
  }

  for (const s of opened.values()) await s.close().catch(() => undefined);
  return results;
}
