// The benchmark's harness without a kernel: which /dev/crypto drivers it measures and how it
// labels them, the report's /dev/crypto rows (ratios, in-flight rows, reasons, the fixture
// warning), and the /dev/crypto C baseline (it builds warnings-free, its restated ABI matches
// the addon's, and it fails with a reason where there is no device).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { devCryptoDriversFor, devCryptoMark, devCryptoSetup, devCryptoSummary, isCuseDevice } from '../../../bench/devcrypto.js';
import { buildBaseline, runDevCryptoBaseline, type Sample } from '../../../bench/measure.js';
import { renderReport, type Cell, type Results, type Row } from '../../../bench/report.js';
import type { DriverInfo } from '../../../src/api/drivers.js';
import { loadAddon } from '../../../src/kernel/bridge/addon.js';
import { packageRoot } from '../../support/package-root.js';

function driver(name: string, algorithms: string[], extra: Partial<DriverInfo> = {}): DriverInfo {
  const kernelDriver = name.split(':').slice(2).join(':');
  return {
    id: 0,
    name,
    interface: 'devcrypto',
    ...(kernelDriver ? { kernelDriver } : {}),
    kind: 'software',
    algorithms,
    available: true,
    ...extra,
  };
}

const LISTING: DriverInfo[] = [
  { id: 0, name: 'software', interface: 'software', kind: 'software', algorithms: ['aes-128-cbc'], available: true },
  {
    id: 1,
    name: 'afalg:cbc-aes-aesni',
    interface: 'afalg',
    kernelDriver: 'cbc-aes-aesni',
    kind: 'accelerated',
    algorithms: ['cbc(aes)'],
    available: true,
  },
  driver('devcrypto:cryptodev-linux:cbc-aes-aesni', ['cbc(aes)']),
  driver('devcrypto:cryptodev-linux:generic-gcm-aesni-avx', ['gcm(aes)']),
  driver('devcrypto:cryptodev-linux:sha256-avx2', ['sha256']),
  driver('devcrypto:cryptodev-linux:ctr-aes-aesni', ['ctr(aes)']),
];

const TARGET = { path: '/dev/crypto', abi: 'cryptodev-linux' as const };

