// The soak's guest side (run by scripts/soak.js inside `kcrypto lab`, while the host pulls a
// virtio-crypto card out and plugs it back every minute): mixed algorithms and sizes on every
// usable driver, several sessions each with several requests in flight, sessions reopened as
// they go. Every request has an id: its completion is counted (a second one is a duplicate, one
// missing at the end is lost) and its output checked against node:crypto; an error is counted by
// its code (a KCryptoError) or as a failure (anything else). Every 5 s it prints a sample (RSS,
// descriptors, requests, errors, each card's interrupts), and it prints what the guest sees of
// the cards (sysfs, the device watch, drivers registered again), one JSON line each:
// `SOAK-<kind> {...}`; the host reads them from the command's output.
//
// Environment: KCRYPTO_SOAK_SECONDS (how long requests are made; default 120).
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';

import { driverReadded, framework, router } from '../../src/api/framework-instance.js';
import { drivers, KCryptoError, openSession } from '../../src/index.js';
import { onKernelSessionOpen } from '../../src/kernel/bridge/engine/index.js';
import { deviceWatch } from '../../src/kernel/discovery/device-watch.js';
import { ALGORITHMS, lanesOf, oneRequest, SIZES, type Algorithm, type Session } from './lanes.js';

const SECONDS = Number(process.env['KCRYPTO_SOAK_SECONDS'] ?? 120);
/** Sessions per driver and algorithm, requests in flight per session, requests before a session is reopened. */
const SESSIONS = 2;
const DEPTH = 3;
const PER_SESSION = 24;
const SAMPLE_MS = 5000;
/** How long requests in flight at the end may take before they count as lost. */
const DRAIN_MS = 30_000;
const CARD_DRIVER = 'virtio_crypto_aes_cbc';
/** Full load before the START line; before that, every lane must have opened a session (WARMUP_LIMIT_MS at most). */
const WARMUP_MS = 10_000;
const WARMUP_LIMIT_MS = 120_000;

/** Times are from the START line (after the warm-up), as the host's are. */
let t0 = Date.now();
const now = (): number => Date.now() - t0;
function emit(kind: string, o: Record<string, unknown>): void {
  process.stdout.write(`SOAK-${kind} ${JSON.stringify({ t: now(), ...o })}\n`);
}

const counts = { issued: 0, completed: 0, verified: 0, wrong: 0, duplicates: 0, untyped: 0, sessionsOpened: 0, openErrors: 0 };
const errors: Record<string, number> = {};
const wrongs: string[] = [];
/** Requests issued and not yet settled, by id. */
const pending = new Map<number, string>();
let nextId = 1;
let stop = false;
/** Lanes that have opened a session. */
const opened = new Set<string>();
let kernelSessions = 0;
let abandoned = 0;
onKernelSessionOpen((s) => {
  kernelSessions++;
  s.onAbandoned(() => abandoned++);
});

function countError(err: unknown, where: string): void {
  if (err instanceof KCryptoError || (err instanceof Error && typeof (err as { code?: unknown }).code === 'string')) {
    const code = (err as unknown as { code: string }).code;
    errors[code] = (errors[code] ?? 0) + 1;
  } else {
    counts.untyped++;
    if (wrongs.length < 20) wrongs.push(`${where}: untyped error ${String(err)}`);
  }
}

/** One request with its id, settled once (a second settle of the same id is a duplicate). */
async function request(alg: Algorithm, s: Session, key: Buffer, lane: string): Promise<boolean> {
  const id = nextId++;
  const bytes = SIZES[Math.floor(Math.random() * SIZES.length)]!;
  pending.set(id, lane);
  counts.issued++;
  let ok = true;
  const settle = (): boolean => {
    if (!pending.delete(id)) {
      counts.duplicates++;
      return false;
    }
    counts.completed++;
    return true;
  };
  try {
    const { got, want } = await oneRequest(alg, s, key, bytes);
    if (!settle()) return false;
    if (got.equals(want)) counts.verified++;
    else {
      counts.wrong++;
      if (wrongs.length < 20) wrongs.push(`${lane}: wrong output, ${bytes} bytes on ${s.driver}`);
    }
  } catch (err) {
    if (!settle()) return false;
    countError(err, lane);
    ok = false;
  }
  return ok;
}

