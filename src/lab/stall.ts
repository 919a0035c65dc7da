/**
 * The lab's stall watchdog: on the host, notices when the guest command's output stops
 * progressing, and reads the guest's answer to the request for a task dump.
 *
 * A run whose command is wedged (a thread stuck in the kernel on a removed device, a process
 * that can never finish exiting, a read that a driver never answers) would otherwise sit until
 * the run's time limit, with nothing to say why. When no output has come for the stall time,
 * the host asks the guest for its state: stage 2's watchdog loop sees the request on the share
 * and runs the shell function of {@link renderTaskDump}, which writes what the kernel says (the
 * tasks in uninterruptible sleep and their stacks, the sysrq `w` and `t` dumps, the processes);
 * the host then ends the run with that in the result.
 */

/**
 * Default stall time. The lab's passes print at least one line per test as it ends; the
 * longest legitimate silences under TCG are single tests of a couple of minutes (the hot-unplug
 * test waits up to ~3.5 min for a removal to settle), so this leaves room for twice that.
 */
export const DEFAULT_STALL_MS = 8 * 60_000;

/** How long the host waits for the guest's task dump before ending QEMU without it. */
export const DUMP_WAIT_MS = 20_000;

/** What the host knows of a stalled run. */
export interface LabStall {
  /** How long the command had been silent when the watchdog fired. */
  silentMs: number;
  /** The lab pass the command was in (`=== lab pass: NAME ===` lines of scripts/lab-suite.js). */
  pass?: string;
  /** The last line of output before the silence. */
  lastLine?: string;
  /** Threads the guest found in uninterruptible sleep: `comm pid/tid in wchan`. */
  blocked: string[];
  /** Whether the guest answered the request for a task dump. */
  answered: boolean;
  /** The guest's task dump, as written (empty when it did not answer). */
  diagnostics: string;
  /** The guest kernel's own report of faults (oopses, lockups), if the console has one. */
  kernelFaults?: string;
}

/** scripts/lab-suite.js's lines at the start and the end of a pass. */
const PASS_LINE = /^=== lab pass: (.*?)(: (?:ok|FAILED) in \d+ s)? ===$/;

/**
 * Follows the command's output and says when it has been silent for `stallMs`. Armed by
 * {@link StallWatch.arm} (when the command starts: booting is bounded by the run's time limit),
 * disarmed for good by {@link StallWatch.disarm} (once the guest has reported a status).
 */
export class StallWatch {
  private lastAt: number | undefined;
  private fired = false;
  private partial = '';
  private pass: string | undefined;
  private last: string | undefined;

  /** `stallMs` 0 turns the watchdog off. */
  constructor(
    readonly stallMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isFinite(stallMs) || stallMs < 0) throw new RangeError(`invalid stall time: ${stallMs} ms`);
  }

  /** Starts the clock (once; later calls keep the first time). */
  arm(): void {
    this.lastAt ??= this.now();
  }

  /** Stops the watchdog for the rest of the run. */
  disarm(): void {
    this.fired = true;
  }

  get armed(): boolean {
    return this.lastAt !== undefined && !this.fired && this.stallMs > 0;
  }

  /** A chunk of the command's output (either stream): progress. */
  output(chunk: string): void {
    if (chunk.length === 0) return;
    if (this.lastAt !== undefined) this.lastAt = this.now();
    const lines = (this.partial + chunk).replace(/\r/g, '').split('\n');
    this.partial = (lines.pop() ?? '').slice(-4096);
    for (const line of [...lines, this.partial]) {
      const text = line.trim();
      if (text === '') continue;
      this.last = text;
      const pass = PASS_LINE.exec(text);
      if (pass?.[1] !== undefined) this.pass = pass[2] === undefined ? pass[1] : `${pass[1]} (ended)`;
    }
  }

  /** The pass the output is in, if it names one. */
  get currentPass(): string | undefined {
    return this.pass;
  }

  /**
   * Whether the output has now been silent for the stall time: returns the silence (ms) the
   * first time it has, and `undefined` otherwise and ever after.
   */
  check(): number | undefined {
    if (!this.armed || this.lastAt === undefined) return undefined;
    const silent = this.now() - this.lastAt;
    if (silent < this.stallMs) return undefined;
    this.fired = true;
    return silent;
  }

  /** What is known of the stall, with the guest's dump (`undefined`: it did not answer). */
  describe(silentMs: number, diagnostics: string | undefined, kernelFaults?: string): LabStall {
    return {
      ...(kernelFaults !== undefined ? { kernelFaults } : {}),
      silentMs,
      ...(this.pass !== undefined ? { pass: this.pass } : {}),
      ...(this.last !== undefined ? { lastLine: this.last.slice(0, 200) } : {}),
      blocked: blockedTasks(diagnostics ?? ''),
      answered: diagnostics !== undefined,
      diagnostics: diagnostics ?? '',
    };
  }
}

