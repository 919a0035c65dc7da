// How the route table costs a request of any size from the sizes it measured, and what it keeps on disk.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { costAt, RouteTable, ROUTE_SIZES } from '../../../src/framework/route-table.js';

// A driver costing 1000 ns + 2 ns per byte, measured exactly at every size.
const linear = ROUTE_SIZES.map((s) => 1000 + 2 * s);

describe('route table: cost of a request between and beyond the measured sizes', () => {
  it('is the measured figure at a measured size', () => {
    ROUTE_SIZES.forEach((s, i) => assert.equal(costAt(linear, s), linear[i]));
  });

  it('interpolates linearly between two measured sizes', () => {
    assert.equal(costAt(linear, 40_000), 1000 + 2 * 40_000);
    const steps = ROUTE_SIZES.map((_, i) => i * 100);
    const mid = (ROUTE_SIZES[1]! + ROUTE_SIZES[2]!) / 2;
    assert.equal(costAt(steps, mid), 150);
  });

  it('takes the smallest measured figure below the smallest size', () => {
    assert.equal(costAt(linear, 0), linear[0]);
    assert.equal(costAt(linear, 1), linear[0]);
  });

  it('extends the last segment past the largest size, so a low cost per byte wins large requests by more', () => {
    assert.equal(costAt(linear, 1 << 20), 1000 + 2 * (1 << 20));
    // A device: high fixed cost, low cost per byte. A CPU driver: the other way round. Equal at
    // the largest size measured; at 1 MiB the device costs half as much.
    const device = ROUTE_SIZES.map((s) => 500_000 + 5 * s);
    const cpu = ROUTE_SIZES.map((s) => 500_000 + 5 * 65536 - 10 * 65536 + 10 * s);
    assert.equal(costAt(device, 65536), costAt(cpu, 65536));
    assert.ok(costAt(device, 1 << 20) < costAt(cpu, 1 << 20) * 0.6);
  });

  it('extends a flat or falling last segment (a noisy measurement) by the slope of the whole range', () => {
    const n = ROUTE_SIZES.length;
    // The 16 KiB run was slowed down: the last segment falls.
    const noisy = [...linear];
    noisy[n - 2] = noisy[n - 1]! + 10;
    const whole = (noisy[n - 1]! - noisy[0]!) / (ROUTE_SIZES[n - 1]! - ROUTE_SIZES[0]!);
    assert.ok(Math.abs(costAt(noisy, 1 << 20) - (noisy[n - 1]! + whole * ((1 << 20) - ROUTE_SIZES[n - 1]!))) < 1e-6);
    // That slope is near the true cost per byte, so 1 MiB costs about what it really does.
    const truth = costAt(linear, 1 << 20);
    assert.ok(Math.abs(costAt(noisy, 1 << 20) - truth) < truth * 0.01, `${costAt(noisy, 1 << 20)} vs ${truth}`);
    // A cost that does not grow with size is not extended.
    const flat = ROUTE_SIZES.map(() => 5000);
    assert.equal(costAt(flat, 1 << 20), 5000);
  });
});

describe('route table on disk', () => {
  it('measures again an entry taken another way (in place, before separate outputs), and keeps its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-route-table-'));
    try {
      const file = join(dir, 'routes.json');
      const bySize = Object.fromEntries(ROUTE_SIZES.map((s) => [String(s), 1000]));
      const key = `${release()}|old|11/128`;
      writeFileSync(file, JSON.stringify({ [key]: { time: bySize, cpu: bySize, measuredAt: Date.now() } }));
      assert.equal(new RouteTable(file).get('old', '11/128'), undefined, 'an entry without the current method is not used');
      const t = new RouteTable(file);
      t.set('new', '11/128', { time: ROUTE_SIZES.map(() => 5), cpu: ROUTE_SIZES.map(() => 7) });
      assert.deepEqual(new RouteTable(file).get('new', '11/128'), { time: ROUTE_SIZES.map(() => 5), cpu: ROUTE_SIZES.map(() => 7) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
