/**
 * The two shell scripts that run inside the lab guest, rendered from plain data so that
 * they can be unit-tested without booting anything.
 *
 * - Stage 1 is the initramfs `/init` (busybox `sh`): it loads the modules needed to reach the
 *   host's root over 9p, builds the writable overlay root, mounts the run's share and
 *   switch_roots.
 * - Stage 2 lives on the share and runs as PID 1 of the new root (the host's `/bin/sh`): it
 *   mounts the pseudo filesystems, loads the crypto drivers, applies the requested sysctls,
 *   runs the command (as root, or as an unprivileged user through the host's `setpriv`) with
 *   a watchdog, records the exit status on the share and powers off. The watchdog also
 *   answers the host's request for a task dump (see stall.ts).
 */
import { renderTaskDump } from './stall.js';

/** Where stage 1 mounts the run's writable share inside the new root. */
export const GUEST_SHARE_DIR = '/run/kcrypto-lab';

/** 9p mount tags shared between the QEMU command line and the guest scripts. */
export const ROOT_TAG = 'hostroot';
export const SHARE_TAG = 'kcryptolab';

/** Names of the files the guest and the host exchange on the share. */
export const SHARE_FILES = {
  stage2: 'stage2.sh',
  stdout: 'stdout',
  stderr: 'stderr',
  status: 'status',
  started: 'started',
  timedOut: 'timed-out',
  /** Written by the command itself when it knows its result but may not be able to exit. */
  verdict: 'verdict',
  /** Made by the host when the command's output has stalled: the guest dumps its tasks. */
  dumpRequest: 'dump-request',
  /** The guest's task dump, written as it goes. */
  diagnostics: 'diagnostics',
  /** Made by the guest once the task dump is complete. */
  dumped: 'dumped',
  modulesDir: 'modules',
} as const;

/** Console line written just before power-off; a fallback for the status file. */
export const EXIT_MARKER = 'KCRYPTO-LAB-EXIT';
/** Console line written when the guest cannot set itself up. */
export const FAIL_MARKER = 'KCRYPTO-LAB-FAIL';

/**
 * I/O port of QEMU's `isa-debug-exit` device: a write to it ends QEMU at once, without the
 * guest kernel's shutdown path.
 */
export const DEBUG_EXIT_PORT = 0xf4;

/** Exit status used when the command ran out of time (as `timeout(1)` does). */
export const EXIT_TIMEOUT = 124;
/** Exit status used when the lab itself failed (as `timeout(1)` does for its own errors). */
export const EXIT_LAB_FAILURE = 125;

/**
 * 9p payload size. The default (8 KiB on 6.1) makes every read of node or a test file take
 * many round trips through the emulator; virtio's limit is just under 512 KiB.
 */
const MSIZE = 512000;

/** Body of the scripts' `log` function in verbose mode: message with the guest's uptime. */
const VERBOSE_LOG = 'read -r up _ < /proc/uptime; echo "kcrypto-lab [$up s]: $*"';

/** Quotes a string for POSIX `sh` (single quotes, with embedded ones spliced in). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Inputs of {@link renderInitScript}. */
export interface InitScriptConfig {
  /** Modules to `insmod` from the initramfs's `/lib/modules/<name>.ko`, in load order. */
  modules: readonly string[];
  /** Echo progress to the console. */
  verbose?: boolean;
}

