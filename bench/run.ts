/**
 * kcrypto's benchmark: kcrypto against a plain C AF_ALG loop over the same kernel driver and
 * against node:crypto, all in one run so that the figures are comparable.
 *
 *     node dist/esm/bench/run.js [--quick | --seconds S] [--out FILE]
 *         runs here (in the lab guest, where AF_ALG exists); prints the markdown report on
 *         stdout, progress on stderr, and writes FILE too when given.
 *     node dist/esm/bench/run.js --lab [--kernel V] [--quick | --seconds S] [--out FILE]
 *         from the host: builds the C baseline, runs the above in the kernel lab, and writes
 *         FILE on the host (a file written in the guest stays in its memory overlay).
 *     --harness-test: kernel rows on the software driver, to test the harness where there is
 *         no AF_ALG (the report says so).
 *     --devcrypto-fixture ABI: runs the above (here or, with --lab, in the guest) under
 *         test/support/with-devcrypto-fixture.js, so that the /dev/crypto rows measure the
 *         project's CUSE fixture speaking ABI (linux, freebsd, netbsd); the rows are marked so.
 *
 * The /dev/crypto rows use the device kcrypto uses: KCRYPTO_DEVCRYPTO and KCRYPTO_DEVCRYPTO_ABI,
 * /dev/crypto with the system's ABI by default. KCRYPTO_TEST_DRIVERS (set by the fixture
 * wrapper for the test suites) does not restrict the benchmark; a device served by CUSE (the
 * project's test fixture) has its rows marked.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { drivers, kernelReport, openSession } from '../src/index.js';
import { devCryptoTarget } from '../src/api/framework-instance.js';
import { loadAddon, type DispatcherStats } from '../src/kernel/addon.js';
import { engineStats, KernelSession, type KernelSessionStats } from '../src/kernel/engine/index.js';
import { buildBaseline, idleLoopDelay, inFlight, loopDelayInFlight, runBaseline, runDevCryptoBaseline, serialAsync, serialSync, type DevCryptoBaselineAlg, type Sample } from './measure.js';
import { renderReport, sizeLabel, type Cell, type CostRow, type DevCryptoReport, type ExecDelta, type Group, type LoadRow, type Results, type Row } from './report.js';
import { devCryptoDriversFor, devCryptoMark, devCryptoSetup, devCryptoSummary, engineBatches, openEngineCbc, type DevCryptoSetup } from './devcrypto.js';
import { findPackageRoot } from '../src/package-root.js';
import { routingBench } from './routing.js';

const SIZES = [64, 1024, 16 * 1024, 64 * 1024];
const SIZE_IN_FLIGHT = 64 * 1024;
const SIZE_SMALL = 64;
const SIZE_LOOP = 16 * 1024;
const LOOP_IN_FLIGHT = 1000;
const FIXTURE_ABIS = ['linux', 'freebsd', 'netbsd'] as const;
type FixtureAbi = (typeof FIXTURE_ABIS)[number];

interface Options {
  seconds: number;
  quick: boolean;
  out?: string;
  lab: boolean;
  kernel?: string;
  harnessTest: boolean;
  /** Run under the CUSE /dev/crypto fixture speaking this ABI. */
  devcryptoFixture?: FixtureAbi;
  /** Arguments to pass on to the guest run (lab mode). */
  forward: string[];
}

