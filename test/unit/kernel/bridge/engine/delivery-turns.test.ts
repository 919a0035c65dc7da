// Completions of a device lane that complete faster than JavaScript handles them must not keep
// the event loop in one turn. Node runs a threadsafe-function call queued during another in the
// same turn, so a completion handler woken again by every completion chained deliveries for as
// long as the device kept up (lab, 6.12: a 998 ms timer gap with 1000 requests in flight).
import '../../../../support/test-hooks.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadAddon } from '../../../../../src/kernel/bridge/addon.js';
import { KernelSession, Op } from '../../../../../src/kernel/bridge/engine/index.js';

const { addon, error } = loadAddon();
const skip = addon ? false : `native addon not loaded: ${error}`;

describe('completion delivery and the event loop', { skip }, () => {
  it('the completion handler runs at most once per lane per turn with 1000 device requests in flight', async () => {
    const native = addon!;
    const s = new KernelSession(native.openLoopback!(20, 0), 'test:device', false, 'auto');
    // Deliveries are counted through the dispatcher's counter; a check-phase immediate marks
    // each turn of the event loop.
    let turns = 0;
    let running = true;
    let deliveriesAtTurn = native.dispatcherStats().device.deliveries;
    let mostInOneTurn = 0;
    const turn = (): void => {
      const d = native.dispatcherStats().device.deliveries;
      mostInOneTurn = Math.max(mostInOneTurn, d - deliveriesAtTurn);
      deliveriesAtTurn = d;
      turns++;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    const data = Buffer.alloc(4096, 1);
    const end = Date.now() + 400;
    let done = 0;
    const worker = async (): Promise<void> => {
      do {
        const out = Buffer.allocUnsafe(data.length);
        assert.equal(await s.request(Op.Encrypt, data, out, null, 0), data.length);
        done++;
      } while (Date.now() < end);
    };
    await Promise.all(Array.from({ length: 1000 }, worker));
    running = false;
    await s.close();
    assert.ok(done >= 1000);
    assert.ok(turns > 10, `only ${turns} turns of the event loop in 400 ms`);
    // One delivery by the handler and one collection per turn (both counted).
    assert.ok(mostInOneTurn <= 2, `${mostInOneTurn} deliveries in one turn`);
  });
});