/** Opens a session of `alg` on `driver` again and again until the end, `DEPTH` requests in flight on each. */
async function worker(alg: Algorithm, driver: string, reopen: boolean, keep?: Session[]): Promise<void> {
  const lane = `${alg.name}@${driver}`;
  while (!stop) {
    const key = randomBytes(16);
    let s: Session;
    try {
      s = (await openSession(alg.spec(key), { driver })) as Session;
      counts.sessionsOpened++;
    } catch (err) {
      counts.openErrors++;
      countError(err, `${lane} open`);
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    keep?.push(s);
    opened.add(lane);
    let budget = reopen ? PER_SESSION : Number.POSITIVE_INFINITY;
    const loop = async (): Promise<void> => {
      while (!stop && budget-- > 0) {
        if (!(await request(alg, s, key, lane))) return;
        // A session moved to a driver that completes at once would starve the timers otherwise.
        await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all(Array.from({ length: DEPTH }, loop));
    await Promise.race([s.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
  }
}

/** The virtio-crypto cards bound now: virtio name → PCI address. */
function cards(): Map<string, string> {
  const out = new Map<string, string>();
  const dir = '/sys/bus/virtio/drivers/virtio_crypto';
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => /^virtio\d+$/.test(n));
  } catch {
    // the driver is not loaded
  }
  for (const n of names) {
    try {
      out.set(n, readlinkSync(`${dir}/${n}`).split('/').at(-2) ?? '?');
    } catch {
      // unbound between the listing and here
    }
  }
  return out;
}

/** Interrupts per virtio device (`virtio3-...` lines of /proc/interrupts), summed over CPUs. */
function interrupts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/interrupts', 'utf8').split('\n')) {
    const m = /\b(virtio\d+)-/.exec(line);
    if (!m) continue;
    const n = line
      .split(':')[1]!
      .trim()
      .split(/\s+/)
      .filter((x) => /^\d+$/.test(x))
      .reduce((a, x) => a + Number(x), 0);
    out[m[1]!] = (out[m[1]!] ?? 0) + n;
  }
  return out;
}

/** This process's descriptors by what they are (socket, pipe, anon_inode:[eventfd], a path's directory). */
function fdKinds(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const fd of readdirSync('/proc/self/fd')) {
    let what: string;
    try {
      what = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const kind = what.startsWith('/') ? what.split('/').slice(0, 3).join('/') : what.replace(/\[\d+\]$/, '');
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** Every task of the guest in uninterruptible sleep, with its kernel stack: where a removal that does not finish waits. */
function blockedTasks(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const base = `/proc/${pid}/task/${tid}`;
      try {
        const stat = readFileSync(`${base}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'D') continue;
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const stack = readFileSync(`${base}/stack`, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.replace(/^\[<[0-9a-f]+>\] /, '').replace(/\+0x[0-9a-f/x]+$/, ''))
          .slice(0, 12);
        out.push(`${comm}[${tid}]: ${stack.join(' < ')}`);
      } catch {
        // gone, or no stack to read
      }
    }
  }
  return out;
}

/** Kernel log lines that say something went wrong (an oops, a warning, a task that died in the kernel). */
const FAULT = /\b(BUG|Oops|WARNING|general protection|RIP|Call Trace|exited with|Kernel panic|hung_task|blocked for more than)\b/;
let logSeen = 0;

/** The kernel's fault lines since the last call (by their timestamp), with the lines around them. */
function kernelFaults(): string[] {
  const lines = (spawnSync('dmesg', { encoding: 'utf8', timeout: 5000 }).stdout ?? '').split('\n').filter(Boolean);
  const stamp = (l: string): number => Number(/^\[\s*([\d.]+)\]/.exec(l)?.[1] ?? 0);
  const fresh = lines.filter((l) => stamp(l) > logSeen);
  if (lines.length > 0) logSeen = Math.max(logSeen, stamp(lines.at(-1)!));
  // The fault lines, and the first frames of each call trace (where the kernel was).
  const out: string[] = [];
  let frames = 0;
  for (const l of fresh) {
    if (FAULT.test(l)) {
      out.push(l);
      frames = l.includes('Call Trace') ? 8 : 0;
    } else if (frames > 0 && /\]\s+(\? )?[\w.]+\+0x/.test(l)) {
      out.push(l);
      frames--;
    }
  }
  return out.slice(0, 60);
}

/** A card the guest unbound whose PCI function is still there 20 s later: the kernel's removal did not finish. */
function checkRemovalFinishes(pci: string): void {
  setTimeout(() => {
    // Gone, or back already (plugged in again at the same address).
    if (!existsSync(`/sys/bus/pci/devices/${pci}`) || [...cards().values()].includes(pci)) return;
    const dmesg = spawnSync('dmesg', { encoding: 'utf8', timeout: 5000 }).stdout ?? '';
    emit('EVENT', {
      source: 'kernel',
      event: 'removal-stuck',
      pci,
      blocked: blockedTasks(),
      dmesg: dmesg.split('\n').filter(Boolean).slice(-25),
    });
  }, 20_000).unref();
}

function cardDriverState(): { id: number; gone: boolean; requests: number }[] {
  return framework
    .stats()
    .filter((d) => d.name === `afalg:${CARD_DRIVER}`)
    .map((d) => ({ id: d.id, gone: d.gone, requests: d.requests }));
}

function sample(): void {
  const statm = readFileSync('/proc/self/statm', 'utf8').split(' ');
  const cardIrqs = interrupts();
  const present = cards();
  emit('SAMPLE', {
    rss: Number(statm[1]) * 4096,
    fds: readdirSync('/proc/self/fd').length,
    ...counts,
    inFlight: pending.size,
    errors: { ...errors },
    kernelSessions,
    abandoned,
    cards: Object.fromEntries([...present].map(([n, pci]) => [n, { pci, irqs: cardIrqs[n] ?? 0 }])),
    cardDriver: cardDriverState(),
  });
}

async function main(): Promise<void> {
  const fdsBeforeWork = fdKinds();
  const list = await drivers();
  const lanes = lanesOf(list);
  // What the guest sees of the cards: sysfs each second, and the library's own view.
  let seen = cards();
  const sysfsTimer = setInterval(() => {
    const next = cards();
    for (const [n, pci] of seen)
      if (!next.has(n)) {
        emit('EVENT', { source: 'sysfs', event: 'removed', device: n, pci });
        checkRemovalFinishes(pci);
        setTimeout(() => {
          const faults = kernelFaults();
          if (faults.length > 0) emit('EVENT', { source: 'kernel', event: 'faults', pci, lines: faults });
        }, 20_000).unref();
      }
    for (const [n, pci] of next) if (!seen.has(n)) emit('EVENT', { source: 'sysfs', event: 'added', device: n, pci });
    seen = next;
  }, 1000);
  deviceWatch.on('removed', (r) => {
    emit('EVENT', { source: 'watch', event: 'removed', devices: r.devices.map((d) => d.name), kernelDrivers: r.kernelDrivers });
    // The framework fails the card's driver on the same event; a moment later, say whether it did.
    setTimeout(() => emit('EVENT', { source: 'framework', event: 'failed', cardDriver: cardDriverState() }), 1000);
  });
  deviceWatch.on('added', (a) =>
    emit('EVENT', { source: 'watch', event: 'added', devices: a.devices.map((d) => d.name), kernelDrivers: a.kernelDrivers }),
  );
  // Routed sessions opened once and kept: after a card comes back they must use it again.
  const longLived: Session[] = [];
  const onCard = (id: number): boolean[] =>
    longLived.map((s) => {
      const sid = s.frameworkSid;
      return sid !== undefined && (router.alternatives(sid) ?? []).some((a) => a.driver === id && !a.gone);
    });
  driverReadded.on('readded', (r) => emit('EVENT', { source: 'framework', event: 'readded', ...r, longLivedOnCard: onCard(r.id) }));

  const cbc = ALGORITHMS.find((a) => a.name === 'aes-128-cbc')!;
  // A warm-up first, so that the samples the host takes as the baseline are the steady state:
  // the routes of every algorithm measured once (one routed session each, one after the
  // other), then every lane's sessions opened, then a few seconds of the full load.
  const tMeasure = Date.now();
  for (const alg of ALGORITHMS) await (await openSession(alg.spec(randomBytes(16)), { driver: 'fastest' })).close();
  const routeMeasureMs = Date.now() - tMeasure;
  const work = [
    ...lanes.flatMap((l) => Array.from({ length: SESSIONS }, () => worker(l.alg, l.driver, true))),
    ...Array.from({ length: SESSIONS }, () => worker(cbc, 'fastest', false, longLived)),
  ];
  const warmEnd = Date.now() + WARMUP_LIMIT_MS;
  while ((opened.size < lanes.length || longLived.length < SESSIONS) && Date.now() < warmEnd) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  kernelFaults();
  t0 = Date.now();
  emit('START', {
    seconds: SECONDS,
    lanes: lanes.map((l) => `${l.alg.name}@${l.driver}`),
    cards: Object.fromEntries(cards()),
    drivers: list.filter((d) => d.available).map((d) => d.name),
    fdsBeforeWork,
    routeMeasureMs,
    warmupMs: Date.now() - tMeasure,
    lanesOpened: opened.size,
  });
  sample();
  const sampler = setInterval(sample, SAMPLE_MS);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const longLivedRoutes = longLived.map((s) => (s.frameworkSid === undefined ? null : (router.sent(s.frameworkSid) ?? null)));
  stop = true;
  const drained = await Promise.race([Promise.all(work).then(() => true), new Promise<false>((r) => setTimeout(r, DRAIN_MS, false))]);
  clearInterval(sampler);
  clearInterval(sysfsTimer);
  sample();
  const fdsAfterWork = fdKinds();
  emit('RESULT', {
    fdsBeforeWork,
    fdsAfterWork,
    ...counts,
    lost: pending.size,
    lostLanes: [...new Set(pending.values())].slice(0, 10),
    drained,
    errors,
    wrongs,
    longLivedRoutes,
    cardDriver: cardDriverState(),
  });
  // Threads stuck in the kernel on a removed card could keep the process from exiting: the
  // verdict goes to the lab first.
  const verdict = process.env['KCRYPTO_LAB_VERDICT_FILE'];
  if (verdict) writeFileSync(verdict, '0\n');
  process.exit(0);
}

main().catch((err: unknown) => {
  emit('RESULT', { fatal: String(err instanceof Error ? err.stack : err) });
  process.exit(1);
});
