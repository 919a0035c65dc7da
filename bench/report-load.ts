/**
 * The report's sections on requests in flight (AF_ALG and /dev/crypto) and on the event loop under load.
 */
import { mbPerSecond, opsPerSecond } from './measure.js';
import type { Results } from './results.js';
import { esc, loadTable, num, pct } from './report-format.js';

/** Requests in flight, then the event-loop delay under load. */
export function renderLoad(md: string[], r: Results): void {
  md.push('## Requests in flight');
  md.push('');
  md.push(loadTable([...r.inFlight, ...r.smallInFlight], false));
  md.push('');
  const cref = (group: string, size: number): string => {
    const c = r.rows.find((x) => x.path === 'c' && x.group === group)?.cells.get(size)?.sample;
    return c ? `${num(opsPerSecond(c))} ops/s, ${num(mbPerSecond(c))} MB/s` : 'not measured';
  };
  md.push(
    `Serial C for reference: virtio_crypto_aes_cbc at 64 KiB ${cref('cbc-virtio', 65536)}; cbc-aes-aesni at 64 B ${cref('cbc-aesni', 64)}.`,
  );
  md.push('');
  // kcrypto against C with as many threads as requests in flight, where the run has both.
  const loadRatios: string[] = [];
  for (const bind of ['virtio_crypto_aes_cbc', 'cbc-aes-aesni']) {
    for (const n of [1, 4, 16]) {
      const k = r.inFlight.find((x) => x.label.startsWith('kcrypto') && x.label.includes(bind) && x.inFlight === n && x.size === 65536)
        ?.cell.sample;
      const c = r.inFlight.find((x) => x.label.startsWith(`C AF_ALG ${bind},`) && x.inFlight === n && x.size === 65536)?.cell.sample;
      if (k && c) loadRatios.push(`${bind} ${n} in flight ${pct(opsPerSecond(k) / opsPerSecond(c))}`);
    }
  }
  if (loadRatios.length > 0) {
    md.push(`kcrypto / C with as many C threads as requests in flight, 64 KiB: ${loadRatios.join('; ')}.`);
    md.push('');
  }
  if (r.devcrypto) {
    const d = r.devcrypto;
    md.push(`### /dev/crypto, AES-128-CBC at 64 KiB${d.fixture ? ' [CUSE fixture]' : ''}`);
    md.push('');
    md.push(
      "`encrypt()` rows: the public API, N calls outstanding; each request is one blocking CIOCCRYPT on one of the addon's device threads, except that with all 16 of them busy, the requests of the session waiting behind one go to the module's queue with it (the last column counts them; the row without queue batches turns that off). `devCryptoRunBatch()` rows: the engine's request queue, one call of N requests at a time, submitted to the kernel's queue together and collected as they complete (a batch of one is a plain CIOCCRYPT: the engine queues two or more). C rows: bench/devcrypto-baseline.c keeping N requests in the module's queue (CIOCASYNCCRYPT, poll, CIOCASYNCFETCH), each completion replaced by a new request. Without a queue the queue rows say why.",
    );
    md.push('');
    md.push(
      d.inFlight.length > 0
        ? loadTable(d.inFlight, false)
        : `Not measured: ${esc(d.inFlightReason ?? 'no /dev/crypto driver serves AES-128-CBC')}.`,
    );
    md.push('');
    const serial = r.groups.filter((g) => g.interface === 'devcrypto' && g.title === 'AES-128-CBC');
    if (serial.length > 0)
      md.push(`Serial C for reference: ${serial.map((g) => `${g.driver ?? g.requested} at 64 KiB ${cref(g.key, 65536)}`).join('; ')}.`);
    md.push('');
  }

  md.push('## Event-loop delay under load');
  md.push('');
  md.push(
    'Lateness of a 1 ms `setInterval` timer (time between runs minus the period; the gap until the load ends counts as a sample), from the moment all requests are issued until the last completes; "samples" ≈ 1 per ms when the loop is free. "initial burst" is how long the benchmark\'s own synchronous loop that issues the first N requests held the event loop (N calls of `encrypt()`), reported apart because the caller chose to issue them at once.',
  );
  if (r.idleDelay)
    md.push(
      `Idle, for reference: p50 ${r.idleDelay.p50.toFixed(2)} ms, p99 ${r.idleDelay.p99.toFixed(2)} ms, max ${r.idleDelay.max.toFixed(2)} ms, ${r.idleDelay.samples} samples.`,
    );
  md.push('');
  md.push(loadTable(r.loop, true));
  md.push('');
  if (r.openClose.length > 0) {
    md.push('### Sessions opened and closed');
    md.push('');
    md.push(
      'One after another, after one uncounted round: open an AES-128-CBC session on the driver, encrypt 16 bytes, close it. Open and close are medians; the lateness is that of the same 1 ms timer throughout. On a device the bind, the keys and the release run on the device lane, not on the JavaScript thread; the engine row makes the same system calls on the JavaScript thread, one round per turn, as every session did before, for comparison in the same run.',
    );
    md.push('');
    md.push('| path | sessions | open, ms | close, ms | loop p99, ms | loop max, ms |');
    md.push('| --- | --- | --- | --- | --- | --- |');
    for (const o of r.openClose) {
      if (!o.delay) md.push(`| ${esc(o.label)} | unavailable: ${esc(o.reason ?? '')} |  |  |  |  |`);
      else
        md.push(
          `| ${esc(o.label)} | ${o.rounds} | ${o.openMs!.toFixed(1)} | ${o.closeMs!.toFixed(1)} | ${o.delay.p99.toFixed(2)} | ${o.delay.max.toFixed(2)} |`,
        );
    }
    md.push('');
  }
}
