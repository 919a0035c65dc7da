/**
 * What the lab needs from the host, and which Debian packages provide what is missing.
 * The lab never installs anything; it says exactly what to install.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODULE_DECOMPRESSORS, STAGE1_MODULES } from './initramfs.js';
import { discoverKernels, readModuleIndex, realHostFs, resolveModuleLoadOrder, type HostFs } from './kernels.js';
import { QEMU_BINARY } from './qemu.js';

/** Where busybox-static installs its binary. */
export const BUSYBOX_PATH = '/bin/busybox';

/** Host view used by the prerequisite checks: files plus executability and `PATH`. */
export interface PrereqHost extends HostFs {
  /** Whether a file exists and this process may execute it. */
  isExecutable(file: string): boolean;
  /** Whether this process may read a file. */
  isReadable(file: string): boolean;
  /** The `PATH` to search for tools. */
  pathEnv: string;
}

/** {@link PrereqHost} backed by the real machine. */
export function realPrereqHost(): PrereqHost {
  const can = (file: string, mode: number): boolean => {
    try {
      fs.accessSync(file, mode);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  return {
    ...realHostFs,
    isExecutable: (file) => can(file, fs.constants.X_OK),
    isReadable: (file) => can(file, fs.constants.R_OK),
    pathEnv: process.env['PATH'] ?? '',
  };
}

/** Outcome of {@link checkLabPrerequisites}. */
export interface LabPrerequisites {
  /** True when a lab run can start. */
  ok: boolean;
  /** Debian packages to install, in a stable order. */
  missing: string[];
  /** Releases of the bootable kernels, newest first. */
  kernels: string[];
  /** Problems that installing a package would not fix (e.g. an unreadable kernel image). */
  problems: string[];
}

/** Finds an executable by name in `PATH` and then in the usual system directories. */
export function findExecutable(name: string, host: PrereqHost): string | undefined {
  const dirs = [...host.pathEnv.split(':').filter((d) => d !== ''), '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = path.posix.join(dir, name);
    if (host.isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Whether an ELF file is statically linked, i.e. has no `PT_INTERP` program header. The
 * initramfs has no libc, so a dynamically linked busybox (Debian's plain `busybox`
 * package) would not even start there.
 */
export function isStaticElf(elf: Buffer): boolean {
  if (elf.length < 0x34 || elf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = elf[4] === 2;
  const le = elf[5] === 1;
  const u16 = (o: number): number => (le ? elf.readUInt16LE(o) : elf.readUInt16BE(o));
  const u32 = (o: number): number => (le ? elf.readUInt32LE(o) : elf.readUInt32BE(o));
  const u64 = (o: number): number => Number(le ? elf.readBigUInt64LE(o) : elf.readBigUInt64BE(o));
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > elf.length) return false;
    if (u32(at) === PT_INTERP) return false;
  }
  return true;
}

/** What a particular run needs beyond the basics (see {@link checkLabPrerequisites}). */
export interface LabNeeds {
  /** The command runs unprivileged, through util-linux `setpriv`. */
  unprivileged?: boolean;
}

/**
 * Checks everything a lab run needs: QEMU, a static busybox, at least one kernel with its
 * modules, and the decompressor for that kernel's module files; with `needs.unprivileged`,
 * also `setpriv`.
 *
 * @param host - the machine to inspect; defaults to this one.
 */
export function checkLabPrerequisites(host: PrereqHost = realPrereqHost(), needs: LabNeeds = {}): LabPrerequisites {
  const missing = new Set<string>();
  const problems: string[] = [];

  if (!findExecutable(QEMU_BINARY, host)) missing.add('qemu-system-x86');
  if (needs.unprivileged && !findExecutable('setpriv', host)) missing.add('util-linux');

  const busybox = host.exists(BUSYBOX_PATH) ? host.readFile(BUSYBOX_PATH) : undefined;
  if (!busybox || !isStaticElf(busybox)) missing.add('busybox-static');

  const kernels = discoverKernels(host);
  if (kernels.length === 0) missing.add('linux-image-amd64');
  for (const kernel of kernels) {
    if (!host.isReadable(kernel.image)) {
      problems.push(`${kernel.image} is not readable by this user (QEMU must read it to boot it)`);
    }
    // Only stage 1 decompresses modules itself; later ones are kmod's business, and kmod
    // reads compressed modules on its own.
    let files: string[] = [];
    try {
      files = resolveModuleLoadOrder(readModuleIndex(kernel, host), STAGE1_MODULES).map((m) => m.file);
    } catch (err) {
      problems.push(`kernel ${kernel.version}: ${(err as Error).message}`);
    }
    for (const [ext, { tool, debianPackage }] of Object.entries(MODULE_DECOMPRESSORS)) {
      if (files.some((f) => f.endsWith(`.ko${ext}`)) && !findExecutable(tool, host)) missing.add(debianPackage);
    }
  }

  const order = ['qemu-system-x86', 'busybox-static', 'linux-image-amd64', 'xz-utils', 'zstd', 'util-linux'];
  const sorted = [...missing].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const usable = kernels.filter((k) => host.isReadable(k.image)).map((k) => k.version);
  return { ok: sorted.length === 0 && usable.length > 0, missing: sorted, kernels: kernels.map((k) => k.version), problems };
}

/** A message telling the user what to install (and what else is wrong), for the CLI. */
export function formatPrerequisiteReport(p: LabPrerequisites): string {
  const lines: string[] = [];
  if (p.missing.length > 0) {
    lines.push(
      `kcrypto lab: missing Debian packages: ${p.missing.join(' ')}`,
      `  install them with: sudo apt-get install ${p.missing.join(' ')}`,
    );
  }
  for (const problem of p.problems) lines.push(`kcrypto lab: ${problem}`);
  if (lines.length === 0 && !p.ok) lines.push('kcrypto lab: no usable kernel');
  return lines.join('\n');
}
