// Coverage-guided fuzzing of the addon's native code with libFuzzer, AddressSanitizer and
// UndefinedBehaviorSanitizer: `npm run fuzz -- [--seconds N] [--merge] [harness...]`.
//
// Each harness (test/fuzz/<name>.cc) links the native files that turn a caller's input into
// what the kernel gets, with the kernel replaced by a checker (docs/architecture.md, "Fuzzing"). It is built
// into build-fuzz/ and run for N seconds (default 60) on a temporary copy of its seed corpus
// (test/fuzz/corpus/<name>/); --merge adds the new inputs that found coverage to that corpus.
// Prints per harness the executions, exec/s, libFuzzer's coverage (cov: edges, ft: features)
// and the corpus size, and exits non-zero on any crash, leak, timeout or sanitizer report,
// naming the reproducer (run it again: build-fuzz/<name> <file>). Skips, saying so, where
// clang++ with libFuzzer is missing (scripts/install-lab-packages installs it).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'build-fuzz');
const cxx = process.env.FUZZ_CXX ?? 'clang++';

const DEVCRYPTO = [
  'native/devcrypto/devcrypto_abi.cc',
  'native/devcrypto/devcrypto_abi_linux.cc',
  'native/devcrypto/devcrypto_abi_freebsd.cc',
  'native/devcrypto/devcrypto_abi_netbsd.cc',
  'native/devcrypto/devcrypto_session.cc',
  'native/devcrypto/devcrypto_stream.cc',
];

/** Each harness: the native files it links besides test/fuzz/<name>.cc, and whether it needs the Node-API headers. */
export const HARNESSES = {
  request_args: { sources: ['native/request_args.cc', 'test/fuzz/fake_napi.cc'], napi: true },
  afalg_message: { sources: ['native/afalg/afalg_message.cc'], napi: false },
  devcrypto: { sources: [...DEVCRYPTO, 'test/fuzz/devcrypto_kernel.cc'], napi: false },
};

function parseArgs(argv) {
  const opts = { seconds: 60, merge: false, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') opts.seconds = Number(argv[++i]);
    else if (a.startsWith('--seconds=')) opts.seconds = Number(a.slice('--seconds='.length));
    else if (a === '--merge') opts.merge = true;
    else if (a.startsWith('-')) throw new Error(`fuzz: unknown option ${a}`);
    else opts.names.push(a);
  }
  if (!(opts.seconds > 0)) throw new Error('fuzz: --seconds takes a positive number');
  for (const n of opts.names) if (!(n in HARNESSES)) throw new Error(`fuzz: no harness ${n} (have: ${Object.keys(HARNESSES).join(', ')})`);
  if (opts.names.length === 0) opts.names = Object.keys(HARNESSES);
  return opts;
}

/** The directory holding node_api.h: next to this node, where node-gyp was told it is, or node-gyp's download. */
function nodeIncludeDir() {
  const candidates = [join(dirname(dirname(process.execPath)), 'include', 'node')];
  const gypi = join(root, 'build', 'config.gypi');
  if (existsSync(gypi)) {
    const m = /"nodedir":\s*"([^"]+)"/.exec(readFileSync(gypi, 'utf8'));
    if (m) candidates.push(join(m[1], 'include', 'node'));
  }
  candidates.push(join(homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'));
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

function flags(h) {
  const f = [
    '-std=c++17',
    '-g',
    '-O1',
    '-fsanitize=fuzzer,address,undefined',
    '-fno-sanitize-recover=undefined',
    '-fno-omit-frame-pointer',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-Wno-missing-field-initializers',
    '-I',
    join(root, 'native'),
    '-I',
    join(root, 'test', 'fuzz'),
  ];
  if (h.napi) {
    const inc = nodeIncludeDir();
    if (!inc) throw new Error('fuzz: no Node.js headers (node_api.h) found; run `npm run build:native` once to fetch them');
    const addonApi = createRequire(import.meta.url)('node-addon-api').include_dir;
    f.push('-I', inc, '-I', join(root, addonApi), '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED');
  }
  return f;
}

function newest(paths) {
  return Math.max(...paths.map((p) => statSync(p).mtimeMs));
}

/** The headers a harness may include: every .h under native/ and test/fuzz/. */
function headers() {
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = join(d, e.name);
      return e.isDirectory() ? walk(p) : e.name.endsWith('.h') ? [p] : [];
    });
  return [...walk(join(root, 'native')), ...walk(join(root, 'test', 'fuzz'))];
}

/** Builds one harness unless its binary is newer than every source; resolves to null or the compiler's output. */
function build(name) {
  const h = HARNESSES[name];
  const sources = [`test/fuzz/${name}.cc`, ...h.sources].map((s) => join(root, s));
  const bin = join(out, name);
  if (existsSync(bin) && statSync(bin).mtimeMs > newest([...sources, ...headers(), fileURLToPath(import.meta.url)]))
    return Promise.resolve(null);
  built.push(name);
  return new Promise((resolve) => {
    const child = spawn(cxx, [...flags(h), ...sources, '-o', bin], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c) => (text += c));
    child.stderr.on('data', (c) => (text += c));
    child.on('close', (code) => resolve(code === 0 ? null : text || `exit ${code}`));
  });
}