describe('bench: /dev/crypto drivers', () => {
  it('measures the devcrypto drivers of the listing, per algorithm', () => {
    const s = devCryptoSetup(LISTING, TARGET, { fixture: false, queued: () => false });
    assert.equal(s.reason, undefined);
    assert.deepEqual(
      s.drivers.map((d) => d.name),
      [
        'devcrypto:cryptodev-linux:cbc-aes-aesni',
        'devcrypto:cryptodev-linux:generic-gcm-aesni-avx',
        'devcrypto:cryptodev-linux:sha256-avx2',
        'devcrypto:cryptodev-linux:ctr-aes-aesni',
      ],
    );
    assert.deepEqual(
      devCryptoDriversFor(s, 'cbc(aes)').map((d) => d.kernelDriver),
      ['cbc-aes-aesni'],
    );
    assert.deepEqual(devCryptoDriversFor(s, 'sha512'), []);
  });

  it('says why the queue rows are missing on a module without a queue, and names the queue where there is one', () => {
    const none = devCryptoSetup(LISTING, TARGET, { fixture: false, queued: () => false });
    assert.ok('reason' in none.queue && none.queue.reason.includes('ENABLE_ASYNC'), JSON.stringify(none.queue));
    const linux = devCryptoSetup(LISTING, TARGET, { fixture: false, queued: () => true });
    assert.deepEqual(linux.queue, { mechanism: 'CIOCASYNCCRYPT + poll + CIOCASYNCFETCH' });
    const netbsd = devCryptoSetup(
      [driver('devcrypto:netbsd', ['cbc(aes)'])],
      { path: '/dev/crypto', abi: 'netbsd' },
      { fixture: false, queued: () => true },
    );
    assert.deepEqual(netbsd.queue, { mechanism: 'CIOCNCRYPTM + poll + CIOCNCRYPTRETM' });
    assert.equal(netbsd.drivers[0]?.kernelDriver, '', 'NetBSD names no kernel driver');
    const freebsd = devCryptoSetup(
      [driver('devcrypto:freebsd:afalg0', ['cbc(aes)'])],
      { path: '/dev/crypto', abi: 'freebsd' },
      { fixture: false, queued: () => false },
    );
    assert.ok('reason' in freebsd.queue && freebsd.queue.reason.includes('FreeBSD'));
    const gone = devCryptoSetup(LISTING, TARGET, { fixture: false, queued: () => null });
    assert.ok('reason' in gone.queue);
  });

  it("carries kcrypto's reason when the device is unusable", () => {
    const listing: DriverInfo[] = [
      {
        id: 0,
        name: 'devcrypto',
        interface: 'devcrypto',
        kind: 'hardware',
        algorithms: [],
        available: false,
        reason: '/dev/crypto not present (the module is not loaded)',
      },
    ];
    const s = devCryptoSetup(listing, TARGET, { fixture: false, queued: () => assert.fail('no probe without drivers') });
    assert.equal(s.reason, '/dev/crypto not present (the module is not loaded)');
    assert.deepEqual(s.drivers, []);
    assert.match(devCryptoSummary(s), /unavailable: \/dev\/crypto not present/);
    assert.match(devCryptoSummary(devCryptoSetup([], null)), /^unavailable: no \/dev\/crypto ABI/);
  });

  it('marks the CUSE fixture in every label and in the summary', () => {
    const s = devCryptoSetup(
      LISTING,
      { path: '/dev/kcrypto-fixture-linux', abi: 'cryptodev-linux' },
      { fixture: true, queued: () => true },
    );
    assert.equal(devCryptoMark(s), ' [CUSE fixture]');
    assert.match(devCryptoSummary(s), /CUSE.*not a \/dev\/crypto module or a device/);
    assert.equal(devCryptoMark(devCryptoSetup(LISTING, TARGET, { fixture: false, queued: () => true })), '');
  });

  it('does not take an ordinary device node for CUSE', () => {
    assert.equal(isCuseDevice('/dev/null'), false);
    assert.equal(isCuseDevice('/nonexistent/crypto'), false);
  });
});

function sample(ops: number, size: number): Sample {
  return { ops, bytes: ops * size, seconds: 1 };
}

function row(path: Row['path'], group: string, label: string, cells: [number, Cell][]): Row {
  return { path, group, label, cells: new Map(cells) };
}

