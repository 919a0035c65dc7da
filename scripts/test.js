// The test command (`npm test`): the lint (`npm run lint`: formatting, ESLint, the C++ check),
// unit tests on this host, then the lab suite inside each installed lab kernel
// (scripts/lab-suite.js, in the passes each kernel's plan below names), then again with the
// sanitizer build of the addon on the kernels whose plan says so, then a 2-minute soak
// (scripts/soak.js: mixed requests on every driver while a virtio-crypto card is pulled out
// and plugged back each minute, on 6.12; its report lands in soak-report/). Prints one closing
// line with the totals. The `fuzz` stage builds the libFuzzer harnesses of the native code
// (test/fuzz/) and runs each for FUZZ_SECONDS seconds (scripts/fuzz.js). The `pack` stage
// builds the prebuilt binaries, packs the package and checks that the tarball installs and runs
// where no compiler is reachable, on arm64 (qemu-user) and with musl (scripts/pack-check.js).
//
// What runs where (the whole run must fit CI's hour on a 2-core machine; every pass runs on at
// least one kernel, and what a kernel refuses is asserted there, not skipped):
//   6.12  every driver, the three /dev/crypto fixture ABIs, unprivileged, hot unplug;
//         sanitized: every driver, the cryptodev-linux fixture, hot unplug
//   6.1   every driver, hot unplug
//   7.2   every driver (the CUSE fixture's own test among them)
//   7.3+  every driver (af_alg_restrict=1), the sysctl at 0 and at 2, unprivileged, the CUSE
//         fixture's own test (at 0); sanitized: the AF_ALG policy and driver files
//   other every driver
// The per-driver files against the /dev/crypto fixture run on 6.12 only: kcrypto's side of
// /dev/crypto (ioctls into a CUSE device) is the same on every kernel, and what differs per
// kernel — the fixture itself, which computes through the guest's AF_ALG — has its own test.
//
// Environment:
//   KCRYPTO_TEST_STAGES  comma list of stages to run (lint,unit,fuzz,pack,lab,sanitize,soak); default all
//   KCRYPTO_LAB_KERNEL   run the lab stages on this kernel only (default: all installed)
//   KCRYPTO_LAB_PASSES   the passes to run on every kernel, instead of each kernel's plan
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const stages = (process.env.KCRYPTO_TEST_STAGES ?? 'lint,unit,fuzz,pack,lab,sanitize,soak').split(',').map((s) => s.trim());
// Seconds per fuzz harness in the test command: with the build, the stage stays near 3 minutes
// on the 2-core CI machine (`npm run fuzz` alone runs a minute each).
const FUZZ_SECONDS = 30;
const nodeTest = ['--test', '--test-reporter=spec'];

/**
 * Each kernel's passes (plain and sanitized), by release; the first match wins. `skip` leaves
 * test files to other kernels (KCRYPTO_LAB_SKIP): the `kcrypto conformance` command (its checks
 * run per driver everywhere, in the conformance files), the node:crypto functions, WebCrypto, the
 * worker teardown, the property tests, the buffers in flight and the KCRYPTO_FORBID checks run
 * over the same kernel paths as the conformance suite, so they run where those paths differ —
 * 6.12 (the card, every /dev/crypto ABI) and 7.3 (the restricted AF_ALG: which driver serves,
 * and the fallbacks, for the drop-ins, WebCrypto and the forbid switch; the command itself,
 * and the worker teardown, property and in-flight files, which drive one session's lifetime the
 * restriction does not change, on 6.12 only) — and the sanitized 6.12 pass keeps the
 * workers and in-flight files (the teardown and freed buffers are what ASan is for there; the
 * property and forbid tests run under ASan in the unit stage).
 */
const NEW_SURFACE = 'conformance,dropins,webcrypto,workers,properties,inflight,security';
/**
 * `checks` (KCRYPTO_LAB_CHECKS) narrows the conformance checks of the per-driver files: every
 * check runs on every driver of 6.12 (plain: AF_ALG with the card, each /dev/crypto ABI); 6.1,
 * 7.2 and 7.3 run the checks whose answers depend on the kernel (Wycheproof and differential,
 * which always run, and refusals and limits, whose optmem_max defaults differ), and leave
 * requests in flight at close and many at once (the same addon code over the same algif
 * paths) to 6.12; the sanitized pass keeps the teardown, which
 * is what ASan is for there, with the in-flight, worker and error files (the Wycheproof,
 * random-size and streaming data paths run under ASan in the unit stage; the AF_ALG policy and
 * driver files in 7.3's sanitized pass).
 */
