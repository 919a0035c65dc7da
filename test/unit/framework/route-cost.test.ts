// Which alternative a routed request goes to, from the measured costs, the queues and the busy cores.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';

import { cheapest, direct, hold, pick, priced, queueOf, routed, type Alternative } from '../../../src/framework/route-cost.js';
import { ROUTE_SIZES } from '../../../src/framework/route-table.js';

/** An alternative on `server` whose measured time and CPU per request are `time` and `cpu` at every size (or what `scale` makes of them). */
function alternative(
  name: string,
  server: number,
  time: number,
  cpu: number,
  sync = false,
  scale: (size: number) => number = () => 1,
): Alternative {
  return {
    driver: server,
    name,
    sid: 0n,
    maxRequest: Infinity,
    stateless: true,
    cost: { time: ROUTE_SIZES.map((x) => time * scale(x)), cpu: ROUTE_SIZES.map((x) => cpu * scale(x)) },
    server,
    sync,
  };
}

describe('router: the cheapest alternative under load', () => {
  // A CPU driver whose requests take 10 ms of the whole machine's cores (so alone on idle
  // cores, 10 ms each, whatever their number), and a device at 1 ms per request whose
  // requests take little CPU.
  const ms = 1e6;
  const cores = availableParallelism();
  const alts = [alternative('cpu', -1, 1 * ms, 10 * cores * ms), alternative('device', 7, 1 * ms, 0.2 * ms)];
  const queued = (device: number) => (i: number) => (i === 1 ? device : 0);

  it('a device holding more than it was measured with sends the next request to a CPU driver with idle cores', () => {
    assert.equal(cheapest(alts, [0, 1], 65536, 65536, queued(0), 0), 1, 'the idle device first (less CPU)');
    // Twenty held (past ROUTE_DEPTH), the device's wait (14 ms) outgrows the CPU driver's cost on idle cores.
    assert.equal(cheapest(alts, [0, 1], 65536, 65536, queued(20), 0), 0);
  });

  it('but not once the requests in flight keep the cores busy: the CPU driver is no spare capacity then', () => {
    assert.equal(cheapest(alts, [0, 1], 65536, 65536, queued(20), cores), 1);
  });
});

describe('router: a device queued behind busy cores', () => {
  it('is not charged twice for the cores: a synchronous CPU driver with more CPU time per request does not win', () => {
    const ms = 1e6;
    const cores = availableParallelism();
    // The software driver: 1.9 ms of the cores per request, never a queue; the device: 0.84 ms
    // per request, 1.14 ms of the cores, 25 held. Every core busy: the device costs 18 ms by the
    // cores and 16 by its queue, the software driver 30 (summed, the device came to 33).
    const alts = [alternative('software', -1, 1.9 * ms, 1.9 * cores * ms), alternative('device', 7, 0.84 * ms, 1.14 * cores * ms)];
    assert.equal(
      cheapest(alts, [0, 1], 65536, 65536, (i) => (i === 1 ? 25 : 0), cores),
      1,
    );
  });
});

describe('router: a synchronous driver', () => {
  it('has every routed request in flight ahead of it, so a full device keeps its large requests', () => {
    const ms = 1e6;
    const perByte = (x: number): number => x / 65536;
    const mk = (name: string, server: number, time: number, sync: boolean): Alternative =>
      alternative(name, server, time, time, sync, perByte);
    // As measured in the lab at 1 MiB: the software driver 24 ms of the JavaScript thread, the
    // CPU kernel driver 10 ms on its own threads, the card 7 ms; 12 requests on the card, 2 small
    // ones on the CPU kernel driver.
    const s = routed([mk('software', -1, 1.5 * ms, true), mk('aesni', -1, 0.64 * ms, false), mk('card', 7, 0.45 * ms, false)], 2);
    hold(s, 1, 2);
    hold(s, 2, 12);
    assert.equal(queueOf(s, 0), 14, 'the synchronous driver waits for every request in flight');
    assert.equal(queueOf(s, 1), 2, 'the CPU kernel driver only for its server');
    assert.equal(queueOf(s, 2), 12, 'the card only for its own');
    const chosen = cheapest(s.alts, s.all, 1 << 20, 1 << 20, (i) => queueOf(s, i), 0);
    assert.notEqual(s.alts[chosen]!.name, 'software');
    assert.equal(pick(s, priced(s, 1 << 20), 1 << 20, 0), chosen);
    // Counted as its server's queue alone, the software driver would have taken it.
    assert.equal(s.alts[cheapest(s.alts, [0, 2], 1 << 20, 1 << 20, (i) => (i === 0 ? 0 : 12), 0)]!.name, 'software');
  });
});