/** Renders the initramfs `/init` (stage 1). */
export function renderInitScript(config: InitScriptConfig): string {
  const insmods = config.modules.map((m) => `insmod /lib/modules/${m}.ko || fail "insmod ${m}"`).join('\n');
  const p9 = `trans=virtio,version=9p2000.L,msize=${MSIZE}`;
  return `#!/bin/sh
# kcrypto lab, stage 1 (initramfs /init): reach the host's root over 9p, put a writable
# tmpfs overlay on it, mount this run's share, and hand over to stage 2 on the share.
export PATH=/bin
fail() {
  echo "${FAIL_MARKER}: $*"
  poweroff -f
  sleep 3600
}
log() { ${config.verbose ? VERBOSE_LOG : ':'}; }

mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
mount -t proc proc /proc || fail "mount proc"
log "loading ${config.modules.length} modules"
${insmods}
log "mounting the host root"
# cache=mmap: executables and libraries are paged in through the page cache in large reads
# (node starts in ~1.7 s instead of ~3 s), while plain reads stay uncached and so coherent
# with changes the host makes during the run.
mount -t 9p -o ro,cache=mmap,${p9} ${ROOT_TAG} /mnt/lower || fail "mount 9p ${ROOT_TAG}"
# tmpfs upper: guest writes land in guest memory and never reach the host.
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail "mount tmpfs"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay /newroot || fail "mount overlay"
# A fresh /run: the host's pid files and sockets mean nothing here.
mount -t tmpfs -o mode=0755 tmpfs /newroot/run || fail "mount /run"
mkdir -p /newroot${GUEST_SHARE_DIR}
mount -t 9p -o ${p9} ${SHARE_TAG} /newroot${GUEST_SHARE_DIR} || fail "mount 9p ${SHARE_TAG}"
[ -r /newroot${GUEST_SHARE_DIR}/${SHARE_FILES.stage2} ] || fail "no stage 2 script on the share"

log "switching root"
umount /proc
mount --move /dev /newroot/dev || fail "move /dev"
exec switch_root /newroot /bin/sh ${GUEST_SHARE_DIR}/${SHARE_FILES.stage2}
fail "switch_root"
`;
}

/**
 * When the guest gives up on the command: as a host wall-clock time (the guest's clock is set
 * from the host's through the emulated RTC) and, in case the guest's clock is not set, as
 * seconds of guest uptime.
 */
export interface GuestDeadline {
  /** Seconds since the epoch. */
  epochSec: number;
  /** Seconds since the guest kernel started. */
  uptimeSec: number;
}

/**
 * The guest watchdog's deadline for a run limited to `timeoutMs` that starts at
 * `startMs` (host epoch ms). It comes a little before the host's own limit, so that normally
 * the guest stops itself with its output complete, and the host's kill of QEMU is only the
 * backstop for a guest that is stuck as a whole.
 */
export function guestDeadline(timeoutMs: number, startMs: number): GuestDeadline {
  // Powering off takes well under a second; the margin also absorbs the RTC's 1 s
  // resolution and the time before the guest kernel starts.
  const margin = Math.min(15_000, Math.max(3_000, timeoutMs / 10));
  const budget = Math.max(1_000, timeoutMs - margin);
  return { epochSec: Math.floor((startMs + budget) / 1000), uptimeSec: Math.max(1, Math.floor(budget / 1000) - 1) };
}

/** Inputs of {@link renderStage2Script}. */
export interface Stage2Config {
  /** The command and its arguments (not interpreted by a shell). */
  command: readonly string[];
  /** Working directory of the command (a path of the host root, seen identically by the guest). */
  cwd: string;
  /** The command's complete environment. */
  env: Readonly<Record<string, string>>;
  /** Modules to `modprobe` before the command; failures are tolerated. */
  cryptoModules: readonly string[];
  /** How many `modprobe` processes load them side by side (default 1). */
  modprobeJobs?: number;
  /** Module files (guest paths) to `insmod` after them, in order, with their parameters; a failure aborts the run. */
  extraModules: readonly { path: string; params: readonly string[] }[];
  /** When the guest's watchdog records a timeout and powers off; see {@link GuestDeadline}. */
  deadline: GuestDeadline;
  /** The run's time limit, for the timeout message. */
  limitSec: number;
  /** Mount a fresh tmpfs on /tmp (off when the command's cwd lives under /tmp). */
  mountTmp: boolean;
  /**
   * sysctls (`crypto.af_alg_restrict` → `0`) written after all modules are loaded, just before
   * the command starts; a name the kernel lacks or a value it refuses aborts the run.
   */
  sysctls?: Readonly<Record<string, string>>;
  /** Run the command as this identity with no capabilities instead of as root. */
  unprivileged?: UnprivilegedConfig;
  /** Echo progress and module load errors to the console. */
  verbose?: boolean;
}

