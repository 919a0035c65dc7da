// The soak's verdict, summary and chart (scripts/soak.js): what the guest counted and sampled,
// what the host did to the cards, the checks, and an SVG of RSS and descriptors over time with
// each removal and return marked.

/** RSS may grow over the soak's second half by at most this much (or RSS_GROWTH_SHARE of it). */
export const RSS_GROWTH_BYTES = 16 * 2 ** 20;
export const RSS_GROWTH_SHARE = 0.1;
/** Descriptors a cycle may leave open beyond the baseline and the abandoned kernel sessions' (see analyse): this many, or FD_SLACK_SHARE of the baseline. */
export const FD_SLACK = 16;
export const FD_SLACK_SHARE = 0.1;
/**
 * Descriptors an abandoned AF_ALG kernel session may keep: its transform's socket and its pool of
 * request sockets, one per request in flight (the workload keeps 3 in flight per session).
 */
export const FDS_PER_KERNEL_SESSION = 4;
/** Samples this long after a card came back are taken as the cycle's settled state. */
const SETTLE_MS = 15_000;

const median = (xs) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const mib = (b) => (b / 2 ** 20).toFixed(1);

/**
 * The checks. Descriptors are flat when, after each removal and return, the median count once
 * the card is back is no more than the median before the first removal (after the workload's
 * warm-up) plus the descriptors the library keeps on purpose (a kernel session abandoned on a
 * removed card keeps its descriptors: closing one bound to the removed card hung or faulted the
 * guest kernel; FDS_PER_KERNEL_SESSION each) plus a slack for the sessions being reopened all
 * the time (FD_SLACK, or FD_SLACK_SHARE of the baseline); and when, once every session is
 * closed at the end, no more are open than before the workload plus the kept ones and that
 * slack. Kernel faults in the guest's log after a removal are reported, not failed on (they
 * are the kernel's). RSS is flat when its growth over the
 * second half (the largest sample there less the first there) stays under RSS_GROWTH_BYTES or
 * RSS_GROWTH_SHARE of it, whichever is larger.
 */