const built = [];

/** Builds the harnesses, two at a time (the CI machine has two cores). */
async function buildAll(names) {
  const failed = [];
  const queue = [...names];
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const err = await build(n);
      if (err) failed.push(`${n}:\n${err}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return failed;
}

function stats(log) {
  const num = (re) => {
    const m = re.exec(log);
    return m ? Number(m[1]) : NaN;
  };
  const lines = [...log.matchAll(/cov: (\d+) ft: (\d+) corp: (\d+)\/(\S+)/g)];
  const last = lines.at(-1);
  return {
    execs: num(/stat::number_of_executed_units:\s*(\d+)/),
    perSec: num(/stat::average_exec_per_sec:\s*(\d+)/),
    cov: last ? Number(last[1]) : NaN,
    ft: last ? Number(last[2]) : NaN,
    corpus: last ? `${last[3]} inputs/${last[4]}` : '?',
    peakRss: num(/stat::peak_rss_mb:\s*(\d+)/),
  };
}

/** Runs one harness; resolves to { ok, stats, artifacts, log }. */
function fuzz(name, seconds, merge) {
  const seeds = join(root, 'test', 'fuzz', 'corpus', name);
  const corpus = mkdtempSync(join(tmpdir(), `kcrypto-fuzz-${name}-`));
  if (existsSync(seeds)) cpSync(seeds, corpus, { recursive: true });
  const artifacts = join(out, 'artifacts', name);
  mkdirSync(artifacts, { recursive: true });
  const args = [
    `-max_total_time=${seconds}`,
    '-print_final_stats=1',
    '-timeout=20',
    '-rss_limit_mb=2048',
    '-detect_leaks=1',
    `-artifact_prefix=${artifacts}/`,
    corpus,
  ];
  const env = {
    ...process.env,
    ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:symbolize=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  };
  return new Promise((resolve) => {
    const child = spawn(join(out, name), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (c) => (log += c));
    child.stderr.on('data', (c) => (log += c));
    child.on('close', (code, signal) => {
      writeFileSync(join(out, `${name}.log`), log);
      const found = [...log.matchAll(/Test unit written to (\S+)/g)].map((m) => m[1]);
      if (code === 0 && merge) {
        const m = spawnSync(join(out, name), ['-merge=1', seeds, corpus], { env, encoding: 'utf8' });
        if (m.status !== 0) log += `\nmerge failed:\n${m.stderr}`;
      }
      rmSync(corpus, { recursive: true, force: true });
      resolve({ ok: code === 0, code: code ?? signal, stats: stats(log), artifacts: found, log });
    });
  });
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
if (process.platform !== 'linux') {
  console.log('fuzz: skipped, the harnesses build on Linux only (linux/if_alg.h)');
  process.exit(0);
}
const probe = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.log(`fuzz: skipped, ${cxx} is not installed (Debian: apt-get install clang libclang-rt-14-dev)`);
  process.exit(0);
}
mkdirSync(out, { recursive: true });
const t0 = Date.now();
const failedBuilds = await buildAll(opts.names);
if (failedBuilds.length > 0) {
  console.error(`fuzz: build failed\n${failedBuilds.join('\n')}`);
  process.exit(1);
}
if (built.length > 0) console.log(`fuzz: built ${built.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s (build-fuzz/)`);

let failures = 0;
for (const name of opts.names) {
  const r = await fuzz(name, opts.seconds, opts.merge);
  const s = r.stats;
  if (r.ok) {
    console.log(
      `fuzz: ${name}: ${s.execs} executions in ${opts.seconds} s (${s.perSec} exec/s), cov: ${s.cov} ft: ${s.ft}, corpus ${s.corpus}, peak RSS ${s.peakRss} MB`,
    );
    continue;
  }
  failures++;
  console.log(`fuzz: ${name}: FAILED (exit ${r.code}) after ${s.execs} executions; log: build-fuzz/${name}.log`);
  // From the report on: the sanitizer's, a failed check's, or libFuzzer's own (timeout, leak, OOM).
  const lines = r.log.split('\n');
  const first = lines.findIndex((l) =>
    /^==\d+==|^fuzz check failed|runtime error:|^ALARM|^ERROR: libFuzzer|^fake_napi:|^devcrypto kernel:/.test(l),
  );
  console.log(
    lines
      .slice(first >= 0 ? first : -60)
      .slice(0, 80)
      .join('\n'),
  );
  for (const a of r.artifacts) console.log(`fuzz: ${name}: reproducer ${a} (run: build-fuzz/${name} ${a})`);
}
process.exit(failures > 0 ? 1 : 0);
