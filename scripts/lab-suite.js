// The lab suite as it runs inside a lab guest (as root), in passes:
//
//   main          the whole suite once (every driver the kernel offers, and those behind
//                 /dev/crypto when a cryptodev module was given to the lab);
//   fixtures      the per-driver conformance files once per /dev/crypto ABI against the CUSE
//                 fixture serving that ABI (KCRYPTO_LAB_ABIS narrows the ABIs);
//   policy        the AF_ALG policy and driver files alone (a cheap pass for the sanitizer);
//   modes         where the kernel has crypto.af_alg_restrict: the AF_ALG policy, driver and
//                 RNG files again with the sysctl at 0 and at 2, then the sysctl as it was
//                 (conformance on driver names, which 0 allows, is 7.2's main pass);
//   unprivileged  the policy, driver, known-answer and RNG files as uid 65534 with no
//                 capabilities (what a normal user gets);
//   hotplug       last: removes a virtio-crypto card for the rest of the guest's life.
//
// KCRYPTO_LAB_PASSES (comma list) picks passes; by default all. A pass that does not apply to
// this kernel (modes without the sysctl, hotplug without a usable card) says so and is not run:
// afalg-policy.test.ts asserts why. KCRYPTO_LAB_SKIP (comma list of file names) leaves those
// files to another kernel's run, and says so. Exits non-zero when any pass failed.
//
//     node scripts/lab-suite.js [FILTER]     (FILTER: only test files whose name contains it)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, chownSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = 'dist/esm/test/lab';
const filter = process.argv[2] ?? '';
// KCRYPTO_LAB_SKIP (comma list of test file names, without .test.js): files another kernel runs.
const skipped = (process.env.KCRYPTO_LAB_SKIP ?? '').split(',').filter((n) => n !== '');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js') && f.includes(filter) && !skipped.includes(f.slice(0, -'.test.js'.length)))
  .map((f) => `${dir}/${f}`);
// The files whose tests run per driver (the conformance suite, the node:crypto functions and the
// workers file): the fixture passes run them against each /dev/crypto ABI.
const perDriver = [
  'conformance',
  'wycheproof',
  'differential',
  'errors',
  'parallel',
  'streaming',
  'dropins',
  'workers',
  'properties',
  'inflight',
]
  .map((n) => `${dir}/${n}.test.js`)
  .filter((f) => files.includes(f));
const nodeTest = [process.execPath, '--test', '--test-reporter=spec'];
// KCRYPTO_LAB_CHECKS (comma list of conformance check ids): the checks the per-driver files
// declare in this run, the others left to another kernel's (test/support/check-case.ts);
// KCRYPTO_LAB_FIXTURE_CHECKS the same for the fixture passes. A file of nothing but a check
// left out (parallel: concurrency) is not started at all.
const checksOf = (value) => (value ?? '').split(',').filter((id) => id.trim() !== '');
const mainChecks = checksOf(process.env.KCRYPTO_LAB_CHECKS);
const fixtureChecks =
  checksOf(process.env.KCRYPTO_LAB_FIXTURE_CHECKS).length > 0 ? checksOf(process.env.KCRYPTO_LAB_FIXTURE_CHECKS) : mainChecks;
const withChecks = (list, checks) =>
  checks.length === 0 || checks.includes('concurrency') ? list : list.filter((f) => !f.endsWith('/parallel.test.js'));

const passes = new Set((process.env.KCRYPTO_LAB_PASSES ?? 'main,fixtures,modes,unprivileged,hotplug').split(',').map((p) => p.trim()));
const pick = (...names) => names.map((n) => `${dir}/${n}.test.js`).filter((f) => files.includes(f));

let failed = [];
if (skipped.length > 0) process.stdout.write(`\n=== lab files left to another kernel's run: ${skipped.join(', ')} ===\n`);
function pass(name, argv, env = {}) {
  process.stdout.write(`\n=== lab pass: ${name} ===\n`);
  const started = Date.now();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
  process.stdout.write(
    `=== lab pass: ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s ===\n`,
  );
  if (r.status !== 0) failed.push(`${name} (exit ${r.status ?? r.signal})`);
}
function notRun(name, why) {
  process.stdout.write(`\n=== lab pass: ${name}: not run here: ${why} ===\n`);
}

// crypto.af_alg_restrict, where the kernel has it (7.3 and later).
const RESTRICT = '/proc/sys/crypto/af_alg_restrict';
const restrict = existsSync(RESTRICT) ? readFileSync(RESTRICT, 'utf8').trim() : null;
function setRestrict(value) {
  writeFileSync(RESTRICT, `${value}\n`);
  process.stdout.write(`(crypto.af_alg_restrict = ${readFileSync(RESTRICT, 'utf8').trim()})\n`);
}
/** Runs `f` with the sysctl at `value` (where there is one), then puts it back. */
function withRestrict(value, f) {
  if (restrict === null || restrict === String(value)) return f();
  setRestrict(value);
  try {
    return f();
  } finally {
    setRestrict(restrict);
  }
}

