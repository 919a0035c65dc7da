// `kcrypto conformance`: its options, what it prints where, and its exit status, with a check
// made for the test run on the software driver.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { drivers } from '../../../src/api/drivers.js';
import {
  conformanceCommand,
  ConformanceUsageError,
  parseConformanceArgs,
  type ConformanceIo,
} from '../../../src/cli/conformance-command.js';
import { parseReport } from '../../../src/conformance/report-json.js';
import { testCheck } from '../../support/conformance-report.js';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  files: Map<string, string>;
}

async function run(argv: string[], options: { tty?: boolean; fail?: boolean } = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const files = new Map<string, string>();
  const io: ConformanceIo = {
    stdout: (t) => void (stdout += t),
    stderr: { write: (t: string) => (stderr += t), isTTY: options.tty === true, columns: 100 },
    writeFile: (path, text) => void files.set(path, text),
  };
  const code = await conformanceCommand(argv, io, { checkList: [testCheck('probe', options.fail), testCheck('other')] });
  return { code, stdout, stderr, files };
}

const ON_SOFTWARE = ['--driver', 'software', '--algorithm', 'cbc(aes),sha256'];

describe('kcrypto conformance: arguments', () => {
  it('repeated options and comma lists add up; --opt=value works too', () => {
    const a = parseConformanceArgs([
      '--driver',
      'a,b',
      '--driver=c',
      '--algorithm',
      'cbc(aes)',
      '--check',
      'x',
      '--check',
      'y,z',
      '--load',
      'm1,m2',
    ]);
    assert.deepEqual(a.drivers, ['a', 'b', 'c']);
    assert.deepEqual(a.algorithms, ['cbc(aes)']);
    assert.deepEqual(a.checks, ['x', 'y', 'z']);
    assert.deepEqual(a.load, ['m1', 'm2']);
    assert.equal(a.depth, 'quick');
    assert.equal(a.json, undefined);
  });

  it('--json takes an optional file; --junit a file; --full the depth', () => {
    assert.equal(parseConformanceArgs(['--json']).json, true);
    assert.equal(parseConformanceArgs(['--json', '-']).json, true);
    assert.equal(parseConformanceArgs(['--json', 'out.json']).json, 'out.json');
    assert.equal(parseConformanceArgs(['--json=out.json']).json, 'out.json');
    const a = parseConformanceArgs(['--json', '--driver', 'software', '--junit', 'r.xml', '--full']);
    assert.equal(a.json, true);
    assert.deepEqual(a.drivers, ['software']);
    assert.equal(a.junit, 'r.xml');
    assert.equal(a.depth, 'full');
  });

  it('refuses what it does not know', () => {
    for (const argv of [
      ['--nope'],
      ['stray'],
      ['--driver'],
      ['--driver', '--full'],
      ['--junit'],
      ['--quick', '--full'],
      ['--full=1'],
      ['--check', ','],
    ])
      assert.throws(() => parseConformanceArgs(argv), ConformanceUsageError, argv.join(' '));
  });
});

