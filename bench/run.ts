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
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { kernelReport, openSession } from '../src/index.js';
import { loadAddon, type DispatcherStats } from '../src/kernel/addon.js';
import { engineStats, KernelSession, type KernelSessionStats } from '../src/kernel/engine.js';
import { idleLoopDelay, inFlight, loopDelayInFlight, runBaseline, serialAsync, serialSync, type Sample } from './measure.js';
import { renderReport, sizeLabel, type Cell, type CostRow, type ExecDelta, type Group, type LoadRow, type Results, type Row } from './report.js';
import { findPackageRoot } from '../src/package-root.js';
import { routingBench } from './routing.js';

const SIZES = [64, 1024, 16 * 1024, 64 * 1024];
const SIZE_IN_FLIGHT = 64 * 1024;
const SIZE_SMALL = 64;
const SIZE_LOOP = 16 * 1024;
const LOOP_IN_FLIGHT = 1000;

interface Options {
  seconds: number;
  quick: boolean;
  out?: string;
  lab: boolean;
  kernel?: string;
  harnessTest: boolean;
  /** Arguments to pass on to the guest run (lab mode). */
  forward: string[];
}

function usage(): never {
  process.stderr.write('usage: run.js [--quick | --seconds S] [--out FILE] [--lab [--kernel V]] [--harness-test]\n');
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

/**
 * Builds bench/bin/afalg-baseline from bench/afalg-baseline.c unless an up-to-date build is
 * there. From the host that is a fraction of a second; inside the TCG guest cc takes several
 * seconds, and the binary lands in the guest's memory overlay (lost at power-off) — which is
 * why the lab mode builds on the host first, where the guest then finds it.
 */
function buildBaseline(root: string): { binary: string } | { reason: string } {
  const source = join(root, 'bench', 'afalg-baseline.c');
  const binary = join(root, 'bench', 'bin', 'afalg-baseline');
  if (!existsSync(source)) return { reason: `${source} missing` };
  try {
    if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return { binary };
  } catch {
    // rebuild
  }
  const cc = process.env['CC'] || 'cc';
  try {
    mkdirSync(dirname(binary), { recursive: true });
  } catch (err) {
    return { reason: `cannot create ${dirname(binary)}: ${errorText(err)}` };
  }
  const tmp = `${binary}.${process.pid}.tmp`;
  log(`compiling the C baseline (${cc} -O2 -Wall -Werror)`);
  const r = spawnSync(cc, ['-O2', '-Wall', '-Werror', '-o', tmp, source], { encoding: 'utf8' });
  if (r.error) return { reason: `${cc}: ${r.error.message}` };
  if (r.status !== 0) return { reason: `${cc} failed: ${r.stderr.trim().split('\n').slice(0, 3).join(' ')}` };
  renameSync(tmp, binary);
  return { binary };
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
}

interface Section {
  node: string;
  nodeLabel: string;
  groups: GroupSpec[];
}

const SECTIONS: Section[] = [
  {
    node: 'aes-128-cbc',
    nodeLabel: 'node:crypto aes-128-cbc',
    groups: [
      { key: 'cbc-aesni', title: 'AES-128-CBC', requested: 'cbc-aes-aesni', kind: 'cipher', cipher: 'aes-128-cbc', keyLength: 16, afalgType: 'skcipher', fallbackBind: 'cbc-aes-aesni' },
      { key: 'cbc-virtio', title: 'AES-128-CBC', requested: 'virtio_crypto_aes_cbc', kind: 'cipher', cipher: 'aes-128-cbc', keyLength: 16, afalgType: 'skcipher', fallbackBind: 'virtio_crypto_aes_cbc' },
    ],
  },
  {
    node: 'aes-256-gcm',
    nodeLabel: 'node:crypto aes-256-gcm',
    groups: [{ key: 'gcm', title: 'AES-256-GCM', requested: 'kernel', kind: 'aead', cipher: 'aes-256-gcm', keyLength: 32, afalgType: 'aead', fallbackBind: 'gcm(aes)' }],
  },
  {
    node: 'sha256',
    nodeLabel: 'node:crypto sha256',
    groups: [{ key: 'sha256', title: 'SHA-256', requested: 'kernel', kind: 'hash', hash: 'sha256', keyLength: 0, afalgType: 'hash', fallbackBind: 'sha256' }],
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

async function bench(o: Options): Promise<Results> {
  const root = packageRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  const cpus = os.cpus();
  const notes: string[] = [];

  const k = await kernelReport().catch(() => null);
  const afalg = k ? (k.afalg.available ? 'available' : `unavailable: ${k.afalg.reason ?? 'unknown reason'}`) : `unavailable: ${loadAddon().error ?? 'native addon not loaded'}`;
  const built = o.harnessTest ? { reason: 'harness test (no kernel rows)' } : buildBaseline(root);
  const baselineReason = 'reason' in built ? built.reason : undefined;

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

  const opened = new Map<string, Opened>();
  const openFailed = new Map<string, string>();
  const costLabels = new Map<StatsSource, string>();

  for (const section of SECTIONS) {
    const key = randomBytes(section.groups[0]!.keyLength);
    const groupRows: { g: GroupSpec; k: Row; c: Row }[] = [];
    for (const g of section.groups) {
      const driverChoice = o.harnessTest ? 'software' : g.requested;
      let label = `kcrypto {driver: '${driverChoice}'} ${g.title}`;
      try {
        log(`opening ${g.title} on ${driverChoice}`);
        const s = await openKcrypto(g, key, driverChoice);
        opened.set(g.key, s);
        label = `kcrypto ${s.driver} ${g.title}${g.requested === 'kernel' ? " ({driver: 'kernel'})" : ''}`;
        if (s.kernel) costLabels.set(s.kernel, `${s.driver} ${g.title}`);
      } catch (err) {
        openFailed.set(g.key, errorText(err));
        log(`  unavailable: ${errorText(err)}`);
      }
      const s = opened.get(g.key);
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
        if ('reason' in built) cc = { reason: built.reason };
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
  const virtio = opened.get('cbc-virtio');
  const virtioLabel = virtio ? `kcrypto ${virtio.driver}` : `kcrypto {driver: 'virtio_crypto_aes_cbc'}`;
  for (const n of [1, 4, 16]) {
    const row: LoadRow = { label: virtioLabel, inFlight: n, size: SIZE_IN_FLIGHT, cell: { reason: openFailed.get('cbc-virtio') ?? 'not opened' } };
    if (virtio) {
      try {
        const data = randomBytes(SIZE_IN_FLIGHT);
        const { value, exec } = await counted(virtio.kernel, () => inFlight(virtio.request(data), SIZE_IN_FLIGHT, n, o.seconds));
        row.cell = exec ? { sample: value, exec } : { sample: value };
        log(`${virtioLabel} ${n} in flight at ${sizeLabel(SIZE_IN_FLIGHT)}: ${fmtSample(value)}`);
      } catch (err) {
        row.cell = { reason: errorText(err) };
      }
    }
    results.inFlight.push(row);
  }

  // Many small requests in flight on the CPU driver.
  const aesni = opened.get('cbc-aesni');
  const aesniLabel = aesni ? `kcrypto ${aesni.driver}` : `kcrypto {driver: 'cbc-aes-aesni'}`;
  {
    const row: LoadRow = { label: aesniLabel, inFlight: 64, size: SIZE_SMALL, cell: { reason: openFailed.get('cbc-aesni') ?? 'not opened' } };
    if (aesni) {
      try {
        const data = randomBytes(SIZE_SMALL);
        const { value, exec } = await counted(aesni.kernel, () => inFlight(aesni.request(data), SIZE_SMALL, 64, o.seconds));
        row.cell = exec ? { sample: value, exec } : { sample: value };
        log(`${aesniLabel} 64 in flight at ${sizeLabel(SIZE_SMALL)}: ${fmtSample(value)}`);
      } catch (err) {
        row.cell = { reason: errorText(err) };
      }
    }
    results.smallInFlight.push(row);
  }

  // Event-loop delay with 1000 requests in flight.
  results.idleDelay = await idleLoopDelay(Math.max(0.2, o.seconds / 2));
  for (const [s, label, key] of [
    [aesni, aesniLabel, 'cbc-aesni'],
    [virtio, virtioLabel, 'cbc-virtio'],
  ] as const) {
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
    log('routing: mixed 64 B / 64 KiB AES-128-CBC, 16 in flight');
    results.routing = await routingBench(o.seconds);
    for (const r of results.routing.rows) log(`routing ${r.label} (${r.driver}): ${r.mbps !== undefined ? `${r.mbps.toFixed(1)} MB/s` : r.reason}`);
  }

  // Where the time goes on the CPU driver: the engine alone (the native call, then
  // KernelSession.request) and the public API under each execution policy, same run.
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

async function labMode(o: Options): Promise<number> {
  const root = packageRoot();
  const built = buildBaseline(root);
  if ('reason' in built) log(`C baseline unavailable on the host (${built.reason}); the guest will try to build it`);
  const { runInLab } = await import('../src/lab/lab.js');
  const script = fileURLToPath(import.meta.url);
  const chunks: Buffer[] = [];
  log(`running in the lab${o.kernel ? ` (kernel ${o.kernel})` : ''}`);
  const result = await runInLab({
    command: [process.execPath, script, ...o.forward],
    ...(o.kernel ? { kernel: o.kernel } : {}),
    onOutput: (stream, chunk) => {
      if (stream === 'stdout') {
        chunks.push(chunk);
        process.stdout.write(chunk);
      } else process.stderr.write(chunk);
    },
  });
  if (result.error) log(`lab: ${result.error}`);
  if (result.exitCode === 0 && o.out) {
    const out = resolve(o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, Buffer.concat(chunks));
    log(`wrote ${out}`);
  }
  return result.exitCode;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.lab) return labMode(o);
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
