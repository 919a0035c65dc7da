import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findModuleBlocks, readModprobeFiles } from '../../../../src/kernel/discovery/modprobe.js';

describe('findModuleBlocks', () => {
  it('reads blacklist, install, alias-off and the command line; ignores the rest', () => {
    const files = [
      {
        path: '/etc/modprobe.d/a.conf',
        text: [
          '# blacklist algif_aead  (a comment)',
          'blacklist algif-aead', // dashes and underscores are the same module
          'install algif_aead \\',
          '    /bin/true',
          'install algif_aead /sbin/modprobe --ignore-install algif_aead && echo loaded',
          'alias algif-aead off',
          'options algif_aead foo=1',
          'blacklist algif_aead_extra',
        ].join('\n'),
      },
    ];
    const blocks = findModuleBlocks('algif_aead', ['algif-aead'], files, 'quiet modprobe.blacklist=algif_aead');
    assert.deepEqual(
      blocks.map((b) => [b.kind, b.source]),
      [
        ['blacklist', '/etc/modprobe.d/a.conf:2'],
        ['install', '/etc/modprobe.d/a.conf:3'],
        ['alias-off', '/etc/modprobe.d/a.conf:6'],
        ['modprobe.blacklist', '/proc/cmdline'],
      ],
    );
    assert.equal(blocks[1]?.directive, 'install algif_aead /bin/true');
  });
});

describe('readModprobeFiles', () => {
  it('reads *.conf, lets earlier directories win by file name, skips missing ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kcrypto-modprobe-'));
    try {
      const etc = join(root, 'etc');
      const lib = join(root, 'lib');
      mkdirSync(etc);
      mkdirSync(lib);
      writeFileSync(join(etc, 'b.conf'), 'blacklist algif_aead\n');
      writeFileSync(join(lib, 'b.conf'), 'blacklist shadowed\n');
      writeFileSync(join(lib, 'a.conf'), 'blacklist algif_rng\n');
      writeFileSync(join(lib, 'README'), 'blacklist not-a-conf\n');
      const files = await readModprobeFiles([etc, join(root, 'missing'), lib]);
      assert.deepEqual(
        files.map((f) => [f.path, f.text.trim()]),
        [
          [join(lib, 'a.conf'), 'blacklist algif_rng'],
          [join(etc, 'b.conf'), 'blacklist algif_aead'],
        ],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
