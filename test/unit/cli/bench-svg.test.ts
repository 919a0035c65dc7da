// The chart of `kcrypto bench --svg`: well-formed XML, a panel per algorithm and depth, a line
// per subject in each panel with every point inside the plot, and the machine in the title.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { benchCommand } from '../../../src/cli/bench-command.js';
import type { BenchPoint, BenchReport } from '../../../src/cli/bench/run.js';
import { renderSvg } from '../../../src/cli/bench/svg.js';
import { elementsNamed, parseXml } from '../../support/xml.js';

/** Checks the chart of `report`; returns the subjects drawn in each panel, keyed `algorithm depth`. */
function checkChart(report: BenchReport): Map<string, string[]> {
  const svg = renderSvg(report);
  const root = parseXml(svg);
  assert.equal(root.name, 'svg');
  assert.equal(root.attributes['xmlns'], 'http://www.w3.org/2000/svg');
  const width = Number(root.attributes['width']);
  const height = Number(root.attributes['height']);
  const texts = elementsNamed(root, 'text').map((t) => t.text);
  assert.ok(
    texts.some((t) => t.includes(report.machine.cpu) && t.includes(report.machine.kernel)),
    'title names CPU and kernel',
  );
  assert.ok(texts.includes('request size'));
  assert.ok(texts.includes('MB/s'));
  const legend = elementsNamed(root, 'g').find((g) => g.attributes['class'] === 'legend')!;
  assert.deepEqual(
    elementsNamed(legend, 'text').map((t) => t.text),
    [...new Set(report.subjects.map((s) => s.name))],
  );
  const panels = elementsNamed(root, 'g').filter((g) => g.attributes['class'] === 'panel');
  assert.equal(panels.length, report.algorithms.length * report.depths.length);
  const drawn = new Map<string, string[]>();
  for (const panel of panels) {
    const plot = elementsNamed(panel, 'rect').find((r) => r.attributes['class'] === 'plot')!;
    const [x, y, w, h] = ['x', 'y', 'width', 'height'].map((k) => Number(plot.attributes[k]));
    assert.ok(x! >= 0 && y! >= 0 && x! + w! <= width && y! + h! <= height, 'plot inside the picture');
    const lines = elementsNamed(panel, 'polyline');
    for (const line of lines) {
      const pts = line.attributes['points']!.split(' ').map((p) => p.split(',').map(Number));
      for (const [px, py] of pts) {
        assert.ok(px! >= x! - 0.05 && px! <= x! + w! + 0.05, `x ${px} in [${x}, ${x! + w!}]`);
        assert.ok(py! >= y! - 0.05 && py! <= y! + h! + 0.05, `y ${py} in [${y}, ${y! + h!}]`);
      }
      const xs = pts.map((p) => p[0]!);
      assert.deepEqual(
        xs,
        [...xs].sort((a, b) => a - b),
        'a line runs left to right',
      );
    }
    drawn.set(
      `${panel.attributes['data-algorithm']} ${panel.attributes['data-depth']}`,
      lines.map((l) => l.attributes['data-subject']!),
    );
  }
  const xmllint = spawnSync('xmllint', ['--version']);
  if (xmllint.status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-svg-'));
    try {
      writeFileSync(join(dir, 'c.svg'), svg);
      const r = spawnSync('xmllint', ['--noout', join(dir, 'c.svg')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return drawn;
}

describe('kcrypto bench --svg chart', () => {
  let report: BenchReport;
  before(async () => {
    let stdout = '';
    const io = { stdout: (t: string) => (stdout += t), stderr: { isTTY: false, write: () => true } };
    const argv = [
      '--json',
      '--no-native',
      '--time',
      '5',
      '--driver',
      'software,openssl',
      '--sizes',
      '64,16k',
      '--depth',
      '1,4',
      '--algorithm',
      'sha256',
    ];
    assert.equal(await benchCommand(argv, io), 0);
    report = JSON.parse(stdout) as BenchReport;
  });

  it('from a real run: a line per subject in every panel, points inside the plot', () => {
    const drawn = checkChart(report);
    const names = report.subjects.map((s) => s.name);
    assert.ok(names.includes('software') && names.includes('node:crypto'));
    assert.deepEqual([...drawn.keys()], ['sha256 1', 'sha256 4']);
    for (const subjects of drawn.values()) assert.deepEqual(subjects, names);
  });

  it('one size, a failed point, figures over many decades: still inside the plot', () => {
    const point = (subject: string, kind: BenchPoint['kind'], depth: number, mbPerSec: number, error?: string): BenchPoint => ({
      algorithm: 'aes-256-cbc',
      subject,
      kind,
      size: 4096,
      depth,
      ops: 1,
      bytes: 4096,
      seconds: 4096 / mbPerSec / 1e6,
      mbPerSec,
      vsNodeCrypto: null,
      roundsMbPerSec: error ? [] : [mbPerSec],
      ...(error ? { error } : {}),
    });
    const synthetic: BenchReport = {
      ...report,
      algorithms: ['aes-256-cbc'],
      sizes: [4096],
      depths: [1, 8],
      subjects: [
        { algorithm: 'aes-256-cbc', name: 'node:crypto', kind: 'node', synchronous: true },
        { algorithm: 'aes-256-cbc', name: 'a <&> driver', kind: 'kcrypto', synchronous: false },
        { algorithm: 'aes-256-cbc', name: 'C AF_ALG', kind: 'c', synchronous: false },
      ],
      points: [
        point('node:crypto', 'node', 1, 0.0123),
        point('a <&> driver', 'kcrypto', 1, 98765),
        point('a <&> driver', 'kcrypto', 8, 0, 'EIO'),
        point('C AF_ALG', 'c', 8, 3.5),
      ],
    };
    const drawn = checkChart(synthetic);
    assert.deepEqual(drawn.get('aes-256-cbc 1'), ['node:crypto', 'a <&> driver']);
    assert.deepEqual(drawn.get('aes-256-cbc 8'), ['node:crypto', 'C AF_ALG']);
  });
});
