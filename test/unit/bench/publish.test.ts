// One results file, a section per benchmark: each report replaces its own section only.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { Options } from '../../../bench/args.js';
import { writeOut } from '../../../bench/modes.js';
import { withSection } from '../../../bench/publish.js';

describe('withSection', () => {
  it('starts a file with its title and the section, headings one level down', () => {
    const text = withSection('', 'host', '# On the host\n\n## Goals\n\n| a |\n');
    assert.match(text, /^# kcrypto benchmark results\n/);
    assert.match(text, /<!-- section: host -->\n\n## On the host\n\n### Goals\n\n\| a \|\n\n<!-- end of section: host -->\n$/);
  });

  it('replaces its own section and leaves the others as they were', () => {
    const both = withSection(withSection('', 'lab', '# Lab\n\nold lab\n'), 'host', '# Host\n\nold host\n');
    const text = withSection(both, 'host', '# Host\n\nnew host\n');
    assert.ok(text.includes('old lab'), 'the lab section stays');
    assert.ok(text.includes('new host') && !text.includes('old host'), 'the host section is replaced');
    assert.equal(text.match(/<!-- section: host -->/g)?.length, 1);
    assert.ok(text.indexOf('section: lab') < text.indexOf('section: host'), 'sections keep their order');
  });
});

describe('the lab run from the host (modes.ts writeOut)', () => {
  it("writes the guest's report into the lab section of the --out file, leaving the host section", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-publish-'));
    try {
      const out = join(dir, 'RESULTS.md');
      writeFileSync(out, withSection('', 'host', '# host report\n\nhost figures\n'));
      writeOut({ out } as Options, [Buffer.from('# kcrypto in the lab\n\nlab '), Buffer.from('figures\n')]);
      const text = readFileSync(out, 'utf8');
      assert.match(text, /<!-- section: lab -->\n\n## kcrypto in the lab\n\nlab figures\n/);
      assert.match(text, /<!-- section: host -->\n\n## host report\n\nhost figures\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