/**
 * Loads modules with `modprobe -a`, split round-robin over `jobs` background processes. Most
 * of the time goes to the crypto self-tests that each driver runs when it registers, which
 * are CPU-bound in the kernel: with one job per guest CPU they overlap. (A module needed by
 * two jobs at once is fine: the kernel makes the second loader wait for the first.)
 */
export function renderModprobes(modules: readonly string[], jobs: number, sink: string): string {
  if (modules.length === 0) return ': no crypto modules to load';
  const groups: string[][] = Array.from({ length: Math.max(1, Math.min(jobs, modules.length)) }, () => []);
  modules.forEach((m, i) => groups[i % groups.length]?.push(m));
  const lines = groups.map(
    (g, i) =>
      `{ /sbin/modprobe -a -q ${g.map(shellQuote).join(' ')} >${sink} 2>&1 || log "some of ${g.join(' ')} did not load"; } & m${i}=$!`,
  );
  // Only these jobs: the watchdog is a background job too.
  return [...lines, `wait ${groups.map((_, i) => `$m${i}`).join(' ')}`].join('\n');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Characters of a sysctl name; anything else (spaces, quotes, `..`) is refused before it reaches a shell. */
const SYSCTL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:@+/-]*$/;

/**
 * The `/proc/sys` file of a sysctl name, by sysctl(8)'s rule: dots separate the levels
 * (`crypto.af_alg_restrict`), unless the name contains a slash, in which case slashes do and
 * dots are part of a level (`net/ipv4/conf/eth0.100/rp_filter`).
 *
 * @throws Error for a name that is empty, has an empty level, or climbs out of /proc/sys.
 */
export function sysctlPath(name: string): string {
  const levels = name.includes('/') ? name.replace(/^\/+/, '').split('/') : name.split('.');
  if (!SYSCTL_NAME.test(name.replace(/^\/+/, '')) || levels.some((l) => l === '' || l === '.' || l === '..')) {
    throw new Error(`invalid sysctl name: ${JSON.stringify(name)}`);
  }
  return `/proc/sys/${levels.join('/')}`;
}

/** The identity an unprivileged command runs as: Debian's `nobody` / `nogroup`. */
export const UNPRIVILEGED_ID = 65534;
/** HOME of an unprivileged command: made afresh, owned by it, on the guest's /tmp. */
export const UNPRIVILEGED_HOME = '/tmp/kcrypto-lab-home';

/** How stage 2 drops root for the command (see {@link Stage2Config.unprivileged}). */
export interface UnprivilegedConfig {
  /** util-linux `setpriv`, by a path the guest sees (the host's, through the 9p root). */
  setpriv: string;
  uid: number;
  gid: number;
  /** Directory created for the command and owned by it (its HOME). */
  home: string;
}

/**
 * The `setpriv` words that run a command as `uid`/`gid` with no supplementary groups and no
 * capabilities in any set: the bounding set is cleared too, and no_new_privs keeps a setuid
 * program from getting any back.
 */