/** Marker of one thread in uninterruptible sleep in the guest's dump (see scripts.ts). */
export const BLOCKED_PREFIX = 'blocked:';

/** The threads in uninterruptible sleep that the guest's dump lists, as `comm pid/tid in wchan`. */
export function blockedTasks(diagnostics: string): string[] {
  const out: string[] = [];
  // comm last: it is the only field that may hold spaces.
  const re = new RegExp(`^${BLOCKED_PREFIX} pid=(\\d+) tid=(\\d+) wchan=(\\S*) comm=(.*)$`);
  for (const line of diagnostics.split('\n')) {
    const m = re.exec(line);
    if (m) out.push(`${m[4]} ${m[1]}/${m[2]} in ${m[3] === '' || m[3] === '0' || m[3] === '?' ? '?' : m[3]}`);
  }
  return out;
}

/** The one-line account of a stall, for the run's error. */
export function stallMessage(s: LabStall): string {
  const where = s.pass !== undefined ? ` in pass "${s.pass}"` : '';
  const last = s.lastLine !== undefined ? ` (last output: ${JSON.stringify(s.lastLine)})` : '';
  const dump = !s.answered
    ? `the guest did not answer the request for a task dump within ${DUMP_WAIT_MS / 1000} s (wedged as a whole?)`
    : s.blocked.length === 0
      ? 'task dump: no task in uninterruptible sleep'
      : `task dump: ${s.blocked.length} thread(s) in uninterruptible sleep: ${s.blocked.slice(0, 6).join(', ')}${s.blocked.length > 6 ? ', ...' : ''}`;
  const faults = s.kernelFaults !== undefined ? `; the guest kernel reported ${s.kernelFaults}` : '';
  return `stalled: no output for ${Math.round(s.silentMs / 1000)} s${where}${last}; ${dump}${faults}`;
}

/**
 * The shell function `dump_tasks` that stage 2's watchdog runs when the host asks for a task
 * dump (`$bb` is busybox, `$P` the proc root, `$SYSRQ` the sysrq trigger file, `$DMESG` the
 * kernel log reader, taking `-c` to clear what it read): the threads in
 * uninterruptible sleep with their wait channel and kernel stack (one {@link BLOCKED_PREFIX}
 * line each, which the host reads), every user thread's state and wait channel, the end of the
 * kernel log, the kernel's own dumps of the blocked tasks (sysrq `w`) and of all tasks (sysrq
 * `t`), and the process list. Only what cannot block comes first: a process's command line
 * needs its memory map's lock, which a thread stuck in the kernel may hold, so `ps` is last.
 */
export function renderTaskDump(): string {
  return `dump_tasks() {
  read -r up _ < "$P/uptime"; read -r load < "$P/loadavg"
  echo "=== guest uptime $up s, load $load"
  echo "=== threads in uninterruptible sleep (D): pid/tid, command, wait channel, kernel stack"
  for t in "$P"/[0-9]*/task/[0-9]*; do
    { read -r s < "$t/stat"; } 2>/dev/null || continue
    r=\${s##*) }
    [ "\${r%% *}" = D ] || continue
    c=\${s#*(}; c=\${c%)*}
    w=; { read -r w < "$t/wchan"; } 2>/dev/null
    pid=\${t#"$P"/}; pid=\${pid%%/*}
    echo "${BLOCKED_PREFIX} pid=$pid tid=\${t##*/} wchan=\${w:-?} comm=$c"
    $bb cat "$t/stack" 2>/dev/null | $bb sed 's/^/    /'
  done
  echo "=== user threads: pid/tid state wait-channel command"
  for t in "$P"/[0-9]*/task/[0-9]*; do
    { read -r s < "$t/stat"; } 2>/dev/null || continue
    r=\${s##*) }; set -- $r
    pid=\${t#"$P"/}; pid=\${pid%%/*}
    # Kernel threads are kthreadd (2) and its children.
    [ "$pid" = 2 ] || [ "$2" = 2 ] && continue
    w=; { read -r w < "$t/wchan"; } 2>/dev/null
    c=\${s#*(}; c=\${c%)*}
    echo "$pid/\${t##*/} $1 \${w:-0} $c"
  done
  echo "=== kernel log (last 80 lines)"
  $DMESG 2>&1 | $bb tail -n 80
  # Cleared, so that each sysrq dump below is read alone (and fits the log's ring).
  $DMESG -c >/dev/null 2>&1
  echo "=== sysrq w: blocked tasks"
  echo w > "$SYSRQ" && $DMESG -c 2>&1
  echo "=== sysrq t: all tasks"
  echo t > "$SYSRQ" && $DMESG -c 2>&1
  echo "=== processes"
  $bb ps -o pid,ppid,stat,args 2>&1
}`;
}