function usage(): never {
  process.stderr.write('usage: run.js [--quick | --seconds S] [--out FILE] [--lab [--kernel V]] [--devcrypto-fixture linux|freebsd|netbsd] [--harness-test]\n');
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 1, quick: false, lab: false, harnessTest: false, forward: [] };
  let secondsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage();
      return v;
    };
    switch (a) {
      case '--quick':
        o.quick = true;
        o.forward.push(a);
        break;
      case '--seconds': {
        const v = value();
        o.seconds = Number(v);
        if (!(o.seconds > 0 && o.seconds <= 60)) usage();
        secondsGiven = true;
        o.forward.push(a, v);
        break;
      }
      case '--out':
        o.out = value();
        break;
      case '--lab':
        o.lab = true;
        break;
      case '--kernel':
        o.kernel = value();
        break;
      case '--harness-test':
        o.harnessTest = true;
        o.forward.push(a);
        break;
      case '--devcrypto-fixture': {
        const v = value();
        if (!(FIXTURE_ABIS as readonly string[]).includes(v)) usage();
        o.devcryptoFixture = v as FixtureAbi;
        break;
      }
      case '-h':
      case '--help':
        usage();
        break;
      default:
        process.stderr.write(`run.js: unknown argument ${a}\n`);
        usage();
    }
  }
  if (o.quick && !secondsGiven) o.seconds = 0.2;
  return o;
}

function packageRoot(): string {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (root === null) throw new Error('bench: cannot find the kcrypto package root');
  return root;
}

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

type Kind = 'cipher' | 'aead' | 'hash';

interface GroupSpec extends Group {
  kind: Kind;
  /** kcrypto spec, without the key. */
  cipher?: string;
  hash?: string;
  keyLength: number;
  afalgType: 'skcipher' | 'aead' | 'hash';
  /** What the C baseline binds when kcrypto could not tell which driver it used. */
  fallbackBind: string;
  /** /dev/crypto groups: the driver's kernel name ('' on NetBSD, which names none). */
  devcryptoDriver?: string;
}

interface Section {
  node: string;
  nodeLabel: string;
  groups: GroupSpec[];
  /** The kernel's name of the algorithm, as drivers() lists it. */
  kernelName: string;
  /** The algorithm's name for bench/devcrypto-baseline.c. */
  devcryptoAlg: DevCryptoBaselineAlg;
}

const SECTIONS: Section[] = [
  {
    node: 'aes-128-cbc',
    nodeLabel: 'node:crypto aes-128-cbc',
    groups: [
      { key: 'cbc-aesni', title: 'AES-128-CBC', requested: 'cbc-aes-aesni', kind: 'cipher', cipher: 'aes-128-cbc', keyLength: 16, afalgType: 'skcipher', fallbackBind: 'cbc-aes-aesni' },
      { key: 'cbc-virtio', title: 'AES-128-CBC', requested: 'virtio_crypto_aes_cbc', kind: 'cipher', cipher: 'aes-128-cbc', keyLength: 16, afalgType: 'skcipher', fallbackBind: 'virtio_crypto_aes_cbc' },
    ],
    kernelName: 'cbc(aes)',
    devcryptoAlg: 'aes-cbc',
  },
  {
    node: 'aes-256-gcm',
    nodeLabel: 'node:crypto aes-256-gcm',
    groups: [{ key: 'gcm', title: 'AES-256-GCM', requested: 'kernel', kind: 'aead', cipher: 'aes-256-gcm', keyLength: 32, afalgType: 'aead', fallbackBind: 'gcm(aes)' }],
    kernelName: 'gcm(aes)',
    devcryptoAlg: 'aes-gcm',
  },
  {
    node: 'sha256',
    nodeLabel: 'node:crypto sha256',
    groups: [{ key: 'sha256', title: 'SHA-256', requested: 'kernel', kind: 'hash', hash: 'sha256', keyLength: 0, afalgType: 'hash', fallbackBind: 'sha256' }],
    kernelName: 'sha256',
    devcryptoAlg: 'sha256',
  },
];

/** A request function for a given input, on an open kcrypto session. */
type Requester = (data: Buffer) => () => Promise<unknown>;

/** Anything that reports kcrypto's execution counters: a session, or an engine session. */
interface StatsSource {
  stats(): KernelSessionStats | null;
}

interface Opened {
  driver: string;
  request: Requester;
  kernel: StatsSource | null;
  close(): Promise<void>;
}