export function setprivPrefix(u: UnprivilegedConfig): string[] {
  if (!Number.isInteger(u.uid) || !Number.isInteger(u.gid) || u.uid <= 0 || u.gid <= 0) {
    throw new Error(`invalid unprivileged identity ${u.uid}:${u.gid}`);
  }
  return [
    u.setpriv,
    `--reuid=${u.uid}`,
    `--regid=${u.gid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
  ];
}

/**
 * Writes each sysctl, in order. A name this kernel does not have, or a value it refuses, ends
 * the run with {@link EXIT_LAB_FAILURE}: a test run with a setting silently missing would
 * measure the wrong thing.
 */
export function renderSysctls(sysctls: Readonly<Record<string, string>>, stderrFile: string): string {
  const lines = Object.entries(sysctls).map(([name, value]) => {
    const file = shellQuote(sysctlPath(name));
    return [
      `[ -f ${file} ] || finish ${EXIT_LAB_FAILURE} "sysctl ${name} does not exist on kernel $($bb uname -r)"`,
      `printf '%s\\n' ${shellQuote(value)} > ${file} 2>>"${stderrFile}" || finish ${EXIT_LAB_FAILURE} "cannot set sysctl ${name} to "${shellQuote(value)}`,
    ].join('\n');
  });
  return lines.length > 0 ? lines.join('\n') : ': no sysctls to set';
}

/**
 * Prepares the guest for a command that runs as `u`: its HOME, its working directory (given
 * to it in the guest's overlay, so that it can create files there; the rest of the tree stays
 * root's) and the verdict file (made writable for it, since the share is root's).
 */
function renderUnprivilegedSetup(u: UnprivilegedConfig, cwd: string, shareDir: string): string {
  const id = `${u.uid}:${u.gid}`;
  const home = shellQuote(u.home);
  return [
    `$bb mkdir -p ${home} && $bb chown ${id} ${home} && $bb chmod 0700 ${home} || finish ${EXIT_LAB_FAILURE} "cannot make the home directory ${u.home.replace(/["$`\\]/g, '')}"`,
    `$bb chown ${id} ${shellQuote(cwd)} 2>/dev/null || log "the working directory stays root's"`,
    `: > "${shareDir}/${SHARE_FILES.verdict}" && $bb chmod 0666 "${shareDir}/${SHARE_FILES.verdict}"`,
  ].join('\n');
}