function results(fixture: boolean): Results {
  const mark = fixture ? ' [CUSE fixture]' : '';
  const dev = 'devcrypto:cryptodev-linux:cbc-aes-aesni';
  return {
    date: '2026-01-01T00:00:00.000Z',
    kernel: 'test',
    cpu: 'test CPU',
    cpus: 2,
    node: process.version,
    kcrypto: '0.0.0',
    seconds: 1,
    quick: false,
    harnessTest: false,
    afalg: 'available',
    baseline: 'afalg-baseline',
    sizes: [64, 65536],
    groups: [
      { key: 'cbc-aesni', title: 'AES-128-CBC', requested: 'cbc-aes-aesni', driver: 'cbc-aes-aesni' },
      {
        key: `aes-128-cbc@${dev}`,
        title: 'AES-128-CBC',
        requested: dev,
        driver: dev,
        interface: 'devcrypto',
        ...(fixture ? { mark } : {}),
      },
    ],
    rows: [
      row('kcrypto', 'cbc-aesni', 'kcrypto afalg:cbc-aes-aesni AES-128-CBC', [
        [64, { sample: sample(100, 64) }],
        [65536, { sample: sample(10, 65536) }],
      ]),
      row('c', 'cbc-aesni', 'C AF_ALG cbc-aes-aesni AES-128-CBC', [
        [64, { sample: sample(1000, 64) }],
        [65536, { sample: sample(20, 65536) }],
      ]),
      row('kcrypto', `aes-128-cbc@${dev}`, `kcrypto ${dev} AES-128-CBC${mark}`, [
        [64, { sample: sample(50, 64) }],
        [65536, { sample: sample(5, 65536) }],
      ]),
      row('c', `aes-128-cbc@${dev}`, `C /dev/crypto cbc-aes-aesni AES-128-CBC${mark}`, [
        [64, { sample: sample(200, 64) }],
        [65536, { reason: 'CIOCCRYPT: Bad address' }],
      ]),
      row('node', 'aes-128-cbc', 'node:crypto aes-128-cbc', [
        [64, { sample: sample(500, 64) }],
        [65536, { sample: sample(30, 65536) }],
      ]),
    ],
    inFlight: [],
    smallInFlight: [],
    loop: [],
    openClose: [
      {
        label: 'kcrypto afalg:virtio_crypto_aes_cbc',
        rounds: 16,
        openMs: 3.2,
        closeMs: 1.5,
        delay: { p50: 0.1, p99: 2.5, max: 4, samples: 90 },
      },
      { label: "kcrypto {driver: 'nothing'}", rounds: 16, reason: 'no driver' },
    ],
    policy: [],
    costs: [],
    notes: [],
    devcrypto: {
      summary: fixture
        ? '/dev/kcrypto-fixture-linux (cryptodev-linux ABI), served by a CUSE server'
        : '/dev/crypto (cryptodev-linux ABI); 1 driver; no request queue',
      fixture,
      baseline: 'bench/devcrypto-baseline.c',
      inFlight: [
        {
          label: `kcrypto ${dev} encrypt()${mark}`,
          inFlight: 4,
          size: 65536,
          cell: { sample: sample(40, 65536), exec: { inline: 0, threaded: 40, wakeups: 40, deliveries: 30 } },
        },
        {
          label: `kcrypto engine devCryptoRunBatch() on ${dev}${mark}`,
          inFlight: 4,
          size: 65536,
          cell: { reason: '/dev/crypto has no request queue (ENABLE_ASYNC)' },
        },
        {
          label: `C /dev/crypto cbc-aes-aesni, CIOCASYNCCRYPT queue${mark}`,
          inFlight: 4,
          size: 65536,
          cell: { reason: 'CIOCASYNCCRYPT: Invalid argument' },
        },
      ],
    },
  };
}