const IV16 = randomBytes(16);
const IV12 = randomBytes(12);

/** Opens a kcrypto session; its stats() reports where requests ran (null on software). */
async function openKcrypto(g: GroupSpec, key: Buffer, driver: string, execution?: 'auto' | 'inline' | 'threads'): Promise<Opened> {
  const options = execution ? { driver, execution } : { driver };
  let s;
  let request: Requester;
  if (g.kind === 'cipher') {
    const c = await openSession({ cipher: g.cipher!, key }, options);
    if (c.kind !== 'cipher') throw new Error(`${g.cipher} opened as ${c.kind}`);
    request = (d) => () => c.encrypt(d, { iv: IV16 });
    s = c;
  } else if (g.kind === 'aead') {
    const a = await openSession({ cipher: g.cipher!, key }, options);
    if (a.kind !== 'aead') throw new Error(`${g.cipher} opened as ${a.kind}`);
    request = (d) => () => a.encrypt(d, { iv: IV12 });
    s = a;
  } else {
    const h = await openSession({ hash: g.hash! }, options);
    request = (d) => () => h.digest(d);
    s = h;
  }
  await request(Buffer.alloc(64))();
  const session = s;
  return { driver: session.driver, request, kernel: session.stats() ? session : null, close: () => session.close() };
}

function nodeRequest(algorithm: string, key: Buffer, data: Buffer): () => unknown {
  switch (algorithm) {
    case 'aes-128-cbc':
      return () => {
        const c = createCipheriv('aes-128-cbc', key, IV16);
        c.setAutoPadding(false);
        c.update(data);
        return c.final();
      };
    case 'aes-256-gcm':
      return () => {
        const c = createCipheriv('aes-256-gcm', key, IV12);
        c.update(data);
        c.final();
        return c.getAuthTag();
      };
    case 'sha256':
      return () => createHash('sha256').update(data).digest();
    default:
      throw new Error(`no node:crypto request for ${algorithm}`);
  }
}

function dispatcherStats(): DispatcherStats | undefined {
  try {
    return loadAddon().addon?.dispatcherStats();
  } catch {
    return undefined;
  }
}

/** Runs `fn` and returns what kcrypto's counters did meanwhile. */
async function counted<T>(ks: StatsSource | null, fn: () => Promise<T>): Promise<{ value: T; exec?: ExecDelta }> {
  const s0 = ks?.stats();
  if (!ks || !s0) return { value: await fn() };
  const d0 = dispatcherStats();
  const value = await fn();
  const s1 = ks.stats();
  // A session's counters are its kernel driver's: without them the figure may be another driver's.
  if (!s1) throw new Error('session.stats() became null during the measurement: the framework no longer has the session on its kernel driver (moved or lost), so the figure is not that driver\'s');
  const d1 = dispatcherStats();
  return {
    value,
    exec: {
      inline: s1.inline - s0.inline,
      threaded: s1.threaded - s0.threaded,
      wakeups: d0 && d1 ? d1.wakeups - d0.wakeups : 0,
      deliveries: d0 && d1 ? d1.deliveries - d0.deliveries : 0,
    },
  };
}

function fmtSample(s: Sample): string {
  return `${Math.round(s.ops / s.seconds)} ops/s, ${(s.bytes / s.seconds / 1e6).toFixed(2)} MB/s`;
}

/** The group key of a /dev/crypto driver in a section. */
function devGroupKey(section: Section, driver: string): string {
  return `${section.node}@${driver}`;
}

/**
 * A serial C figure over /dev/crypto. The module cannot be told which kernel driver to use (it
 * takes the kernel's choice for the algorithm, as kcrypto's session does), so a C baseline
 * served by another driver than kcrypto's group is noted.
 */
