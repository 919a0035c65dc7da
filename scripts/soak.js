// `npm run soak -- --minutes N [--kernel K] [--out DIR] [--gap S]`: a soak of kcrypto in the lab.
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
    verbose: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const gapS = Number(values.gap);
if (!(minutes >= 1) || !Number.isInteger(minutes)) throw new RangeError(`--minutes must be a whole number >= 1, not ${values.minutes}`);
if (!(gapS >= 1 && gapS <= 25)) throw new RangeError(`--gap must be 1 to 25 seconds, not ${values.gap}`);

const { runInLab, QmpClient } = await import('../dist/esm/src/lab/lab.js');

const DELETE_BOUND_MS = 30_000;
const host0 = Date.now();
/** Guest lines, by kind, and what the host did, all on the guest's clock (ms since the workload started). */
const guest = { start: undefined, samples: [], events: [], result: undefined };
const hostEvents = [];
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

const result = await runInLab({
  command: [process.execPath, 'dist/esm/test/soak/workload.js'],
  kernel: values.kernel,
  cards: 2,
  qmpSocket: true,
  env: { KCRYPTO_SOAK_SECONDS: String(minutes * 60) },
  // Boot, the route measurements, the run, the drain at its end, and room to spare.
  timeoutMs: (minutes * 60 + 600) * 1000,
  verbose: values.verbose,
  onStart: (h) => (qmpPath = h.qmpSocketPath),
  onOutput: (stream, chunk) => (stream === 'stdout' ? onStdout(chunk) : process.stderr.write(chunk)),
});

const report = analyse({ minutes, gapS, kernel: result.kernel, lab: result, wallMs: Date.now() - host0, guest, hostEvents });
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
writeFileSync(join(values.out, 'soak.svg'), chart(report));
console.log(summary(report));
console.log(`report: ${join(values.out, 'report.json')}, chart: ${join(values.out, 'soak.svg')}`);
process.exitCode = report.failures.length > 0 ? 1 : 0;
