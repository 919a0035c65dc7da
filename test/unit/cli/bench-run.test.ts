// `kcrypto bench` on this machine: a short real run on the software driver gives the JSON
// report its documented shape with figures that agree with each other, the table and the chart
// show every subject, and the C baseline compiles and measures where a compiler is installed.
// Speed itself is never asserted: only that each point measured something.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { benchCommand, type BenchIo } from '../../../src/cli/bench-command.js';
import { baselineSubjects, compileBaseline } from '../../../src/cli/bench/native-baseline.js';
import { benchAlgorithm } from '../../../src/cli/bench/options.js';
import type { BenchReport } from '../../../src/cli/bench/run.js';
import { packageRoot } from '../../support/package-root.js';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function bench(argv: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: BenchIo = { stdout: (t) => (stdout += t), stderr: { isTTY: false, write: (t: string) => (stderr += t) } };
  const code = await benchCommand(argv, io);
  return { code, stdout, stderr };
}

const SHORT = ['--time', '5', '--driver', 'software', '--sizes', '64,1k', '--depth', '1,2', '--algorithm', 'aes-128-cbc,sha256'];

describe('kcrypto bench: a short run', () => {
  let run: Captured;
  let report: BenchReport;
  before(async () => {
    run = await bench([...SHORT, '--json', '--no-native']);
    report = JSON.parse(run.stdout) as BenchReport;
  });

  it('--json: the whole of stdout is one JSON report; stderr has no progress bar when not a TTY', () => {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trimEnd(), JSON.stringify(report, null, 2));
    assert.ok(!run.stderr.includes('\r') && !run.stderr.includes('\x1b['), JSON.stringify(run.stderr));
    assert.match(run.stderr, /C baseline skipped: left out \(--no-native\)/);
  });

  it('the report names the machine and what was asked', () => {
    for (const k of ['cpu', 'kernel', 'node', 'openssl', 'date'] as const) assert.equal(typeof report.machine[k], 'string', k);
    assert.ok(report.machine.cores >= 1);
    assert.equal(report.machine.node, process.versions.node);
    assert.deepEqual(report.algorithms, ['aes-128-cbc', 'sha256']);
    assert.deepEqual(report.sizes, [64, 1024]);
    assert.deepEqual(report.depths, [1, 2]);
    assert.equal(report.timeMs, 5);
    assert.equal(report.rounds, 3);
    assert.deepEqual(report.baseline, { reason: 'left out (--no-native)' });
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(
      report.subjects.map((s) => `${s.algorithm} ${s.name} ${s.kind} ${s.synchronous}`),
      [
        'aes-128-cbc node:crypto node true',
        'aes-128-cbc software kcrypto false',
        'sha256 node:crypto node true',
        'sha256 software kcrypto false',
      ],
    );
    assert.ok(report.subjects.filter((s) => s.kind === 'kcrypto').every((s) => s.driver === 'software'));
  });

  it('a point per size for node:crypto, per size and depth for a driver, with consistent figures', () => {
    // Per algorithm: node:crypto 2 sizes, software 2 sizes × 2 depths.
    assert.equal(report.points.length, 2 * (2 + 4));
    for (const p of report.points) {
      const where = `${p.algorithm} ${p.subject} ${p.size} × ${p.depth}`;
      assert.equal(p.error, undefined, where);
      // The median of the rounds is the point's figure.
      assert.equal(p.roundsMbPerSec.length, report.rounds, where);
      assert.equal([...p.roundsMbPerSec].sort((a, b) => a - b)[Math.floor((report.rounds - 1) / 2)], p.mbPerSec, where);
      assert.ok(p.ops > 0 && p.seconds > 0, where);
      assert.equal(p.bytes, p.ops * p.size, where);
      assert.ok(Math.abs(p.mbPerSec - p.bytes / p.seconds / 1e6) <= 1e-9 * p.mbPerSec, where);
      if (p.kind === 'node') {
        assert.equal(p.depth, 1, where);
        assert.equal(p.vsNodeCrypto, null, where);
        continue;
      }
      const node = report.points.find((q) => q.kind === 'node' && q.algorithm === p.algorithm && q.size === p.size)!;
      assert.ok(Math.abs(p.vsNodeCrypto! - p.mbPerSec / node.mbPerSec) <= 1e-9 * p.vsNodeCrypto!, where);
    }
    assert.deepEqual(
      report.points.filter((p) => p.subject === 'software' && p.algorithm === 'sha256').map((p) => `${p.size}×${p.depth}`),
      ['64×1', '64×2', '1024×1', '1024×2'],
    );
  });

  it('the table and --svg: a table per algorithm and depth with ratios, and the chart written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-bench-test-'));
    try {
      const svg = join(dir, 'chart.svg');
      const r = await bench([...SHORT, '--no-native', '--svg', svg]);
      assert.equal(r.code, 0, r.stderr);
      for (const head of ['aes-128-cbc, 1 request in flight', 'aes-128-cbc, 2 requests in flight', 'sha256, 2 requests in flight'])
        assert.ok(r.stdout.includes(`\n${head}\n`), head);
      assert.match(r.stdout, /^size\s+node:crypto\s+software$/m);
      assert.match(r.stdout, /^1 KiB\s+[\d.]+\s+[\d.]+ [\d.]+×$/m);
      assert.match(r.stdout, /C baseline: skipped, left out/);
      assert.match(r.stderr, new RegExp(`chart written to ${svg.replace(/[.]/g, '\\.')}`));
      assert.match(readFileSync(svg, 'utf8'), /^<\?xml[^]*<\/svg>\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kcrypto bench: the C baseline', () => {
  it('without a compiler: says so', async () => {
    const r = await compileBaseline(packageRoot(), 'kcrypto-test-no-such-cc');
    assert.ok('reason' in r);
    assert.match(r.reason, /no C compiler \(kcrypto-test-no-such-cc not found/);
  });

  it('compiles from the package and measures through libcrypto; AF_ALG measures or says why not', async (t) => {
    if (spawnSync('cc', ['--version']).status !== 0) return t.skip('no C compiler (cc) on this machine');
    const b = await compileBaseline(packageRoot());
    assert.ok('binary' in b, JSON.stringify(b));
    try {
      const { subjects, skipped } = await baselineSubjects(b, benchAlgorithm('sha256'));
      const names = [...subjects, ...skipped].map((s) => s.name).sort();
      assert.deepEqual(names, ['C AF_ALG', 'C libcrypto']);
      for (const s of skipped) assert.ok(s.reason.length > 0);
      for (const s of subjects) {
        const m = await s.measure(1024, 2, 5);
        assert.ok(m.ops > 0 && m.seconds > 0, s.name);
        assert.equal(m.bytes, m.ops * 1024);
      }
      if (b.libcrypto) assert.ok(subjects.some((s) => s.name === 'C libcrypto'));
      else t.diagnostic("OpenSSL's headers are not installed: the libcrypto baseline was left out");
    } finally {
      b.dispose();
    }
  });
});
