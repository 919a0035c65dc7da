/**
 * How the guest tells the host that the command has ended, and with what status.
 *
 * Three channels, most trusted first:
 * - the `status` file stage 2 writes once the command has exited;
 * - the `verdict` file the command itself may write (`KCRYPTO_LAB_VERDICT_FILE`) when it knows
 *   its result but may not be able to exit: a process with a thread stuck in the kernel (a
 *   request in flight on a removed device) never finishes exiting, so stage 2 never sees it end;
 * - the exit marker stage 2 prints on the console, for a share that stopped working.
 *
 * Once any of them has spoken the run is over as far as the host is concerned: the guest gets
 * {@link REPORT_GRACE_MS} to power off, and after that the host ends QEMU itself. Powering off
 * goes through the guest kernel, which can wait forever on a device that went away mid-request.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EXIT_MARKER, SHARE_FILES } from './scripts.js';

/**
 * Time the guest has to power off after reporting, before the host ends QEMU. Stage 2 leaves
 * through the debug-exit port ~2 s after the status; after a verdict, the command only has to
 * exit. A command that cannot (a thread stuck in the kernel) holds the run no longer than this.
 */
export const REPORT_GRACE_MS = 10_000;

/** Where a status came from. */
export type ReportSource = 'status' | 'verdict' | 'console';

/** The command's exit status as the guest reported it. */
export interface GuestReport {
  status: number;
  source: ReportSource;
}

function readStatusFile(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // A file caught half-written (or holding anything else) is no report.
  return /^\d{1,3}\s*$/.test(text) ? Number(text.trim()) : undefined;
}

/**
 * The guest's report, if it has made one: the status file, else the command's own verdict,
 * else the console marker.
 */
export function readGuestReport(shareDir: string, consoleText: string): GuestReport | undefined {
  const status = readStatusFile(path.join(shareDir, SHARE_FILES.status));
  if (status !== undefined) return { status, source: 'status' };
  const verdict = readStatusFile(path.join(shareDir, SHARE_FILES.verdict));
  if (verdict !== undefined) return { status: verdict, source: 'verdict' };
  const marker = new RegExp(`${EXIT_MARKER} (\\d{1,3})\\b`).exec(consoleText);
  if (marker?.[1] !== undefined) return { status: Number(marker[1]), source: 'console' };
  return undefined;
}

/**
 * Watches for the guest's report and calls `onOverdue` once, `graceMs` after the first report,
 * if the run has not been stopped by then. `poll()` is called by the host's poller; `stop()`
 * when QEMU has ended.
 */
export class ReportWatch {
  private reportedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly shareDir: string,
    private readonly consoleText: () => string,
    private readonly onOverdue: (report: GuestReport) => void,
    private readonly graceMs: number = REPORT_GRACE_MS,
  ) {}

  /** When the first report was seen (ms since the epoch), if one was. */
  get reportedAtMs(): number | undefined {
    return this.reportedAt;
  }

  poll(): void {
    if (this.stopped || this.reportedAt !== undefined) return;
    const report = readGuestReport(this.shareDir, this.consoleText());
    if (report === undefined) return;
    this.reportedAt = Date.now();
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.stopped = true;
      // Read again: stage 2's status may have arrived after the command's verdict.
      this.onOverdue(readGuestReport(this.shareDir, this.consoleText()) ?? report);
    }, this.graceMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

/** What the guest kernel said of its own faults on the console. */
export interface KernelFaults {
  /** Oopses, BUGs, panics, lockups and RCU stalls seen (in the console's retained tail). */
  count: number;
  /** The first one: its headline, where it hit, and what called that. */
  first: string;
}

const FAULT_LINE =
  /^\[\s*[\d.]+\] ((?:Oops|BUG|kernel BUG at|Kernel panic - not syncing|watchdog: BUG: soft lockup|Watchdog detected hard LOCKUP|rcu: INFO: \S+ detected stalls)\b.*)$/;

/**
 * The faults the guest kernel reported on the console: a run can pass while the kernel under it
 * faults (a thread killed in a driver), and such a fault is usually why a later step wedges.
 */
export function guestKernelFaults(consoleText: string): KernelFaults | undefined {
  const lines = consoleText.replace(/\r/g, '').split('\n');
  let count = 0;
  let first: string | undefined;
  for (const [i, line] of lines.entries()) {
    const m = FAULT_LINE.exec(line);
    if (!m?.[1]) continue;
    count++;
    if (first !== undefined) continue;
    const after = lines.slice(i + 1, i + 60);
    const rip = after.map((l) => /\] RIP: 0010:(\S+)/.exec(l)?.[1]).find((x) => x !== undefined);
    // The first frame of the call trace that is not a guess ("? ").
    const trace = after.findIndex((l) => l.includes('Call Trace:'));
    const caller =
      trace < 0
        ? undefined
        : after
            .slice(trace + 1)
            .map((l) => /\]\s+([A-Za-z_][\w.]*\+0x[0-9a-f]+\/0x[0-9a-f]+(?: \[\w+\])?)$/.exec(l)?.[1])
            .find((x) => x !== undefined);
    first = [m[1].trim(), rip && `at ${rip}`, caller && `from ${caller}`].filter(Boolean).join(' ');
  }
  return first === undefined ? undefined : { count, first };
}