const LIGHT_CHECKS = 'parameters,hash-copy';
const PLANS = [
  {
    match: /^6\.12\./,
    passes: 'main,fixtures,unprivileged,hotplug',
    abis: 'linux,freebsd,netbsd',
    sanitize: {
      passes: 'main,fixtures,hotplug',
      abis: 'linux',
      skip: 'conformance,wycheproof,differential,streaming,dropins,webcrypto,properties,security,afalg-policy,drivers',
      checks: 'teardown',
    },
  },
  { match: /^6\.1\./, passes: 'main,hotplug', abis: '', skip: NEW_SURFACE, checks: LIGHT_CHECKS },
  { match: /^7\.2\./, passes: 'main', abis: '', skip: NEW_SURFACE, checks: LIGHT_CHECKS },
  {
    match: /^(7\.([3-9]|\d\d+)|([89]|\d\d+)\.)/,
    passes: 'main,modes,unprivileged,fixtures',
    abis: '',
    skip: 'conformance,workers,properties,inflight',
    checks: LIGHT_CHECKS,
    sanitize: { passes: 'policy', abis: '' },
  },
  { match: /./, passes: 'main', abis: '' },
];

/** The kernels the lab can boot, newest first (`kcrypto lab --list-kernels`' own list). */
async function labKernels() {
  if (process.env.KCRYPTO_LAB_KERNEL) return [process.env.KCRYPTO_LAB_KERNEL];
  const { discoverKernels } = await import('../dist/esm/src/lab/kernels.js');
  return discoverKernels().map((k) => k.version);
}

function planOf(kernel) {
  return PLANS.find((p) => p.match.test(kernel));
}

const lab = (kernel, { passes, abis, skip, checks, fixtureChecks }, env) => [
  'dist/esm/src/cli/main.js',
  'lab',
  '--timeout',
  '2700',
  '--kernel',
  kernel,
  '--',
  'env',
  'KCRYPTO_LAB=1',
  `KCRYPTO_LAB_PASSES=${process.env.KCRYPTO_LAB_PASSES ?? passes}`,
  `KCRYPTO_LAB_ABIS=${abis}`,
  `KCRYPTO_LAB_SKIP=${process.env.KCRYPTO_LAB_SKIP ?? skip ?? ''}`,
  `KCRYPTO_LAB_CHECKS=${process.env.KCRYPTO_LAB_CHECKS ?? checks ?? ''}`,
  `KCRYPTO_LAB_FIXTURE_CHECKS=${fixtureChecks ?? ''}`,
  ...env,
  process.execPath,
  'scripts/lab-suite.js',
];

function sanitizerEnv() {
  // The addon is built with -fsanitize=address,undefined; node itself is not, so the ASan
  // runtime has to be preloaded. Leak checking is off: node keeps allocations alive at exit.
  const lib = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  return [
    'KCRYPTO_ADDON=' + new URL('../build-asan/Release/kcrypto.node', import.meta.url).pathname,
    `LD_PRELOAD=${lib}`,
    'ASAN_OPTIONS=detect_leaks=0:abort_on_error=1',
    'UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1',
  ];
}

const totals = { pass: 0, fail: 0, skipped: 0 };
let failedStages = [];
/** Each failing test, by stage, from node:test's "failing tests:" section: the run's last lines name them. */
const failures = [];
/** Each stage's wall time, for the closing lines: where the run's hour goes. */
const stageSeconds = [];

/**
 * Reads a stage's output line by line: adds each node:test run's counts to the totals, and from
 * its closing "✖ failing tests:" section ("test at FILE:LINE:COL", "✖ NAME (TIME)", the error
 * indented below) keeps, per failing test, where it is, its name and the first lines of its
 * error (no stack frames).
 */
function outputReader(stage) {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let inSection = false;
  let where = '';
  let current;
  const line = (l) => {
    // node:test's spec reporter ends each run with "ℹ pass N", "ℹ fail N", "ℹ skipped N".
    const count = /^ℹ (pass|fail|skipped) (\d+)$/.exec(l);
    if (count) totals[count[1]] += Number(count[2]);
    if (/^✖ failing tests:$/.test(l)) return void (inSection = true);
    if (!inSection) return;
    if (/^(ℹ |=== |kcrypto lab: )/.test(l)) return void (inSection = false);
    const at = /^test at (.+)$/.exec(l);
    if (at) return void (where = at[1]);
    const name = /^✖ (.+?) \([\d.]+m?s\)$/.exec(l);
    if (name) {
      current = { stage, where, name: name[1], error: [] };
      failures.push(current);
      return;
    }
    // The error's first lines: a message, and where a property failed, the seed to replay it.
    if (current && current.error.length < 4 && l.trim() !== '' && !/^\s+at /.test(l)) current.error.push(l.trim().slice(0, 300));
  };
  return (chunk) => {
    const lines = (partial + decoder.write(chunk)).split('\n');
    partial = lines.pop();
    for (const l of lines) line(l.replace(/\r$/, ''));
  };
}