/** Renders stage 2, the per-run script that stage 1 executes from the share. */
export function renderStage2Script(config: Stage2Config): string {
  if (config.command.length === 0) throw new Error('the lab needs a command to run');
  const { epochSec, uptimeSec } = config.deadline;
  if (!Number.isInteger(epochSec) || !Number.isInteger(uptimeSec) || uptimeSec < 1) {
    throw new Error(`invalid guest deadline: ${JSON.stringify(config.deadline)}`);
  }
  const envArgs = Object.entries(config.env).map(([k, v]) => {
    if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
    return shellQuote(`${k}=${v}`);
  });
  const L = GUEST_SHARE_DIR;
  const f = SHARE_FILES;
  const debugSink = config.verbose ? '/dev/console' : '/dev/null';
  const insmods = config.extraModules
    .map(
      (m) =>
        `/sbin/insmod ${[m.path, ...m.params].map(shellQuote).join(' ')} 2>>"$L/${f.stderr}" || finish ${EXIT_LAB_FAILURE} "insmod ${m.path.replace(/["$`\\]/g, '')} failed"`,
    )
    .join('\n');
  return `#!/bin/sh
# kcrypto lab, stage 2 (PID 1 of the overlay root): set up, run the command under a
# watchdog, leave its exit status on the share, power off.
L=${L}
# Set-up steps use the host's static busybox rather than util-linux / coreutils: under
# emulation, loading each dynamically linked tool's libraries over 9p costs ~0.1 s.
bb=/bin/busybox
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
log() { ${config.verbose ? VERBOSE_LOG : ':'}; }
poweroff_now() {
  # Only the copy of busybox in guest memory from here on: with the share or the host's root
  # stuck (a 9p request that never returns), starting a program from them would hang too.
  # sync in the background, given a moment: a thread left in the kernel by a removed device can
  # keep sync from ever returning, and the power-off must not wait on it.
  $rbb sync &
  $rbb sleep 2
  # QEMU's isa-debug-exit device ends QEMU on this write. The kernel's own power-off shuts every
  # device down first, and can wait forever on one that was removed with a request in flight.
  $rbb printf '\\000' | $rbb dd of=/dev/port bs=1 seek=${DEBUG_EXIT_PORT} count=1 2>/dev/null
  # Without that device (or /dev/port), the kernel's way: sysrq-o, then a forced power-off.
  echo o > /proc/sysrq-trigger
  # sysrq-o hands the power-off to a kernel worker; if that never happens, force it.
  $rbb sleep 5
  $rbb poweroff -f
  $rbb sleep 3600
}
finish() {
  # The console first: it does not go through the share, and the host takes this marker as the
  # status if the writes to the share below never return.
  echo "${EXIT_MARKER} $1"
  [ -n "$2" ] && echo "kcrypto lab: $2" >> "$L/${f.stderr}"
  echo "$1" > "$L/${f.status}"
  poweroff_now
}

$bb mount -t proc proc /proc
log "stage 2 started"
# /run is guest memory (stage 1's tmpfs): the power-off runs from there (named busybox: it
# picks its applet by that name when called by another).
rbb=/run/kcrypto-bin/busybox
{ $bb mkdir -p /run/kcrypto-bin && $bb cp $bb $rbb; } 2>/dev/null || rbb=$bb
$bb mount -t sysfs sysfs /sys
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777 tmpfs /dev/shm
${config.mountTmp ? '$bb mount -t tmpfs -o mode=1777 tmpfs /tmp' : "# /tmp stays the overlay's: the command's cwd lives there"}
$bb ip link set lo up 2>/dev/null
: > "$L/${f.stdout}"
: > "$L/${f.stderr}"

# The watchdog runs apart from everything else: a command (or a module's init) stuck in the
# kernel cannot be killed, e.g. after a device was pulled mid-request, but the guest can
# still power off. The deadline is absolute, so the time spent booting counts: the guest's
# clock is the host's (read from the emulated RTC at boot); only if it looks unset is the
# uptime used instead.
now=$($bb date +%s)
if [ "$now" -gt 1000000000 ]; then
  left=$((${epochSec} - now))
else
  read -r up _ < /proc/uptime
  left=$((${uptimeSec} - \${up%.*}))
fi
[ "$left" -ge 1 ] || left=1
read -r up _ < /proc/uptime
end=$((\${up%.*} + left))
P=/proc
SYSRQ=/proc/sysrq-trigger
DMESG="$bb dmesg"
${renderTaskDump()}
# Once a second (a builtin read and test, and one sleep): the deadline, and the host's request
# for a task dump, answered in the background so that a read that blocks cannot hold the loop.
(
  while :; do
    read -r up _ < /proc/uptime
    if [ "\${up%.*}" -ge "$end" ]; then
      : > "$L/${f.timedOut}"
      finish ${EXIT_TIMEOUT} "command timed out (run time limit ${config.limitSec} s)"
    fi
    if [ -z "$dumping" ] && [ -e "$L/${f.dumpRequest}" ]; then
      dumping=1
      ( dump_tasks > "$L/${f.diagnostics}" 2>&1; : > "$L/${f.dumped}" ) &
    fi
    $bb sleep 1
  done
) &

log "loading crypto modules"
# Missing or failing drivers are not an error here: tests check what they need.
${renderModprobes(config.cryptoModules, config.modprobeJobs ?? 1, debugSink)}
${insmods}
log "modules loaded"
# After the modules: some sysctls only exist once their module is in.
${renderSysctls(config.sysctls ?? {}, '$L/' + f.stderr)}
${config.unprivileged ? renderUnprivilegedSetup(config.unprivileged, config.cwd, '$L') : ': the command runs as root'}

$bb cat /proc/uptime > "$L/${f.started}"
log "running the command"
(
  cd ${shellQuote(config.cwd)} || exit ${EXIT_LAB_FAILURE}
  exec $bb env -i ${envArgs.join(' ')} ${[...(config.unprivileged ? setprivPrefix(config.unprivileged) : []), ...config.command].map(shellQuote).join(' ')}
) < /dev/null >> "$L/${f.stdout}" 2>> "$L/${f.stderr}"
finish $?
`;
}