describe('router: the per-request choice', () => {
  it('is cheapest() over every alternative, with the queues counted as requests come and go', () => {
    const ms = 1e6;
    const cores = availableParallelism();
    const perByte = (x: number): number => x / 65536;
    const small = (x: number): number => (x < 4096 ? 0.2 : perByte(x));
    const alts = [
      alternative('software', -1, 1.5 * ms, 1.5 * ms, true, perByte),
      alternative('aesni', -1, 0.6 * ms, 1.2 * cores * ms, false, small),
      alternative('card', 7, 0.8 * ms, 0.4 * ms, false),
      alternative('card2', 9, 0.7 * ms, 0.5 * ms, false, small),
    ];
    alts[3]!.maxRequest = 65536;
    const s = routed(alts, 0);
    // A fixed pseudo-random walk of holds, releases, sizes and busy cores.
    let x = 7;
    const next = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 16) % n;
    };
    const sizes = [16, 64, 1000, 4096, 20000, 65536, 1 << 20];
    const chosen = new Set<number>();
    for (let step = 0; step < 2000; step++) {
      const i = next(alts.length);
      if (s.inFlight[i]! > 0 && next(2) === 0) hold(s, i, -1);
      else hold(s, i, 1);
      const size = sizes[next(sizes.length)]!;
      const busy = (next(5) * cores) / 4;
      const expected = cheapest(alts, s.all, size, size, (j) => queueOf(s, j), busy);
      assert.equal(pick(s, priced(s, size), size, busy), expected, `step ${step}`);
      chosen.add(expected);
    }
    assert.equal(
      s.total,
      s.inFlight.reduce((a, b) => a + b, 0),
    );
    assert.ok(chosen.size >= 3, 'the walk reaches several alternatives');
  });
});

describe('router: requests sent directly', () => {
  const perByte = (x: number): number => x / 64;
  /** pick() under a pseudo-random walk of holds, sizes up to `max` and busy cores: the set of alternatives chosen. */
  const walk = (alts: Alternative[], stream: number, max = Infinity): Set<number> => {
    const s = routed(alts, stream);
    const chosen = new Set<number>();
    let x = 11;
    const next = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 16) % n;
    };
    const cores = availableParallelism();
    const sizes = [1, 64, 3000, 65536, 1 << 20, 1 << 26].filter((n) => n <= max);
    for (let step = 0; step < 2000; step++) {
      const i = next(alts.length);
      if (s.inFlight[i]! > 0 && next(2) === 0) hold(s, i, -1);
      else hold(s, i, 1);
      const size = sizes[next(sizes.length)]!;
      chosen.add(pick(s, priced(s, size), size, (next(5) * cores) / 4));
    }
    return chosen;
  };

  it('every size goes to the CPU alternative that costs less time and less CPU at every size: routing never chooses another', () => {
    const alts = [alternative('software', -1, 3, 3.2, true, perByte), alternative('openssl', -1, 2, 2.5, false, perByte)];
    assert.deepEqual(direct(routed(alts, 1)), { index: 1, bytes: Infinity, streams: true });
    assert.deepEqual([...walk(alts, 1)], [1]);
    assert.equal(direct(routed(alts, 0)).streams, false, 'streams stay with the stream alternative');
  });

  it('up to the last size where it costs less CPU too: under busy cores routing chooses the other above it', () => {
    const alts = [
      alternative('software', -1, 3, 3.2, true, perByte),
      alternative('openssl', -1, 2, 2.5, false, (x) => (x >= 4096 ? perByte(x) * 1.5 : perByte(x))),
    ];
    const d = direct(routed(alts, 1));
    assert.deepEqual(d, { index: 1, bytes: 512, streams: false });
    assert.deepEqual([...walk(alts, 1, d.bytes)], [1], 'up to it, always the one');
    assert.ok(walk(alts, 1).has(0), 'above it, the other at times');
  });

  it('none when a device is among the alternatives, or an alternative was never measured; bounded by its size limit', () => {
    assert.equal(
      direct(routed([alternative('openssl', -1, 2, 2, false, perByte), alternative('card', 7, 9, 1, false, perByte)], 0)).index,
      -1,
    );
    const unmeasured = [alternative('openssl', -1, 2, 2, false, perByte), alternative('new', -1, 1, 1)];
    unmeasured[1]!.cost = { time: [], cpu: [] };
    assert.equal(direct(routed(unmeasured, 0)).index, -1);
    const bounded = [alternative('software', -1, 3, 3, true, perByte), alternative('openssl', -1, 2, 2, false, perByte)];
    bounded[1]!.maxRequest = 16384;
    assert.deepEqual(direct(routed(bounded, 1)), { index: 1, bytes: 16384, streams: false });
  });
});
