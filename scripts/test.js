// The test command (`npm test`): unit tests on this host, then the lab suite inside a real
// kernel (every installed Debian kernel; scripts/lab-suite.js: every driver, then the
// conformance suite against the /dev/crypto fixture for each ABI), then both again with the
// sanitizer build of the addon. Prints one closing line with the totals.
//
// Environment:
//   KCRYPTO_TEST_STAGES  comma list of stages to run (unit,lab,sanitize); default all
//   KCRYPTO_LAB_KERNEL   run the lab stages on this kernel only (default: all installed)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const stages = (process.env.KCRYPTO_TEST_STAGES ?? 'unit,lab,sanitize').split(',').map((s) => s.trim());
const kernelArgs = process.env.KCRYPTO_LAB_KERNEL ? ['--kernel', process.env.KCRYPTO_LAB_KERNEL] : ['--all-kernels'];
const nodeTest = ['--test', '--test-reporter=spec'];
const lab = (env) => ['dist/esm/src/cli/main.js', 'lab', '--timeout', '2700', ...kernelArgs, '--', 'env', 'KCRYPTO_LAB=1', ...env, process.execPath, 'scripts/lab-suite.js'];

function sanitizerEnv() {
  // The addon is built with -fsanitize=address,undefined; node itself is not, so the ASan
  // runtime has to be preloaded. Leak checking is off: node keeps allocations alive at exit.
  const lib = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  return ['KCRYPTO_ADDON=' + new URL('../build-asan/Release/kcrypto.node', import.meta.url).pathname, `LD_PRELOAD=${lib}`, 'ASAN_OPTIONS=detect_leaks=0:abort_on_error=1', 'UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1'];
}

const totals = { pass: 0, fail: 0, skipped: 0 };
let failedStages = [];

function run(name, cmd, args, env = {}) {
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${name} ===\n`);
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-1 << 20);
    });
    child.on('close', (code, signal) => {
      // node:test's spec reporter ends with "ℹ pass N", "ℹ fail N", "ℹ skipped N" per run.
      for (const m of tail.matchAll(/^ℹ (pass|fail|skipped) (\d+)$/gm)) totals[m[1]] += Number(m[2]);
      if (code !== 0) failedStages.push(`${name} (exit ${code ?? signal})`);
      resolve();
    });
  });
}

if (!existsSync('dist/esm/src/index.js') || !existsSync('build/Release/kcrypto.node')) {
  console.error('kcrypto: not built; run `npm install` (or `npm run build`) first');
  process.exit(2);
}

if (stages.includes('unit')) await run('unit tests (host)', process.execPath, [...nodeTest, 'dist/esm/test/unit/']);
if (stages.includes('lab')) await run('lab suite (guest kernels)', process.execPath, lab([]));
if (stages.includes('sanitize')) {
  const b = spawnSync('npm', ['run', '--silent', 'build:asan'], { stdio: 'inherit' });
  if (b.status !== 0) failedStages.push('sanitizer build');
  else {
    const env = sanitizerEnv();
    await run('unit tests (host, ASan+UBSan addon)', 'env', [...env, process.execPath, ...nodeTest, 'dist/esm/test/unit/']);
    await run('lab suite (guest kernels, ASan+UBSan addon)', process.execPath, lab([...env, 'KCRYPTO_LAB_ABIS=linux']));
  }
}

console.log('');
if (failedStages.length > 0) console.log(`failed stages: ${failedStages.join(', ')}`);
console.log(`${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exitCode = failedStages.length > 0 || totals.fail > 0 ? 1 : 0;