describe('bench: report with /dev/crypto rows', () => {
  it('extends the kcrypto/C table and leaves a missing point as "–"', () => {
    const md = renderReport(results(false));
    const ratios = md.slice(md.indexOf('## kcrypto / C'), md.indexOf('kcrypto execution per point'));
    assert.match(ratios, /\| AES-128-CBC, cbc-aes-aesni \| 10% \| 50% \|/);
    assert.match(ratios, /\| AES-128-CBC, devcrypto:cryptodev-linux:cbc-aes-aesni \| 25% \| – \|/);
    assert.match(md, /\| C \/dev\/crypto cbc-aes-aesni AES-128-CBC \| 0\.01 \| unavailable: CIOCCRYPT: Bad address \|/);
    assert.match(md, /- \/dev\/crypto: \/dev\/crypto \(cryptodev-linux ABI\); 1 driver; no request queue/);
    assert.ok(!md.includes('[CUSE fixture]'));
  });

  it('reports the in-flight rows, unavailable ones with their reason', () => {
    const md = renderReport(results(false));
    const part = md.slice(md.indexOf('### /dev/crypto'), md.indexOf('## Event-loop'));
    assert.match(part, /\| kcrypto devcrypto:cryptodev-linux:cbc-aes-aesni encrypt\(\) \| 4 \| 64 KiB \| 40\.0 \| 2\.62 \|/);
    assert.match(
      part,
      /\| kcrypto engine devCryptoRunBatch\(\) on devcrypto:cryptodev-linux:cbc-aes-aesni \| 4 \| 64 KiB \| unavailable: \/dev\/crypto has no request queue \(ENABLE_ASYNC\) \|/,
    );
    assert.match(
      part,
      /\| C \/dev\/crypto cbc-aes-aesni, CIOCASYNCCRYPT queue \| 4 \| 64 KiB \| unavailable: CIOCASYNCCRYPT: Invalid argument \|/,
    );
    assert.match(part, /Serial C for reference: devcrypto:cryptodev-linux:cbc-aes-aesni at 64 KiB not measured\./);
  });

  it('reports sessions opened and closed with their medians and the loop meanwhile, or why not', () => {
    const md = renderReport(results(false));
    assert.match(md, /\| kcrypto afalg:virtio_crypto_aes_cbc \| 16 \| 3\.2 \| 1\.5 \| 2\.50 \| 4\.00 \|/);
    assert.match(md, /\| kcrypto \{driver: 'nothing'\} \| unavailable: no driver \|/);
  });

  it('sets no goals on /dev/crypto rows', () => {
    const md = renderReport(results(false));
    const goals = md.slice(md.indexOf('## Goals'));
    assert.ok(goals.includes('cbc-aes-aesni'));
    assert.ok(!goals.includes('devcrypto'), goals);
  });

  it('marks fixture rows and says their figures are not hardware speed', () => {
    const md = renderReport(results(true));
    assert.match(md, /> \*\*\[CUSE fixture\]\*\*: .*not the speed of a \/dev\/crypto module or of any hardware/);
    assert.match(md, /\| AES-128-CBC, devcrypto:cryptodev-linux:cbc-aes-aesni \[CUSE fixture\] \| 25% \|/);
    assert.match(md, /### \/dev\/crypto, AES-128-CBC at 64 KiB \[CUSE fixture\]/);
  });

  it('sets kcrypto against C with as many threads as requests in flight', () => {
    const r = results(false);
    r.inFlight = [
      { label: 'kcrypto afalg:virtio_crypto_aes_cbc', inFlight: 16, size: 65536, cell: { sample: sample(300, 65536) } },
      { label: 'C AF_ALG virtio_crypto_aes_cbc, 16 threads', inFlight: 16, size: 65536, cell: { sample: sample(1200, 65536) } },
      { label: 'kcrypto afalg:cbc-aes-aesni', inFlight: 16, size: 65536, cell: { sample: sample(500, 65536) } },
      { label: 'C AF_ALG cbc-aes-aesni, 16 threads', inFlight: 16, size: 65536, cell: { reason: 'bind: No such file or directory' } },
    ];
    const md = renderReport(r);
    assert.match(md, /\| C AF_ALG virtio_crypto_aes_cbc, 16 threads \| 16 \| 64 KiB \| 1,200 \|/);
    assert.match(md, /kcrypto \/ C with as many C threads as requests in flight, 64 KiB: virtio_crypto_aes_cbc 16 in flight 25%\./);
    assert.doesNotMatch(md, /cbc-aes-aesni 16 in flight \d/, 'no ratio where C has no figure');
  });

  it('reports each routing mix with its route table, and whether routing beat every single driver', () => {
    const r = results(false);
    const rows = (routed: number, rounds = [routed - 1, routed, routed + 1]) => [
      { label: 'CPU driver alone', driver: 'afalg:cbc-aes-aesni', mbps: 40, rounds: [39, 40, 41] },
      { label: 'device alone', driver: 'afalg:virtio_crypto_aes_cbc', mbps: 50, rounds: [55, 50, 45] },
      { label: 'software driver alone', driver: 'software', mbps: 20, rounds: [20, 20, 20] },
      {
        label: 'routed (fastest)',
        driver: 'fastest',
        mbps: routed,
        rounds,
        sent: { 'afalg:cbc-aes-aesni': 30, 'afalg:virtio_crypto_aes_cbc': 10 },
      },
    ];
    const routes = [
      { size: 65536, driver: 'afalg:cbc-aes-aesni', timeUs: 1000, cpuUs: 1500, measured: true },
      { size: 1 << 20, driver: 'afalg:virtio_crypto_aes_cbc', timeUs: 9000, cpuUs: 9000, measured: false },
    ];
    r.routing = [
      { small: 64, large: 65536, smallPerLarge: 3, inFlight: 16, rows: rows(45), routes: routes.slice(0, 1), depth: 8, rounds: 3 },
      { small: 64, large: 1 << 20, smallPerLarge: 15, inFlight: 16, rows: rows(60), routes, depth: 8, rounds: 3 },
      // Its median above every other's, but below the device in two of three rounds.
      { small: 64, large: 16384, smallPerLarge: 3, inFlight: 16, rows: rows(51, [51, 49, 56]), routes, depth: 8, rounds: 3 },
    ];
    const md = renderReport(r);
    assert.match(md, /## Measured routing: AES-128-CBC, 64 B and 64 KiB mixed 3:1, 16 in flight/);
    assert.match(md, /## Measured routing: AES-128-CBC, 64 B and 1 MiB mixed 15:1, 16 in flight/);
    assert.match(md, /\| 1 MiB \(from the measured sizes\) \| afalg:virtio_crypto_aes_cbc \|/);
    assert.match(
      md,
      /routed session above every single driver, AES-128-CBC 64 B \/ 64 KiB .*\| \*\*not met\*\* \| routed 45.0 MB\/s, best single driver afalg:virtio_crypto_aes_cbc 50.0 MB\/s \(90%\)/,
    );
    assert.match(
      md,
      /routed session above every single driver, AES-128-CBC 64 B \/ 1 MiB .*\| met \| routed 60.0 MB\/s.*; above every single driver in 3 of 3 rounds/,
    );
    assert.match(
      md,
      /routed session above every single driver, AES-128-CBC 64 B \/ 16 KiB .*\| \*\*not met\*\* \| routed 51.0 MB\/s, .* \(102%\); above every single driver in 1 of 3 rounds/,
    );
    assert.match(md, /Round by round .*: above every single path in 3 of 3\./);
    assert.match(md, /Round by round .*: above every single path in 1 of 3\./);
  });

  it('says why there are no in-flight rows', () => {
    const r = results(false);
    r.devcrypto = {
      summary: 'unavailable: /dev/crypto not present',
      fixture: false,
      baseline: 'unavailable: /dev/crypto not present',
      inFlight: [],
      inFlightReason: '/dev/crypto not present',
    };
    assert.match(renderReport(r), /Not measured: \/dev\/crypto not present\./);
  });
});

function ccMissing(): string | undefined {
  try {
    execFileSync(process.env['CC'] || 'cc', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'no C compiler';
  }
}

describe('bench: /dev/crypto C baseline', { skip: ccMissing() }, () => {
  const built = buildBaseline(packageRoot(), 'devcrypto-baseline');

  it('builds with -Wall -Wextra -Werror', () => {
    assert.ok('binary' in built, 'reason' in built ? built.reason : '');
  });

  it('restates the cryptodev-linux ABI as the addon compiles it', (t) => {
    const table = loadAddon().addon?.devCryptoAbiTable?.('cryptodev-linux');
    if (!table) return t.skip('the addon has no cryptodev-linux table');
    assert.ok('binary' in built);
    const mine = JSON.parse(execFileSync(built.binary, ['--abi-table'], { encoding: 'utf8' })) as Record<
      'sizes' | 'requests' | 'constants' | 'algorithms',
      Record<string, number>
    >;
    for (const part of ['sizes', 'requests', 'constants', 'algorithms'] as const) {
      for (const [name, value] of Object.entries(mine[part])) assert.equal(value, table[part][name], `${part}.${name}`);
    }
  });

  it('fails with a reason where there is no device, and refuses a bad command line', () => {
    assert.ok('binary' in built);
    assert.throws(
      () => runDevCryptoBaseline(built.binary, '/nonexistent/crypto', 'aes-cbc', 16, 64, 0.01),
      /open\(\/nonexistent\/crypto\): No such file or directory/,
    );
    assert.equal(spawnSync(built.binary, ['/dev/crypto', 'aes-gcm', '32', '64', '1', '4']).status, 2, 'no queue for AEAD');
    assert.equal(spawnSync(built.binary, ['/dev/crypto', 'sha256', '16', '64', '1']).status, 2, 'no key for a hash');
  });
});
