/** One boot of the guest: QEMU started, watched, stopped, and its outcome read back. */
import { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { guestKernelFaults, readGuestReport, ReportWatch, REPORT_GRACE_MS, type GuestReport } from './guest-report.js';
import { DEFAULT_TIMEOUT_MS, type LabOptions, type LabResult, type LabStream } from './options.js';
import { OutputTail } from './output-tail.js';
import type { Prepared } from './prepare.js';
import { EXIT_LAB_FAILURE, EXIT_TIMEOUT, FAIL_MARKER, SHARE_FILES } from './scripts.js';
import { DEFAULT_STALL_MS, DUMP_WAIT_MS, stallMessage, StallWatch } from './stall.js';

/** Keeps the last `limit` bytes written to it. */
class RingText {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The interesting lines of the console for an error report. */
function tailLines(text: string, lines: number): string {
  return text.replace(/\r/g, '').trimEnd().split('\n').slice(-lines).join('\n');
}

function signalFromStatus(status: number): NodeJS.Signals | undefined {
  if (status <= 128 || status >= 128 + 65) return undefined;
  const n = status - 128;
  const entry = Object.entries(os.constants.signals).find(([, num]) => num === n);
  return entry?.[0] as NodeJS.Signals | undefined;
}

export async function boot(options: LabOptions, p: Prepared, t0: number, setChild: (c: ChildProcess) => void): Promise<LabResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const onOutput =
    options.onOutput ??
    ((stream: LabStream, chunk: Buffer): void => {
      (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
    });
  const consoleText = new RingText(64 * 1024);

  const spawnedAt = Date.now();
  const child = spawn(p.qemu, p.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  setChild(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const onConsole = (chunk: Buffer): void => {
    consoleText.push(chunk);
    if (options.verbose) process.stderr.write(chunk);
  };
  child.stdout?.on('data', onConsole);
  child.stderr?.on('data', onConsole);

  let hostTimedOut = false;
  let stopped = false;
  let interrupted: NodeJS.Signals | undefined;
  let bootMs: number | undefined;
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // QEMU ends at SIGTERM; SIGKILL only if it is itself stuck (e.g. on a hung 9p request).
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  };

  const stall = new StallWatch(options.stallMs ?? DEFAULT_STALL_MS);
  /** Set when the stall watchdog fired: how long the output had been silent. */
  let stalledMs: number | undefined;
  let dumpAskedAt = 0;
  const dumpedFile = path.join(p.shareDir, SHARE_FILES.dumped);
  const tails = (['stdout', 'stderr'] as const).map(
    (stream) =>
      new OutputTail(path.join(p.shareDir, SHARE_FILES[stream]), (chunk) => {
        stall.output(chunk.toString('utf8'));
        onOutput(stream, chunk);
      }),
  );
  const startedFile = path.join(p.shareDir, SHARE_FILES.started);
  let overdue: GuestReport | undefined;
  const reportWatch = new ReportWatch(
    p.shareDir,
    () => consoleText.text(),
    (report) => {
      overdue = report;
      kill();
    },
  );
  let polls = 0;
  const poller = setInterval(() => {
    if (bootMs === undefined && fs.existsSync(startedFile)) {
      bootMs = Date.now() - spawnedAt;
      // The silence is measured from the command's start: booting is the time limit's business.
      stall.arm();
    }
    for (const t of tails) t.poll();
    // The report files are checked less often than the output: one stat of the share per second.
    if (++polls % 20 !== 0) return;
    reportWatch.poll();
    // Once the guest has reported, the report's grace ends the run, not the silence.
    if (reportWatch.reportedAtMs !== undefined) stall.disarm();
    if (stalledMs === undefined) {
      stalledMs = stall.check();
      if (stalledMs !== undefined) {
        // Stage 2's watchdog loop answers within a second or two with the guest's task dump.
        dumpAskedAt = Date.now();
        process.stderr.write(
          `kcrypto lab: no output for ${Math.round(stalledMs / 1000)} s on ${p.kernel.version}; asking the guest for a task dump\n`,
        );
        try {
          fs.writeFileSync(path.join(p.shareDir, SHARE_FILES.dumpRequest), `${Math.round(stalledMs / 1000)}\n`);
        } catch {
          kill();
        }
      }
    } else if (dumpAskedAt > 0 && (fs.existsSync(dumpedFile) || Date.now() - dumpAskedAt >= DUMP_WAIT_MS)) {
      dumpAskedAt = 0;
      kill();
    }
  }, 50);

  const hostTimer = setTimeout(() => {
    hostTimedOut = true;
    kill();
  }, timeoutMs);
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    kill();
  };
  const onAbort = (): void => {
    stopped = true;
    kill();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();

  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('error', (err) => resolve(err));
    child.once('spawn', () => {
      options.onStart?.({
        kernel: p.kernel.version,
        pid: child.pid ?? -1,
        ...(p.qmpSocketPath !== undefined ? { qmpSocketPath: p.qmpSocketPath } : {}),
        stop: onAbort,
      });
      resolve(undefined);
    });
  });
  const exit = spawnError ? { code: null, signal: null } : await exited;

  clearInterval(poller);
  clearTimeout(hostTimer);
  reportWatch.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  options.signal?.removeEventListener('abort', onAbort);
  if (bootMs === undefined && fs.existsSync(startedFile)) bootMs = Date.now() - spawnedAt;
  for (const t of tails) t.close();

  const base = {
    kernel: p.kernel.version,
    durationMs: Date.now() - t0,
    ...(bootMs !== undefined ? { bootMs } : {}),
  };
  const consoleAll = consoleText.text();
  const faults = guestKernelFaults(consoleAll);
  if (faults !== undefined) {
    process.stderr.write(
      `kcrypto lab: the guest kernel reported ${faults.count} fault(s) on ${p.kernel.version}; the first: ${faults.first}\n`,
    );
  }
  const withConsole = (error: string): { error: string; consoleTail: string } => ({
    error,
    consoleTail: tailLines(consoleAll, 40),
  });

  if (interrupted) {
    const result: LabResult = {
      ...base,
      exitCode: 128 + (os.constants.signals[interrupted] ?? 2),
      timedOut: false,
      interrupted,
      error: `interrupted by ${interrupted}`,
    };
    // Nobody else handles the signal: after cleaning up (the caller's finally), behave as the
    // signal would have without our handler, i.e. end the process.
    if (process.listenerCount(interrupted) === 0) {
      setImmediate(() => process.kill(process.pid, interrupted));
    }
    return result;
  }
  if (spawnError)
    return { ...base, exitCode: EXIT_LAB_FAILURE, timedOut: false, ...withConsole(`cannot start QEMU: ${spawnError.message}`) };
  if (stalledMs !== undefined && !stopped) {
    const dumped = fs.existsSync(dumpedFile);
    let diagnostics: string | undefined;
    try {
      diagnostics = fs.readFileSync(path.join(p.shareDir, SHARE_FILES.diagnostics), 'utf8');
    } catch {
      diagnostics = undefined;
    }
    // A dump cut short (the guest blocked in the middle of it) still says something.
    const stalled = stall.describe(
      stalledMs,
      dumped || (diagnostics ?? '') !== '' ? (diagnostics ?? '') : undefined,
      faults && `${faults.count} fault(s), the first: ${faults.first}`,
    );
    return { ...base, exitCode: EXIT_TIMEOUT, timedOut: false, stalled, ...withConsole(stallMessage(stalled)) };
  }

  const report = readGuestReport(p.shareDir, consoleAll);
  const status = report?.status;
  const guestTimedOut = fs.existsSync(path.join(p.shareDir, SHARE_FILES.timedOut));
  if (overdue !== undefined && report !== undefined) {
    // The command's result is in; only the guest's power-off hung. That is not the command's
    // failure, but it is worth a line: it usually means a device left a thread in the kernel.
    const how = report.source === 'verdict' ? 'the command reported its status but did not exit' : 'the guest did not power off';
    process.stderr.write(
      `kcrypto lab: ${how} within ${Math.round(REPORT_GRACE_MS / 1000)} s on ${p.kernel.version}; QEMU stopped (status ${report.status})\n`,
    );
  }
  if (hostTimedOut && overdue === undefined) {
    return {
      ...base,
      exitCode: EXIT_TIMEOUT,
      timedOut: true,
      ...withConsole(`QEMU killed after ${Math.round(timeoutMs / 1000)} s (run time limit)`),
    };
  }
  if (stopped) return { ...base, exitCode: EXIT_LAB_FAILURE, timedOut: false, error: 'stopped by the caller' };
  if (status === undefined) {
    const failed = new RegExp(`${FAIL_MARKER}: (.*)`).exec(consoleAll)?.[1]?.trim();
    const panic = /Kernel panic - not syncing: (.*)/.exec(consoleAll)?.[1]?.trim();
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    const error = failed
      ? `guest setup failed: ${failed}`
      : panic
        ? `guest kernel panic: ${panic}`
        : `QEMU ended (${how}) without the guest reporting an exit status`;
    return { ...base, exitCode: EXIT_LAB_FAILURE, timedOut: false, ...withConsole(error) };
  }
  const signal = guestTimedOut ? undefined : signalFromStatus(status);
  return {
    ...base,
    exitCode: status,
    timedOut: guestTimedOut,
    ...(signal ? { signal } : {}),
  };
}