const hotplug = `${dir}/hot-unplug.test.js`;
// The CUSE fixture computes through the guest's AF_ALG with names af_alg_restrict=1 refuses:
// where the sysctl restricts, its own test runs in the fixtures pass, with the sysctl at 0.
const fixtureTest = `${dir}/devcrypto-fixture.test.js`;
const fixtureNeedsLift = restrict !== null && restrict !== '0';
const main = files.filter((f) => f !== hotplug && !(fixtureNeedsLift && f === fixtureTest));
if (passes.has('policy'))
  pass(`AF_ALG policy${restrict === null ? '' : ` (crypto.af_alg_restrict=${restrict})`}`, [
    ...nodeTest,
    ...pick('afalg-policy', 'drivers'),
  ]);
const mainFiles = withChecks(main, mainChecks);
// (node --test with no file would run every test file it finds.)
if (passes.has('main') && mainFiles.length > 0)
  pass(`every driver${restrict === null ? '' : ` (crypto.af_alg_restrict=${restrict})`}`, [...nodeTest, ...mainFiles]);
if (passes.has('fixtures') && perDriver.length > 0) {
  // KCRYPTO_LAB_ABIS narrows the fixture passes, one per ABI; by default all three. The fixture
  // computes through the guest's AF_ALG with names the default af_alg_restrict=1 refuses
  // (gcm(aes), driver names): /dev/crypto itself is not subject to the sysctl, so the fixture
  // passes run with it at 0.
  const abis = (process.env.KCRYPTO_LAB_ABIS ?? 'linux,freebsd,netbsd').split(',').filter((a) => a !== '');
  withRestrict(0, () => {
    if (fixtureNeedsLift && files.includes(fixtureTest))
      pass('CUSE /dev/crypto fixture (crypto.af_alg_restrict=0)', [...nodeTest, fixtureTest]);
    for (const abi of abis) {
      // The BSD ABIs differ from cryptodev-linux's in how a request is marshaled, which every
      // other per-driver file drives; many requests at once and the command itself are the same
      // code above it, run on the cryptodev-linux ABI.
      const files = withChecks(
        abi === 'linux' ? perDriver : perDriver.filter((f) => !/\/(parallel|conformance)\.test\.js$/.test(f)),
        fixtureChecks,
      );
      if (files.length === 0) continue;
      pass(
        `/dev/crypto fixture, ${abi} ABI`,
        [process.execPath, 'dist/esm/test/support/with-devcrypto-fixture.js', abi, '--', ...nodeTest, ...files],
        { KCRYPTO_LAB_CHECKS: fixtureChecks.join(',') },
      );
    }
  });
}
if (passes.has('modes')) {
  if (restrict === null) notRun('crypto.af_alg_restrict modes', 'this kernel has no crypto.af_alg_restrict');
  else {
    withRestrict(0, () => pass('crypto.af_alg_restrict=0', [...nodeTest, ...pick('afalg-policy', 'drivers', 'rng')]));
    withRestrict(2, () => pass('crypto.af_alg_restrict=2', [...nodeTest, ...pick('afalg-policy', 'rng')]));
  }
}
if (passes.has('unprivileged')) {
  // util-linux's setpriv (busybox has one too, without --reuid, earlier on the guest's PATH).
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  if (!setpriv) notRun('unprivileged', 'no util-linux setpriv on this system');
  else {
    const home = mkdtempSync(join(tmpdir(), 'kcrypto-nobody-'));
    chownSync(home, 65534, 65534);
    const drop = [
      setpriv,
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      '--',
    ];
    pass(
      `unprivileged (uid 65534, no capabilities${restrict === null ? '' : `, crypto.af_alg_restrict=${restrict}`})`,
      [...drop, ...nodeTest, ...pick('afalg-policy', 'drivers', 'wycheproof', 'rng')],
      { HOME: home, XDG_CACHE_HOME: join(home, '.cache') },
    );
  }
}

