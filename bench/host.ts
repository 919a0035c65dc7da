/**
 * kcrypto's host benchmark: on this machine's CPU (no lab guest), the public API on the
 * default driver against node:crypto, the cost of each layer on the native loopback engine
 * against libuv's thread pool, 8 × 1 MiB in flight, measured routing on a mix of 64 B and
 * 1 MiB requests, and the event loop under load; then the speed goals judged on the same run.
 *
 *     node dist/esm/bench/host.js [--quick] [--rounds N] [--round-ms MS] [--out FILE]
 *
 * Prints the markdown report on stdout (progress on stderr) and writes FILE too when given.
 * `npm run bench:host` writes its section of bench/RESULTS.md; `kcrypto bench --host` runs this file.
 */
import { freshRoutes } from './host-hooks.js';

import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';

import { layerSubjects } from './host-layers.js';
import { machineInfo } from './host-machine.js';
import { interleave, type Rounds } from './host-measure.js';
import { renderHostReport } from './host-report.js';
import type { HostResults, LoopResult } from './host-results.js';
import { batchSubjects, IV, openSessions, throughputSubjects, type Opened } from './host-subjects.js';
import { loopDelayInFlight } from './measure.js';
import { publishReport } from './publish.js';
import { routingBench, type RoutingOptions } from './routing.js';
import { router } from '../src/api/framework-instance.js';
import type { Session } from '../src/api/session.js';
import { ROUTE_SIZES } from '../src/framework/route-table.js';

/** A session's driver; for a routed one, the driver each measured size goes to. */
function routesOf(s: Session): string {
  const sid = s.frameworkSid;
  const routes = sid === undefined ? undefined : router.routes(sid);
  if (!routes) return s.driver;
  return `${s.driver} (${routes.map((r, i) => `${ROUTE_SIZES[i]!} B: ${r.driver}`).join(', ')})`;
}

const SIZES = [64, 1024, 16 * 1024, 64 * 1024, 1 << 20];
const LAYER_SIZE = 64;
const LOOP_REQUESTS = 1000;
const LOOP_SIZE = 16 * 1024;

/**
 * The single paths routing chooses between on a host without kernel drivers: the software
 * driver (node:crypto per request), and OpenSSL's EVP through the addon on the calling thread
 * and on the addon's threads.
 */
const ROUTING: RoutingOptions['subjects'] = [
  { label: 'software driver alone', driver: 'software' },
  { label: "openssl alone, execution 'inline' (the calling thread)", driver: 'openssl', execution: 'inline' },
  { label: "openssl alone, execution 'threads' (the addon's threads)", driver: 'openssl', execution: 'threads' },
  { label: 'routed (fastest)', driver: 'fastest' },
];
const ROUTING_LARGE = 1 << 20;
const ROUTING_SMALL_PER_LARGE = 15;

interface HostOptions {
  quick: boolean;
  rounds: number;
  roundMs: number;
  loopSeconds: number;
  out?: string;
}

const USAGE = `usage: node dist/esm/bench/host.js [--quick] [--rounds N] [--round-ms MS] [--out FILE]

  --quick        a smoke run of a few seconds (3 rounds of 15 ms): checks the harness, not figures to quote
  --rounds N     counted rounds per subject, after one warm-up round (default 7)
  --round-ms MS  time per subject per round (default 300)
  --out FILE     also write the markdown report to FILE
`;

function parseHostArgs(argv: readonly string[]): HostOptions | { error: string } | 'help' {
  const o: HostOptions = { quick: false, rounds: 7, roundMs: 300, loopSeconds: 3 };
  let rounds: number | undefined;
  let roundMs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const int = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    try {
      if (a === '--quick') o.quick = true;
      else if (a === '--rounds') rounds = int();
      else if (a === '--round-ms') roundMs = int();
      else if (a === '--out') {
        const v = argv[++i];
        if (v === undefined) return { error: '--out needs a file name' };
        o.out = v;
      } else if (a === '-h' || a === '--help') return 'help';
      else return { error: `unknown option ${a}` };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  if (o.quick) Object.assign(o, { rounds: 3, roundMs: 15, loopSeconds: 0.3 });
  if (rounds !== undefined) o.rounds = rounds;
  if (roundMs !== undefined) o.roundMs = roundMs;
  return o;
}

function log(msg: string): void {
  process.stderr.write(`bench:host: ${msg}\n`);
}

/** Event-loop lateness with LOOP_REQUESTS requests of LOOP_SIZE in flight on the default AES session. */
async function loopUnderLoad(s: Opened, seconds: number): Promise<LoopResult> {
  const data = randomBytes(LOOP_SIZE);
  const base = { requests: LOOP_REQUESTS, size: LOOP_SIZE, driver: s.aes.driver };
  try {
    const { sample, delay, burstMs } = await loopDelayInFlight(() => s.aes.encrypt(data, { iv: IV }), LOOP_SIZE, LOOP_REQUESTS, seconds);
    return { ...base, ...delay, rate: sample.ops / sample.seconds, burstMs };
  } catch (err) {
    return { ...base, reason: err instanceof Error ? err.message : String(err) };
  }
}

async function main(): Promise<number> {
  const parsed = parseHostArgs(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if ('error' in parsed) {
    process.stderr.write(`bench:host: ${parsed.error}\n${USAGE}`);
    return 2;
  }
  const o = parsed;
  const t0 = performance.now();
  const rounds: Rounds = { rounds: o.rounds, warmupRounds: 1, roundMs: o.roundMs };
  const sessions = await openSessions();
  const defaultDriver = `AES-128-CBC → ${routesOf(sessions.aes)}; SHA-256 → ${routesOf(sessions.sha)}${freshRoutes ? ' (routes measured in this run)' : ` (routes from ${process.env['KCRYPTO_ROUTE_CACHE']})`}`;
  const machine = await machineInfo(defaultDriver);
  log(`${machine.cpu}, ${machine.cores} cores; default driver: ${defaultDriver}`);

  log('throughput: node:crypto against the default session');
  const throughput = await interleave(throughputSubjects(sessions, SIZES), rounds, log);
  log('layers (loopback engine, framework, API, libuv)');
  const layers = await layerSubjects(LAYER_SIZE);
  const layerResults = await interleave(layers.subjects, rounds, log);
  await layers.close();
  log('8 × 1 MiB in flight on the default session against node:crypto one after another');
  const batch = await interleave(batchSubjects(sessions), rounds, log);
  log(`routing: 64 B / 1 MiB mixed ${ROUTING_SMALL_PER_LARGE}:1, 16 in flight, each single path against the routed session`);
  const routingSeconds = o.quick ? 0.05 : 1;
  const routing = await routingBench(routingSeconds, ROUTING_LARGE, ROUTING_SMALL_PER_LARGE, {
    subjects: ROUTING,
    rounds: o.rounds,
    minSeconds: routingSeconds,
  });
  log(`event loop: ${LOOP_REQUESTS} requests in flight for ${o.loopSeconds} s`);
  const loop = await loopUnderLoad(sessions, o.loopSeconds);
  await sessions.close();

  const results: HostResults = {
    machine,
    settings: {
      rounds: o.rounds,
      warmupRounds: rounds.warmupRounds,
      roundMs: o.roundMs,
      loopSeconds: o.loopSeconds,
      quick: o.quick,
      elapsedS: (performance.now() - t0) / 1000,
    },
    sizes: SIZES,
    throughput,
    layers: layerResults,
    batch,
    loop,
    routing,
  };
  publishReport(renderHostReport(results), o.out, log, 'host');
  return 0;
}

process.exitCode = await main();
