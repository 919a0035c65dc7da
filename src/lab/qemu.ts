/**
 * The QEMU command line of a lab run. Kept free of side effects so that tests can check
 * exactly what would be started.
 */
import { DEBUG_EXIT_PORT, ROOT_TAG, SHARE_TAG } from './scripts.js';

/** The QEMU binary the lab runs (from Debian's `qemu-system-x86`). */
export const QEMU_BINARY = 'qemu-system-x86_64';

/** Inputs of {@link buildQemuArgs}. */
export interface QemuConfig {
  kernelImage: string;
  initrd: string;
  /** Host directory shared writable with the guest (script in, status and output out). */
  shareDir: string;
  cards: number;
  memoryMiB: number;
  cpus: number;
  /** Unix socket path for a QMP monitor, if wanted. */
  qmpSocket?: string;
  /** Extra words for the kernel command line. */
  extraCmdline?: readonly string[];
}

/** The kernel command line used for every run. */
export function kernelCmdline(extra: readonly string[] = []): string {
  return [
    'console=ttyS0',
    'quiet',
    // A panic reboots at once, and -no-reboot turns that reboot into QEMU exiting: a guest
    // that dies must not sit there until the host timeout.
    'panic=-1',
    'rdinit=/init',
    // Page-table isolation and the other speculation mitigations cost a lot under TCG
    // (every syscall flushes the emulated TLB) and protect nothing in a throwaway guest.
    'mitigations=off',
    ...extra,
  ].join(' ');
}

/** Escapes a value inside a QEMU `key=value,...` option (commas are doubled). */
export function qemuOptValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/** Builds QEMU's argument vector (without the binary itself). */
export function buildQemuArgs(c: QemuConfig): string[] {
  if (!Number.isInteger(c.cards) || c.cards < 0) throw new Error(`invalid number of cards: ${c.cards}`);
  if (!Number.isInteger(c.cpus) || c.cpus < 1) throw new Error(`invalid number of CPUs: ${c.cpus}`);
  if (!Number.isInteger(c.memoryMiB) || c.memoryMiB < 256) throw new Error(`invalid memory size: ${c.memoryMiB} MiB`);
  const args = [
    // No default NIC, VGA, parallel port or option ROMs: less to emulate, faster boot.
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    // TCG on purpose: a standard kernel does not boot under KVM on the machines this was
    // built for, and TCG with -cpu max still emulates AES-NI, PCLMUL, SHA, AVX2.
    '-accel',
    'tcg,thread=multi',
    '-cpu',
    'max',
    '-smp',
    String(c.cpus),
    '-m',
    String(c.memoryMiB),
    '-no-reboot',
    // Lets stage 2 end QEMU with one port write once the command's status is on the share.
    '-device',
    `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=0x01`,
    // The serial console goes to QEMU's stdout; signal=off keeps a stray ^C byte from
    // killing QEMU behind the lab's back (the host lab handles signals itself).
    '-chardev',
    'stdio,id=console,signal=off',
    '-serial',
    'chardev:console',
    '-kernel',
    c.kernelImage,
    '-initrd',
    c.initrd,
    '-append',
    kernelCmdline(c.extraCmdline),
    '-virtfs',
    `local,path=/,mount_tag=${ROOT_TAG},security_model=none,readonly=on,multidevs=remap`,
    '-virtfs',
    `local,path=${qemuOptValue(c.shareDir)},mount_tag=${SHARE_TAG},security_model=none,multidevs=remap`,
  ];
  for (let i = 0; i < c.cards; i++) {
    args.push('-object', `cryptodev-backend-builtin,id=cd${i}`, '-device', `virtio-crypto-pci,cryptodev=cd${i},id=card${i}`);
  }
  if (c.qmpSocket !== undefined) args.push('-qmp', `unix:${qemuOptValue(c.qmpSocket)},server=on,wait=off`);
  return args;
}
