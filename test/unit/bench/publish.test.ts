// One results file, a section per benchmark: each report replaces its own section only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

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