function run(name, cmd, args, env = {}) {
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${name} ===\n`);
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const read = outputReader(name);
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      read(chunk);
    });
    const started = Date.now();
    child.on('close', (code, signal) => {
      stageSeconds.push([name, Math.round((Date.now() - started) / 1000)]);
      if (code !== 0) failedStages.push(`${name} (exit ${code ?? signal})`);
      resolve();
    });
  });
}

// The lint reads the sources only; every other stage runs the built package.
const needsBuild = stages.some((s) => s !== 'lint');
if (needsBuild && (!existsSync('dist/esm/src/index.js') || !existsSync('build/Release/kcrypto.node'))) {
  console.error('kcrypto: not built; run `npm install` (or `npm run build`) first');
  process.exit(2);
}

const kernels = stages.includes('lab') || stages.includes('sanitize') ? await labKernels() : [];
if ((stages.includes('lab') || stages.includes('sanitize')) && kernels.length === 0)
  failedStages.push('lab (no kernel installed: run scripts/install-lab-packages)');

if (stages.includes('lint')) await run('lint', 'npm', ['run', '--silent', 'lint']);
// The unit tests use the addon's test hooks (the loopback engine); the lab tests do not.
if (stages.includes('unit'))
  await run('unit tests (host)', process.execPath, [...nodeTest, 'dist/esm/test/unit/'], { KCRYPTO_TEST_HOOKS: '1' });
if (stages.includes('fuzz'))
  await run('fuzz (libFuzzer + ASan + UBSan, native harnesses)', process.execPath, ['scripts/fuzz.js', '--seconds', String(FUZZ_SECONDS)]);
if (stages.includes('pack'))
  await run('pack (prebuilt binaries, npm pack, install without a compiler, arm64, musl)', process.execPath, [
    '--test-reporter=spec',
    'scripts/pack-check.js',
  ]);
if (stages.includes('lab')) {
  for (const kernel of kernels) {
    const plan = planOf(kernel);
    await run(`lab suite, kernel ${kernel} (${process.env.KCRYPTO_LAB_PASSES ?? plan.passes})`, process.execPath, lab(kernel, plan, []));
  }
}
if (stages.includes('sanitize')) {
  const buildStarted = Date.now();
  const b = spawnSync('npm', ['run', '--silent', 'build:asan'], { stdio: 'inherit' });
  stageSeconds.push(['sanitizer build', Math.round((Date.now() - buildStarted) / 1000)]);
  if (b.status !== 0) failedStages.push('sanitizer build');
  else {
    const env = sanitizerEnv();
    await run('unit tests (host, ASan+UBSan addon)', 'env', [
      ...env,
      'KCRYPTO_TEST_HOOKS=1',
      process.execPath,
      ...nodeTest,
      'dist/esm/test/unit/',
    ]);
    for (const kernel of kernels) {
      const plan = planOf(kernel).sanitize;
      if (plan)
        await run(
          `lab suite, kernel ${kernel}, ASan+UBSan addon (${process.env.KCRYPTO_LAB_PASSES ?? plan.passes})`,
          process.execPath,
          lab(kernel, plan, env),
        );
    }
  }
}

if (stages.includes('soak')) {
  // The kernel whose AF_ALG still reaches the virtio-crypto card (scripts/soak.js' default).
  const { discoverKernels } = await import('../dist/esm/src/lab/kernels.js');
  const kernel = discoverKernels()
    .map((k) => k.version)
    .find((v) => v.startsWith('6.12.'));
  if (!kernel) failedStages.push('soak (no 6.12 lab kernel installed: run scripts/install-lab-packages)');
  // A second guest only when the first wedged after its kernel faulted (scripts/soak.js).
  else
    await run(`soak, 2 minutes, kernel ${kernel}`, process.execPath, [
      'scripts/soak.js',
      '--minutes',
      '2',
      '--kernel',
      kernel,
      '--attempts',
      '2',
    ]);
}

console.log('');
console.log('stage times:');
for (const [name, seconds] of stageSeconds) console.log(`  ${String(seconds).padStart(5)} s  ${name}`);
console.log(`  ${String(Math.round(performance.now() / 1000)).padStart(5)} s  in all`);
// Last, so that a log cut to its tail still says which tests failed and why.
if (failures.length > 0) {
  console.log('failing tests:');
  for (const f of failures) console.log(`  ${f.stage}: ${f.where}: ${f.name}\n${f.error.map((l) => `      ${l}\n`).join('')}`);
}
if (failedStages.length > 0) console.log(`failed stages: ${failedStages.join(', ')}`);
console.log(`${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exitCode = failedStages.length > 0 || totals.fail > 0 ? 1 : 0;