function devBaselineCell(dev: DevCryptoSetup, built: { binary: string } | { reason: string }, section: Section, g: GroupSpec, size: number, seconds: number, failed: Map<string, string>, notes: string[]): Cell {
  if ('reason' in built) return { reason: built.reason };
  const earlier = failed.get(g.key);
  if (earlier !== undefined) return { reason: earlier };
  try {
    const r = runDevCryptoBaseline(built.binary, dev.path, section.devcryptoAlg, g.keyLength, size, seconds);
    if (g.devcryptoDriver && r.driver !== g.devcryptoDriver) notes.push(`C /dev/crypto baseline for ${g.title} was served by ${r.driver || 'an unnamed driver'}, not ${g.devcryptoDriver}`);
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
 * Rows with 1, 4 and 16 AES-128-CBC requests in flight on a /dev/crypto driver: the public API
 * (`encrypt()` calls outstanding, on the device threads), the engine's request queue
 * (devCryptoRunBatch), and the C baseline over the module's queue. Where the device has no
 * queue, those rows carry the reason.
 */
async function devInFlight(
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
  const depths = [1, 4, 16];
  const apiRows: LoadRow[] = [];
  const engineRows: LoadRow[] = [];
  const cRows: LoadRow[] = [];
  const apiLabel = `kcrypto ${api?.driver ?? driver} encrypt()${mark}`;
  for (const n of depths) {
    const row: LoadRow = { label: apiLabel, inFlight: n, size: SIZE_IN_FLIGHT, cell: { reason: apiFailed ?? 'not opened' } };
    if (api) {
      try {
        const data = randomBytes(SIZE_IN_FLIGHT);
        const { value, exec } = await counted(api.kernel, () => inFlight(api.request(data), SIZE_IN_FLIGHT, n, seconds));
        row.cell = exec ? { sample: value, exec } : { sample: value };
        log(`${apiLabel} ${n} in flight at ${sizeLabel(SIZE_IN_FLIGHT)}: ${fmtSample(value)}`);
      } catch (err) {
        row.cell = { reason: errorText(err) };
      }
    }
    apiRows.push(row);
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
      if (kernelDriver && served && served !== kernelDriver) notes.push(`the engine's AES-CBC session on ${dev.path} was served by ${served}, not ${kernelDriver}`);
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
        if (r.mostInFlight < n) notes.push(`C /dev/crypto queue at depth ${n}: the module took at most ${r.mostInFlight} at once (its ring is smaller)`);
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

async function bench(o: Options): Promise<Results> {
  const root = packageRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  const cpus = os.cpus();
  const notes: string[] = [];

  const k = await kernelReport().catch(() => null);
  const afalg = k ? (k.afalg.available ? 'available' : `unavailable: ${k.afalg.reason ?? 'unknown reason'}`) : `unavailable: ${loadAddon().error ?? 'native addon not loaded'}`;
  const built = o.harnessTest ? { reason: 'harness test (no kernel rows)' } : buildBaseline(root, 'afalg-baseline', log);
  const baselineReason = 'reason' in built ? built.reason : undefined;

  // /dev/crypto: the drivers kcrypto lists for the device it uses, and the C baseline over it.
  const dev: DevCryptoSetup | undefined = o.harnessTest ? undefined : devCryptoSetup(await drivers(), devCryptoTarget());
  let devBuilt: { binary: string } | { reason: string };
  if (!dev) devBuilt = { reason: 'harness test (no kernel rows)' };
  else if (dev.reason !== undefined) devBuilt = { reason: dev.reason };
  else if (dev.abi !== 'cryptodev-linux') devBuilt = { reason: `the C baseline speaks the cryptodev-linux ABI; ${dev.path} speaks ${dev.abi}` };
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
    baseline: baselineReason ? `unavailable: ${baselineReason}` : 'bench/afalg-baseline.c, built with cc -O2 (raw AF_ALG, one sendmsg + one read per request)',
    sizes: SIZES,
    groups: [],
    rows: [],
    inFlight: [],
    smallInFlight: [],
    loop: [],
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
      ? devCryptoDriversFor(dev, section.kernelName).map((d) => ({ ...section.groups[0]!, key: devGroupKey(section, d.name), requested: d.name, devcryptoDriver: d.kernelDriver }))
      : [];
    if (dev && dev.reason === undefined && devGroups.length === 0) notes.push(`/dev/crypto: no driver on ${dev.path} serves ${section.kernelName}`);
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
        results.groups.push({ key: g.key, title: g.title, requested: g.requested, driver: s?.driver ?? g.requested, interface: 'devcrypto', ...(mark ? { mark } : {}) });
        const kRow: Row = { path: 'kcrypto', group: g.key, label, cells: new Map() };
        const cRow: Row = { path: 'c', group: g.key, label: `C /dev/crypto ${g.devcryptoDriver || g.requested} ${g.title}${mark}`, cells: new Map() };
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
            log(`${kRow.label} ${sizeLabel(size)}: ${fmtSample(value)}${exec ? ` (inline ${exec.inline}, threaded ${exec.threaded})` : ''}`);
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
  for (const [bind, depths] of [['virtio_crypto_aes_cbc', [1, 4, 16]], ['cbc-aes-aesni', [16]]] as const) {
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
      devReport.inFlight.push(...(await devInFlight(dev, devBuilt, d.name, d.kernelDriver, opened.get(devGroupKey(SECTIONS[0]!, d.name)), openFailed.get(devGroupKey(SECTIONS[0]!, d.name)), o.seconds, notes)));
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
        log(`${label} ${LOOP_IN_FLIGHT} in flight at ${sizeLabel(SIZE_LOOP)}: ${fmtSample(value.sample)}, loop p99 ${value.delay.p99.toFixed(2)} ms, burst ${value.burstMs.toFixed(1)} ms`);
      } catch (err) {
        row.cell = { reason: errorText(err) };
      }
    }
    results.loop.push(row);
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
      for (const r of rt.rows) log(`routing ${sizeLabel(large)} ${smallPerLarge}:1 ${r.label} (${r.driver}): ${r.mbps !== undefined ? `${r.mbps.toFixed(1)} MB/s` : r.reason}`);
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
    const row: CostRow = { label, synchronous: st.synchronous, execution: st.execution, fixedNs: st.fixedNs, perByteNs: st.perByteNs, samples: st.samples, requests: st.requests, inline: st.inline, threaded: st.threaded };
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

/** A timed subject of the layer table: label, and how to make a request of a given input. */
interface LayerSubject {
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
async function layers(aesni: Opened, results: Results, costLabels: Map<StatsSource, string>, opened: Map<string, Opened>, seconds: number): Promise<Row[]> {
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
    subjects.push({ label: `engine: native run() on ${bind} (synchronous, no promise)`, sync: (d, out) => () => check(native.run(0, d, out, IV16, 0, -1)), kernel: null });
    engines.push(new KernelSession(native, aesni.driver, true, 'inline'));
    subjects.push({ label: "engine: KernelSession.request(), execution 'inline'", async: (d, out) => () => engines[0]!.request(0, d, out, IV16, 0), kernel: engines[0]! });
    const native2 = addon.openAfAlg('skcipher', bind, key, 0, true, 4 << 20, 0);
    engines.push(new KernelSession(native2, aesni.driver, true, 'threads'));
    subjects.push({ label: "engine: KernelSession.request(), execution 'threads'", async: (d, out) => () => engines[1]!.request(0, d, out, IV16, 0), kernel: engines[1]! });
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
        const { value, exec } = await counted(x.kernel, async () => (x.sync ? serialSync(x.sync(data, out), size, seconds) : serialAsync(x.async!(data, out), size, seconds)));
        row.cells.set(size, exec ? { sample: value, exec } : { sample: value });
        log(`${x.label} ${sizeLabel(size)}: ${fmtSample(value)}`);
      } catch (err) {
        row.cells.set(size, { reason: errorText(err) });
      }
    }
  }
  for (const [i, ks] of engines.entries()) costLabels.set(ks, `engine KernelSession on ${bind}, execution '${i === 0 ? 'inline' : 'threads'}'`);
  for (const ks of engines) await ks.close().catch(() => undefined);
  const c = results.rows.find((r) => r.path === 'c' && r.group === 'cbc-aesni');
  if (c) rows.push({ path: 'c', group: 'layer-c', label: `C AF_ALG ${bind} (serial table above)`, cells: new Map([SIZE_SMALL, SIZE_LOOP].map((sz) => [sz, c.cells.get(sz) ?? { reason: 'not measured' }])) });
  return rows;
}

/** This script with the arguments for the run itself, under the fixture wrapper when asked for. */
function runCommand(o: Options): string[] {
  const command = [process.execPath, fileURLToPath(import.meta.url), ...o.forward];
  if (!o.devcryptoFixture) return command;
  const wrapper = fileURLToPath(new URL('../test/support/with-devcrypto-fixture.js', import.meta.url));
  return [process.execPath, wrapper, o.devcryptoFixture, '--', ...command];
}

/** Builds the CUSE fixture here, where it takes seconds rather than the guest's minutes. */
async function prebuildFixture(): Promise<void> {
  try {
    const { buildFixture } = await import('../test/support/devcrypto-fixture.js');
    await buildFixture();
  } catch (err) {
    log(`the /dev/crypto fixture could not be built here (${errorText(err)}); the run will try`);
  }
}

function writeOut(o: Options, chunks: Buffer[]): void {
  if (!o.out) return;
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, Buffer.concat(chunks));
  log(`wrote ${out}`);
}

/** Runs the benchmark in a child process under the CUSE fixture wrapper, here. */
async function fixtureMode(o: Options): Promise<number> {
  await prebuildFixture();
  const [cmd, ...args] = runCommand(o) as [string, ...string[]];
  const chunks: Buffer[] = [];
  const code = await new Promise<number>((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      process.stdout.write(chunk);
    });
    child.on('error', (err) => {
      log(`${cmd}: ${err.message}`);
      done(127);
    });
    child.on('close', (c, signal) => done(c ?? (signal ? 128 : 1)));
  });
  if (code === 0) writeOut(o, chunks);
  return code;
}

