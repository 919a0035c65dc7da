// How the route table costs a request of any size from the sizes it measured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { costAt, ROUTE_SIZES } from '../../src/framework/route-table.js';

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

  it('never extends a falling last segment downwards (a noisy measurement)', () => {
    const noisy = [...linear];
    noisy[noisy.length - 1] = noisy[noisy.length - 2]! - 10;
    assert.equal(costAt(noisy, 1 << 20), noisy[noisy.length - 1]);
  });
});