// Threads of the hot-unplug test can stay in the kernel for good (a request in flight on the
// removed card), and then its process never finishes exiting. Worse, on 6.12 the card's driver
// touches freed memory once the card is gone: requests and the closing of sockets bound to it
// fault in the kernel (general protection faults in crypto_transfer_request and
// virtqueue_add_split), and after the fault at the test process's exit, when its descriptors
// are closed, the guest may go no further. So the file runs in this process's child directly
// (not under `--test`, whose runner prints its summary only once the file's process has
// exited), its verdict is read from the summary as soon as it prints one and goes to the lab at
// once (the last pass: the run's result is known then), the process gets a few seconds to
// exit, and this script exits regardless -- which lets the lab power the guest off, or end it
// on the verdict if it has wedged. Nothing here waits on a process without a limit: a process
// stuck in the kernel cannot be waited for (spawnSync would wait for good, even after its
// timeout's kill).
const HOTPLUG_LIMIT_MS = 5 * 60_000;
const EXIT_GRACE_MS = 5_000;
const PROBE_LIMIT_MS = 90_000;

/** Runs `argv`; resolves with its stdout if it exits with 0 within `limitMs`, else with null. */
function outputOf(argv, limitMs) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s) => (out += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      process.stdout.write(`(${argv.slice(-1)[0].slice(0, 60)}... did not end within ${limitMs / 1000} s)\n`);
      resolve(null);
    }, limitMs);
    child.on('error', () => resolve(null));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? out : null);
    });
  });
}

const verdictFile = process.env.KCRYPTO_LAB_VERDICT_FILE;
/** Tells the lab the run's status before this process exits (it may then never see the exit). */
function writeVerdict(status) {
  if (verdictFile) writeFileSync(verdictFile, `${status}\n`);
}

function hotplugPass(file) {
  process.stdout.write('\n=== lab pass: hot unplug ===\n');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test-reporter=spec', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, KCRYPTO_LAB_HOTPLUG: '1' },
    });
    let out = '';
    let grace;
    let settled = false;
    const verdict = () => {
      // eslint-disable-next-line no-control-regex -- strips the test reporter's ANSI colour codes
      const fail = /^\S* ?fail (\d+)$/m.exec(out.replace(/\x1b\[[0-9;]*m/g, ''));
      return fail ? Number(fail[1]) : undefined;
    };
    const settle = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      clearTimeout(grace);
      const fails = verdict();
      if (why !== 'exit') process.stdout.write(`\nhot unplug: ${why}; the test process is left behind\n`);
      if (fails === undefined || fails > 0 || (why === 'exit' && child.exitCode !== 0))
        failed.push(
          `hot unplug (${fails === undefined ? 'no summary' : `${fails} failed`}, ${why === 'exit' ? `exit ${child.exitCode ?? child.signalCode}` : why})`,
        );
      resolve();
    };
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      out += chunk;
      const fails = verdict();
      if (grace === undefined && fails !== undefined) {
        // The test process's exit is what can wedge the guest: the lab has the result first.
        writeVerdict(failed.length > 0 || fails > 0 ? 1 : 0);
        grace = setTimeout(() => settle(`summary printed, no exit within ${EXIT_GRACE_MS / 1000} s`), EXIT_GRACE_MS);
      }
    });
    child.on('exit', () => settle('exit'));
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      settle(`no summary within ${HOTPLUG_LIMIT_MS / 60_000} min`);
    }, HOTPLUG_LIMIT_MS);
  });
}

// KCRYPTO_LAB_HOTPLUG=0 leaves the card in place (for runs that need it afterwards).
if (passes.has('hotplug') && files.includes(hotplug) && process.env.KCRYPTO_LAB_HOTPLUG !== '0') {
  // The card is reachable through AF_ALG only where the kernel gives user space asynchronous
  // drivers (not since 7.2): the test itself would only skip, so say why here instead.
  const probe = await outputOf(
    [
      process.execPath,
      '--input-type=module',
      '-e',
      "import { drivers } from './dist/esm/src/index.js'; const d = (await drivers()).find((x) => x.kernelDriver === 'virtio_crypto_aes_cbc'); console.log(JSON.stringify(d ?? null));",
    ],
    PROBE_LIMIT_MS,
  );
  const card = probe !== null ? JSON.parse(probe.trim().split('\n').pop() || 'null') : null;
  if (card && card.available === false && card.refusal !== undefined) notRun('hot unplug', `${card.name}: ${card.reason}`);
  else await hotplugPass(hotplug);
}

if (failed.length > 0) process.stdout.write(`\nlab passes failed: ${failed.join(', ')}\n`);
const status = failed.length > 0 ? 1 : 0;
// The verdict goes to the lab before this process tries to exit: a hot-unplug process left
// behind can keep the guest from ever seeing the exit, and the lab then ends the run on this.
writeVerdict(status);
process.stdout.write(`\n=== lab suite: status ${status}${verdictFile ? ', verdict written' : ''}; exiting ===\n`);
// exit() rather than exitCode: a hot-unplug process left behind must not hold this one.
process.exit(status);
