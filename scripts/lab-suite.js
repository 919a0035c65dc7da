// The lab suite as it runs inside a lab guest: the whole suite once (every driver the kernel
// offers, and those behind /dev/crypto when a cryptodev module was given to the lab), then the
// per-driver conformance files once per /dev/crypto ABI against the CUSE fixture serving that
// ABI, and last the hot-unplug test, which removes a virtio-crypto card for the rest of the
// guest's life. Exits non-zero when any pass failed.
//
//     node scripts/lab-suite.js [FILTER]     (FILTER: only test files whose name contains it)
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';

const dir = 'dist/esm/test/lab';
const filter = process.argv[2] ?? '';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js') && f.includes(filter))
  .map((f) => `${dir}/${f}`);
// The files whose tests run per driver (the conformance suite).
const perDriver = ['wycheproof', 'differential', 'errors', 'parallel', 'streaming'].map((n) => `${dir}/${n}.test.js`).filter((f) => files.includes(f));
const nodeTest = [process.execPath, '--test', '--test-reporter=spec'];

let failed = [];
function pass(name, argv) {
  process.stdout.write(`\n=== lab pass: ${name} ===\n`);
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
  if (r.status !== 0) failed.push(`${name} (exit ${r.status ?? r.signal})`);
}

const hotplug = `${dir}/hot-unplug.test.js`;
const main = files.filter((f) => f !== hotplug);
if (main.length > 0) pass('every driver', [...nodeTest, ...main]);
if (perDriver.length > 0) {
  // KCRYPTO_LAB_ABIS narrows the fixture passes, one per ABI; by default all three (the
  // sanitizer stage of scripts/test.js runs the cryptodev-linux one only, to fit CI's time).
  const abis = (process.env.KCRYPTO_LAB_ABIS ?? 'linux,freebsd,netbsd').split(',').filter((a) => a !== '');
  for (const abi of abis) {
    pass(`/dev/crypto fixture, ${abi} ABI`, [process.execPath, 'dist/esm/test/support/with-devcrypto-fixture.js', abi, '--', ...nodeTest, ...perDriver]);
  }
}

// Threads of the hot-unplug test can stay in the kernel for good (a request in flight on the
// removed card), and then its process never finishes exiting. So the file runs in this
// process's child directly (not under `--test`, whose runner prints its summary only once the
// file's process has exited), its verdict is read from the summary as soon as it prints one,
// the process gets a grace period to exit, and this script exits regardless -- which lets the
// lab power the guest off.
const HOTPLUG_LIMIT_MS = 5 * 60_000;
const EXIT_GRACE_MS = 20_000;

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
      if (fails === undefined || fails > 0 || (why === 'exit' && child.exitCode !== 0)) failed.push(`hot unplug (${fails === undefined ? 'no summary' : `${fails} failed`}, ${why === 'exit' ? `exit ${child.exitCode ?? child.signalCode}` : why})`);
      resolve();
    };
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      out += chunk;
      if (grace === undefined && verdict() !== undefined) grace = setTimeout(() => settle('summary printed, no exit within 20 s'), EXIT_GRACE_MS);
    });
    child.on('exit', () => settle('exit'));
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      settle(`no summary within ${HOTPLUG_LIMIT_MS / 60_000} min`);
    }, HOTPLUG_LIMIT_MS);
  });
}

// KCRYPTO_LAB_HOTPLUG=0 leaves the card in place (for runs that need it afterwards).
if (files.includes(hotplug) && process.env.KCRYPTO_LAB_HOTPLUG !== '0') await hotplugPass(hotplug);

if (failed.length > 0) process.stdout.write(`\nlab passes failed: ${failed.join(', ')}\n`);
const status = failed.length > 0 ? 1 : 0;
// The verdict goes to the lab before this process tries to exit: a hot-unplug process left
// behind can keep the guest from ever seeing the exit, and the lab then ends the run on this.
const verdictFile = process.env.KCRYPTO_LAB_VERDICT_FILE;
if (verdictFile) writeFileSync(verdictFile, `${status}\n`);
// exit() rather than exitCode: a hot-unplug process left behind must not hold this one.
process.exit(status);