async function labMode(o: Options): Promise<number> {
  const root = packageRoot();
  for (const name of ['afalg-baseline', 'devcrypto-baseline'] as const) {
    const built = buildBaseline(root, name, log);
    if ('reason' in built) log(`${name} unavailable on the host (${built.reason}); the guest will try to build it`);
  }
  if (o.devcryptoFixture) await prebuildFixture();
  const { runInLab } = await import('../src/lab/lab.js');
  const chunks: Buffer[] = [];
  log(`running in the lab${o.kernel ? ` (kernel ${o.kernel})` : ''}${o.devcryptoFixture ? `, /dev/crypto from the CUSE fixture (${o.devcryptoFixture} ABI)` : ''}`);
  const result = await runInLab({
    command: runCommand(o),
    ...(o.kernel ? { kernel: o.kernel } : {}),
    onOutput: (stream, chunk) => {
      if (stream === 'stdout') {
        chunks.push(chunk);
        process.stdout.write(chunk);
      } else process.stderr.write(chunk);
    },
  });
  if (result.error) log(`lab: ${result.error}`);
  if (result.exitCode === 0) writeOut(o, chunks);
  return result.exitCode;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.lab) return labMode(o);
  if (o.devcryptoFixture) return fixtureMode(o);
  const results = await bench(o);
  const md = renderReport(results);
  process.stdout.write(md);
  if (o.out) {
    const out = resolve(o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, md);
    log(`wrote ${out}`);
  }
  return 0;
}

process.exitCode = await main();
