// `npm run soak -- --minutes N [--kernel K] [--out DIR] [--gap S] [--attempts N]`: a soak of kcrypto in the lab.
// Boots a guest with two virtio-crypto cards and a QMP monitor, runs the guest workload
// (test/soak/workload.ts, built to dist/) for N minutes, and every minute, 30 s into it, pulls
// one card out (QMP device_del, alternately card0 and card1; waits for DEVICE_DELETED, 30 s at
// most) and plugs it back S seconds later (device_add, same driver, backend and id). The guest
// sees both through ACPI PCI hotplug (QEMU's default i440fx machine); no rescan is needed (if
// a kernel did not see the device_add, `echo 1 > /sys/bus/pci/rescan` in the guest would find
// it). Then prints a summary, writes report.json and soak.svg to the out dir (default
// soak-report/), and exits non-zero when a check failed (see scripts/soak-report.js).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { analyse, chart, summary } from './soak-report.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    kernel: { type: 'string', default: '6.12.118+deb12-amd64' },
    out: { type: 'string', default: 'soak-report' },
    gap: { type: 'string', default: '10' },
    attempts: { type: 'string', default: '1' },
    verbose: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const gapS = Number(values.gap);
if (!(minutes >= 1) || !Number.isInteger(minutes)) throw new RangeError(`--minutes must be a whole number >= 1, not ${values.minutes}`);
if (!(gapS >= 1 && gapS <= 25)) throw new RangeError(`--gap must be 1 to 25 seconds, not ${values.gap}`);
const attempts = Number(values.attempts);
if (!(attempts >= 1 && attempts <= 3) || !Number.isInteger(attempts))
  throw new RangeError(`--attempts must be 1 to 3, not ${values.attempts}`);

const { runInLab, QmpClient } = await import('../dist/esm/src/lab/lab.js');

const DELETE_BOUND_MS = 30_000;
/**
 * The workload reports every few seconds: a guest silent this long has wedged. The kernels'
 * virtio-crypto drivers fault on requests that race a card's removal (a use-after-free in
 * crypto_transfer_request, on 6.1 and 6.12 alike), and the guest sometimes goes no further.
 */
const STALL_MS = 90_000;
let host0 = Date.now();
/** Guest lines, by kind, and what the host did, all on the guest's clock (ms since the workload started). */
let guest = { start: undefined, samples: [], events: [], result: undefined };
let hostEvents = [];
let qmpPath;
let startArrived;
/** The guest's clock now, from when its START line arrived. */
const guestNow = () => (guest.start ? guest.start.t + (Date.now() - startArrived) : undefined);

let pendingLine = '';
function onStdout(chunk) {
  pendingLine += chunk.toString();
  let nl;
  while ((nl = pendingLine.indexOf('\n')) >= 0) {
    const line = pendingLine.slice(0, nl);
    pendingLine = pendingLine.slice(nl + 1);
    const m = /^SOAK-(START|SAMPLE|EVENT|RESULT) (.*)$/.exec(line);
    if (!m) {
      process.stderr.write(`guest: ${line}\n`);
      continue;
    }
    const o = JSON.parse(m[2]);
    if (m[1] === 'START') {
      guest.start = o;
      startArrived = Date.now();
      process.stderr.write(`soak: workload started, ${o.lanes.length} lanes; cards ${JSON.stringify(o.cards)}\n`);
      void cycles().catch((err) => hostEvents.push({ t: guestNow(), event: 'error', error: String(err) }));
    } else if (m[1] === 'SAMPLE') {
      guest.samples.push(o);
      if (values.verbose || guest.samples.length % 6 === 1)
        process.stderr.write(
          `soak: t=${(o.t / 1000).toFixed(0)}s rss=${(o.rss / 2 ** 20).toFixed(1)}MiB fds=${o.fds} done=${o.completed} inFlight=${o.inFlight} errors=${JSON.stringify(o.errors)}\n`,
        );
    } else if (m[1] === 'EVENT') {
      guest.events.push(o);
      process.stderr.write(`soak: guest ${o.source} ${o.event} ${JSON.stringify(o)}\n`);
    } else guest.result = o;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One removal and return per minute, 30 s into it, while the workload runs. */
async function cycles() {
  const qmp = await QmpClient.connect(qmpPath);
  try {
    for (let k = 0; k < minutes; k++) {
      const at = startArrived + (k * 60 + 30) * 1000;
      await sleep(at - Date.now());
      const id = `card${k % 2}`;
      const deleted = qmp.waitForEvent('DEVICE_DELETED', DELETE_BOUND_MS, (e) => e.data?.device === id);
      hostEvents.push({ t: guestNow(), event: 'device_del', id });
      await qmp.execute('device_del', { id });
      try {
        await deleted;
        hostEvents.push({ t: guestNow(), event: 'DEVICE_DELETED', id });
      } catch (err) {
        hostEvents.push({ t: guestNow(), event: 'error', id, error: String(err) });
        continue; // still there: nothing to plug back
      }
      await sleep(gapS * 1000);
      try {
        await qmp.execute('device_add', { driver: 'virtio-crypto-pci', cryptodev: `cd${k % 2}`, id });
        hostEvents.push({ t: guestNow(), event: 'device_add', id });
      } catch (err) {
        hostEvents.push({ t: guestNow(), event: 'error', id, error: String(err) });
      }
    }
  } finally {
    qmp.close();
  }
}

/** One soak in a fresh guest: its lab result and report. */
async function soak() {
  host0 = Date.now();
  guest = { start: undefined, samples: [], events: [], result: undefined };
  hostEvents = [];
  qmpPath = undefined;
  startArrived = undefined;
  pendingLine = '';
  const result = await runInLab({
    command: [process.execPath, 'dist/esm/test/soak/workload.js'],
    kernel: values.kernel,
    cards: 2,
    qmpSocket: true,
    env: { KCRYPTO_SOAK_SECONDS: String(minutes * 60) },
    // Boot, the route measurements, the run, the drain at its end, and room to spare.
    timeoutMs: (minutes * 60 + 600) * 1000,
    stallMs: STALL_MS,
    verbose: values.verbose,
    onStart: (h) => (qmpPath = h.qmpSocketPath),
    onOutput: (stream, chunk) => (stream === 'stdout' ? onStdout(chunk) : process.stderr.write(chunk)),
  });
  return { result, report: analyse({ minutes, gapS, kernel: result.kernel, lab: result, wallMs: Date.now() - host0, guest, hostEvents }) };
}

// With --attempts N, a guest that wedged after its kernel faulted (the drivers' bug above, not
// kcrypto's doing) gets a fresh guest, up to N soaks in all; each wedge is printed and kept in
// the report. A stall without a kernel fault, or any other failure, is never run again.
const wedges = [];
let { result, report } = await soak();
while (result.stalled?.kernelFaults !== undefined && wedges.length + 1 < attempts) {
  wedges.push({ wallMs: report.wallMs, kernelFaults: result.stalled.kernelFaults });
  console.log(
    `soak: the guest wedged after its kernel faulted (${result.stalled.kernelFaults}); a fresh guest runs the soak again (attempt ${wedges.length + 1} of ${attempts})`,
  );
  ({ result, report } = await soak());
}
report.wedgedAttempts = wedges;
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
writeFileSync(join(values.out, 'soak.svg'), chart(report));
console.log(summary(report));
console.log(`report: ${join(values.out, 'report.json')}, chart: ${join(values.out, 'soak.svg')}`);
process.exitCode = report.failures.length > 0 ? 1 : 0;