export function analyse({ minutes, gapS, kernel, lab, wallMs, guest, hostEvents }) {
  const failures = [];
  const r = guest.result ?? {};
  const samples = guest.samples.filter((s) => s.t <= minutes * 60_000 + 1000);
  if (lab.exitCode !== 0) failures.push(`lab run exited ${lab.exitCode}${lab.error ? `: ${lab.error}` : ''}`);
  if (!guest.result) failures.push('the workload reported no result');
  if (r.fatal) failures.push(`the workload failed: ${r.fatal}`);
  for (const [k, what] of [
    ['lost', 'requests lost'],
    ['duplicates', 'requests completed twice'],
    ['wrong', 'wrong outputs'],
    ['untyped', 'errors that are no typed error'],
  ])
    if ((r[k] ?? 0) > 0) failures.push(`${r[k]} ${what}`);
  for (const e of hostEvents.filter((e) => e.event === 'error')) failures.push(`host: ${e.id ?? ''} ${e.error}`);

  const dels = hostEvents.filter((e) => e.event === 'device_del');
  const cycles = dels.map((del, i) => {
    const next = dels[i + 1]?.t ?? minutes * 60_000;
    const deleted = hostEvents.find((e) => e.event === 'DEVICE_DELETED' && e.id === del.id && e.t >= del.t);
    const add = hostEvents.find((e) => e.event === 'device_add' && e.id === del.id && e.t >= del.t && e.t < next);
    const during = (from, to) => guest.events.filter((e) => e.t >= from - 2000 && e.t < to);
    const gone = during(del.t, add?.t ?? next).find((e) => e.source === 'sysfs' && e.event === 'removed');
    const back = add ? during(add.t, next).find((e) => e.source === 'sysfs' && e.event === 'added') : undefined;
    const watchRemoved = during(del.t, next).some((e) => e.source === 'watch' && e.event === 'removed');
    const failed = during(del.t, next).find((e) => e.source === 'framework' && e.event === 'failed');
    const readded = add ? during(add.t, next).find((e) => e.source === 'framework' && e.event === 'readded') : undefined;
    // The card that came back serves requests again: its interrupts grow after it returned.
    const pci = gone?.pci;
    const irqs = samples
      .filter((s) => add && s.t > (readded?.t ?? add.t) && s.t < next)
      .map((s) => Object.values(s.cards).find((c) => c.pci === pci)?.irqs)
      .filter((n) => n !== undefined);
    const c = {
      card: del.id,
      pci,
      removedAt: del.t,
      deletedMs: deleted ? deleted.t - del.t : undefined,
      guestSawRemoval: Boolean(gone),
      watchSawRemoval: watchRemoved,
      driverFailed: failed ? failed.cardDriver.some((d) => d.gone) : false,
      addedAt: add?.t,
      guestSawAddition: Boolean(back),
      readded: Boolean(readded),
      routedSessionsAdopted: readded?.adopted ?? 0,
      longLivedOnCard: readded?.longLivedOnCard,
      returnedCardIrqs: irqs.length >= 2 ? irqs.at(-1) - irqs[0] : undefined,
    };
    const stuck = during(del.t, next).find((e) => e.source === 'kernel' && e.event === 'removal-stuck');
    if (stuck) c.removalStuck = { blocked: stuck.blocked, dmesg: stuck.dmesg };
    const tag = `cycle ${i + 1} (${del.id})`;
    if (!deleted)
      failures.push(
        `${tag}: no DEVICE_DELETED within the bound${stuck ? ` (the guest's removal did not finish; blocked: ${stuck.blocked.slice(0, 3).join(' | ') || 'none'})` : ''}`,
      );
    if (!c.guestSawRemoval) failures.push(`${tag}: the guest did not see the card go`);
    if (!c.watchSawRemoval) failures.push(`${tag}: the device watch did not report the removal`);
    if (!c.driverFailed) failures.push(`${tag}: the card's framework driver was not failed`);
    if (!add) failures.push(`${tag}: the card was not plugged back`);
    else {
      if (!c.guestSawAddition) failures.push(`${tag}: the guest did not see the card come back`);
      if (!c.readded) failures.push(`${tag}: the card's driver was not registered again`);
      if (!(c.longLivedOnCard?.length > 0 && c.longLivedOnCard.every(Boolean)))
        failures.push(`${tag}: a routed session opened before the return has no alternative on the card's driver`);
      if (!(c.returnedCardIrqs > 0)) failures.push(`${tag}: the card that came back served no request`);
    }
    return c;
  });

  const rss = samples.map((s) => s.rss);
  const fds = samples.map((s) => s.fds);
  const half = samples.filter((s) => s.t >= (minutes * 60_000) / 2);
  const rssGrowth = half.length > 0 ? Math.max(...half.map((s) => s.rss)) - half[0].rss : 0;
  const rssBound = Math.max(RSS_GROWTH_BYTES, RSS_GROWTH_SHARE * (half[0]?.rss ?? 0));
  if (rssGrowth > rssBound) failures.push(`RSS grew ${mib(rssGrowth)} MiB over the second half (bound ${mib(rssBound)} MiB)`);
  const firstDel = dels[0]?.t ?? minutes * 60_000;
  // The reference is the largest count before the first removal: sessions are reopened all the
  // time, so the count swings by tens of descriptors from one sample to the next.
  const before = samples.filter((s) => s.t < firstDel).map((s) => s.fds);
  const fdBaseline = before.length > 0 ? Math.max(...before) : undefined;
  const fdSlack = Math.max(FD_SLACK, Math.round(FD_SLACK_SHARE * (fdBaseline ?? 0)));
  const fdCycles = cycles.map((c, i) => {
    const from = (c.addedAt ?? c.removedAt) + SETTLE_MS;
    const to = cycles[i + 1]?.removedAt ?? minutes * 60_000;
    const window = samples.filter((s) => s.t >= from && s.t < to);
    const settled = median(window.map((s) => s.fds));
    const kept = (window.at(-1)?.abandoned ?? 0) * FDS_PER_KERNEL_SESSION;
    const ok = settled === undefined || fdBaseline === undefined || settled <= fdBaseline + kept + fdSlack;
    if (!ok) failures.push(`cycle ${i + 1}: ${settled} descriptors after the return, baseline ${fdBaseline} + ${kept} kept + ${fdSlack}`);
    return { settled, keptForAbandonedSessions: kept };
  });
  // Once every session is closed, what is left is the process's own plus what is kept on purpose.
  const total = (h) => (h ? Object.values(h).reduce((a, n) => a + n, 0) : undefined);
  const idleBefore = total(r.fdsBeforeWork);
  const idleAfter = total(r.fdsAfterWork);
  const keptAtEnd = (samples.at(-1)?.abandoned ?? 0) * FDS_PER_KERNEL_SESSION;
  if (idleBefore !== undefined && idleAfter !== undefined && idleAfter > idleBefore + keptAtEnd + fdSlack)
    failures.push(
      `${idleAfter} descriptors open once every session closed: ${idleBefore} before the workload + ${keptAtEnd} kept + ${fdSlack}`,
    );
  const kernelFaults = guest.events.filter((e) => e.source === 'kernel' && e.event === 'faults');
  const stat = (xs) => (xs.length ? { first: xs[0], last: xs.at(-1), max: Math.max(...xs) } : {});
  return {
    kernel,
    minutes,
    gapS,
    wallMs,
    bootMs: lab.bootMs,
    requests: r.completed ?? 0,
    issued: r.issued ?? 0,
    verified: r.verified ?? 0,
    lost: r.lost,
    duplicates: r.duplicates,
    wrong: r.wrong,
    untyped: r.untyped,
    errors: r.errors ?? {},
    sessionsOpened: r.sessionsOpened,
    removals: hostEvents.filter((e) => e.event === 'DEVICE_DELETED').length,
    additions: hostEvents.filter((e) => e.event === 'device_add').length,
    rss: { ...stat(rss), secondHalfGrowth: rssGrowth, bound: rssBound },
    fds: {
      ...stat(fds),
      baseline: fdBaseline,
      slack: fdSlack,
      cycles: fdCycles,
      idleBefore,
      idleAfter,
      keptAtEnd,
      beforeWork: r.fdsBeforeWork,
      afterWork: r.fdsAfterWork,
    },
    kernelFaults,
    cycles,
    longLivedRoutes: r.longLivedRoutes,
    lanes: guest.start?.lanes,
    failures,
    wrongs: r.wrongs,
    samples,
    guestEvents: guest.events,
    hostEvents,
  };
}

export function summary(rep) {
  const lines = [
    `soak: ${rep.minutes} min on ${rep.kernel} (wall ${(rep.wallMs / 1000).toFixed(0)} s, boot ${((rep.bootMs ?? 0) / 1000).toFixed(1)} s)`,
    `requests ${rep.requests} (issued ${rep.issued}), verified ${rep.verified}, lost ${rep.lost}, duplicated ${rep.duplicates}, wrong ${rep.wrong}, untyped errors ${rep.untyped}`,
    `errors by code ${JSON.stringify(rep.errors)}; sessions opened ${rep.sessionsOpened}`,
    `removals ${rep.removals}, additions ${rep.additions}; cycles ${rep.cycles
      .map(
        (c) =>
          `${c.card}: gone ${c.guestSawRemoval}/${c.driverFailed}, back ${c.guestSawAddition}/${c.readded}, adopted ${c.routedSessionsAdopted}, routed on card ${JSON.stringify(c.longLivedOnCard)}, irqs ${c.returnedCardIrqs}`,
      )
      .join('; ')}`,
    `RSS first ${mib(rep.rss.first ?? 0)} last ${mib(rep.rss.last ?? 0)} max ${mib(rep.rss.max ?? 0)} MiB (second-half growth ${mib(rep.rss.secondHalfGrowth)}, bound ${mib(rep.rss.bound)})`,
    `fds first ${rep.fds.first} last ${rep.fds.last} max ${rep.fds.max} (baseline ${rep.fds.baseline}; after each return ${rep.fds.cycles.map((c) => `${c.settled} (${c.keptForAbandonedSessions} kept)`).join(', ')})`,
    `fds once every session closed ${rep.fds.idleAfter} (before the workload ${rep.fds.idleBefore}, kept for abandoned kernel sessions ${rep.fds.keptAtEnd})`,
    rep.kernelFaults.length
      ? `kernel faults in the guest's log (not counted as failures):\n  ${rep.kernelFaults.flatMap((f) => f.lines.slice(0, 14)).join('\n  ')}`
      : 'no kernel fault in the guest log',
    rep.failures.length ? `FAILED:\n  ${rep.failures.join('\n  ')}` : 'all checks passed',
  ];
  return lines.join('\n');
}

/** RSS (left axis) and descriptors (right axis) over time; removals red, returns green. */
export function chart(rep) {
  const W = 960;
  const H = 420;
  const m = { l: 70, r: 70, t: 40, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const s = rep.samples;
  const tMax = Math.max(rep.minutes * 60_000, ...s.map((x) => x.t), 1);
  const rMax = Math.max(...s.map((x) => x.rss), 1) * 1.1;
  const fMax = Math.max(...s.map((x) => x.fds), 1) * 1.1;
  const X = (t) => (m.l + (t / tMax) * pw).toFixed(1);
  const Y = (v, max) => (m.t + ph - (v / max) * ph).toFixed(1);
  const line = (f, max, color) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${s.map((x) => `${X(x.t)},${Y(f(x), max)}`).join(' ')}"/>`;
  const marks = rep.hostEvents
    .filter((e) => e.event === 'DEVICE_DELETED' || e.event === 'device_add')
    .map((e) => {
      const color = e.event === 'device_add' ? '#2a2' : '#d22';
      return `<line x1="${X(e.t)}" y1="${m.t}" x2="${X(e.t)}" y2="${m.t + ph}" stroke="${color}" stroke-dasharray="4 3"/><text x="${X(e.t)}" y="${m.t - 4}" font-size="10" text-anchor="middle" fill="${color}">${e.event === 'device_add' ? '+' : '−'}${e.id}</text>`;
    });
  const ticks = [];
  for (let i = 0; i <= 4; i++) {
    const y = m.t + ph - (i / 4) * ph;
    ticks.push(
      `<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#eee"/>`,
      `<text x="${m.l - 6}" y="${y + 4}" font-size="11" text-anchor="end" fill="#24c">${mib((rMax * i) / 4)}</text>`,
      `<text x="${m.l + pw + 6}" y="${y + 4}" font-size="11" fill="#c72">${Math.round((fMax * i) / 4)}</text>`,
    );
  }
  for (let t = 0; t <= tMax; t += 30_000)
    ticks.push(`<text x="${X(t)}" y="${m.t + ph + 16}" font-size="11" text-anchor="middle">${t / 1000}</text>`);
  const title = `kcrypto soak, ${rep.minutes} min, ${rep.kernel}: ${rep.requests} requests, ${rep.removals} removals, lost ${rep.lost}, dup ${rep.duplicates}, ${rep.failures.length ? 'FAILED' : 'passed'}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="18" font-size="14" text-anchor="middle">${title}</text>
${ticks.join('\n')}
<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>
${line((x) => x.rss, rMax, '#24c')}
${line((x) => x.fds, fMax, '#c72')}
${marks.join('\n')}
<text x="${m.l + pw / 2}" y="${H - 12}" font-size="12" text-anchor="middle">seconds</text>
<text x="16" y="${m.t + ph / 2}" font-size="12" fill="#24c" transform="rotate(-90 16 ${m.t + ph / 2})" text-anchor="middle">RSS (MiB)</text>
<text x="${W - 16}" y="${m.t + ph / 2}" font-size="12" fill="#c72" transform="rotate(90 ${W - 16} ${m.t + ph / 2})" text-anchor="middle">open descriptors</text>
<text x="${m.l + 8}" y="${m.t + 14}" font-size="11"><tspan fill="#d22">− removed (DEVICE_DELETED)</tspan>  <tspan fill="#2a2">+ plugged back (device_add)</tspan></text>
</svg>
`;
}