describe('kcrypto conformance: exit status and output', () => {
  it('0 when every check passes: the kernel line, then the table', async () => {
    const r = await run(ON_SOFTWARE);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^kernel .+: AF_ALG: .+; \/dev\/crypto: .+$/);
    assert.match(r.stdout, /^software$/m);
    assert.match(r.stdout, /^ {2}cbc\(aes\) +pass +pass$/m);
    assert.match(r.stdout, /^ {2}sha256 +n\/a +n\/a$/m);
    assert.match(r.stdout, /^1 driver, 2 algorithms: 2 pass, 0 fail, 2 n\/a in \d+\.\d s$/m);
    assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
  });

  it('1 when a check fails, the failure and its reproducer in the table', async () => {
    const r = await run([...ON_SOFTWARE, '--check', 'probe'], { fail: true });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^ {2}FAIL cbc\(aes\) probe: 1 failure\(s\): deliberate$/m);
    assert.match(r.stdout, /^ {6}got=02$/m);
  });

  it('2 for an unknown option, check, algorithm or driver, saying what is known', async () => {
    let r = await run(['--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --bogus/);
    r = await run(['--check', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown check nope; known: probe, other/);
    r = await run(['--algorithm', 'rot13']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown algorithm rot13; known: .*cbc\(aes\)/);
    r = await run(['--driver', 'no-such-driver', '--algorithm', 'cbc(aes)']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no driver no-such-driver serves cbc\(aes\); usable drivers here: .*software/);
    assert.equal(r.files.size, 0);
  });

  it('--json alone: the report on stdout and nothing else there', async () => {
    const r = await run([...ON_SOFTWARE, '--json']);
    assert.equal(r.code, 0);
    const report = parseReport(r.stdout);
    assert.deepEqual(report.totals, { pass: 2, fail: 0, 'n/a': 2 });
    assert.equal(report.drivers[0]!.driver, 'software');
    assert.match(r.stderr, /^kernel /);
  });

  it('--json FILE and --junit FILE write the files, the table still prints', async () => {
    const r = await run([...ON_SOFTWARE, '--json', 'r.json', '--junit', 'r.xml', '--check', 'probe']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^1 driver, /m);
    assert.equal(parseReport(r.files.get('r.json')!).drivers.length, 1);
    assert.match(r.files.get('r.xml')!, /<testcase classname="software" name="cbc\(aes\) probe" time="[\d.]+"\/>/);
  });

  it('a progress line on stderr when it is a terminal, cleared at the end', async () => {
    const r = await run([...ON_SOFTWARE, '--check', 'probe'], { tty: true });
    assert.equal(r.code, 0);
    assert.ok(r.stderr.includes('\r\x1b[Ksoftware cbc(aes) probe 1/1'), JSON.stringify(r.stderr));
    assert.ok(r.stderr.endsWith('\r\x1b[K'));
  });

  it('without --driver on a machine whose kernel offers no driver: says so, tests nothing, 0', async (t) => {
    const kernel = (await drivers()).filter((d) => d.available && (d.interface === 'afalg' || d.interface === 'devcrypto'));
    if (kernel.length > 0) return t.skip('this machine has kernel drivers');
    const r = await run([]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^no kernel driver to check here; name one with --driver \(e\.g\. --driver software\)$/m);
    assert.doesNotMatch(r.stdout, /drivers?, \d+ algorithms?:/);
  });

  describe('--load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-conformance-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('imports the module before the run', async () => {
      const module = join(dir, 'register.mjs');
      writeFileSync(module, 'globalThis.__kcryptoConformanceLoaded = (globalThis.__kcryptoConformanceLoaded ?? 0) + 1;\n');
      const r = await run([...ON_SOFTWARE, '--load', module]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((globalThis as { __kcryptoConformanceLoaded?: number }).__kcryptoConformanceLoaded, 1);
    });

    it('a driver the module registers in the framework is then named with --driver', async () => {
      const module = join(dir, 'driver.mjs');
      const url = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);
      writeFileSync(
        module,
        `import { framework } from ${url('../../../src/api/framework-instance.js')};\n` +
          `import { registerCryptosoft } from ${url('../../../src/drivers/software/cryptosoft.js')};\n` +
          `registerCryptosoft(framework, 'loaded-soft0');\n`,
      );
      const r = await run(['--load', module, '--driver', 'loaded-soft0', '--algorithm', 'cbc(aes)', '--check', 'probe']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /^loaded-soft0$/m);
      assert.match(r.stdout, /^ {2}cbc\(aes\) +pass$/m);
    });

    it('2 when the module cannot be loaded', async () => {
      const r = await run([...ON_SOFTWARE, '--load', join(dir, 'missing.mjs')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cannot load .*missing\.mjs/);
    });
  });
});
