/**
 * Builds the lab's initramfs: busybox-static, the modules needed before the host's root can
 * be mounted (decompressed, since busybox `insmod` cannot read `.ko.xz`), and the stage 1
 * `/init`. The archive is a gzip-compressed newc cpio made in-process.
 */
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { writeCpio, type CpioEntry } from './cpio.js';
import { kernelHasModule, resolveModuleLoadOrder, type KernelInfo, type ModuleIndex } from './kernels.js';
import { renderInitScript } from './scripts.js';

/**
 * What stage 1 loads, in this order, each only if the kernel has it as a module: 9p over
 * virtio-pci plus overlayfs. Kernels differ here (6.1 has virtio and fscache as modules,
 * 6.12 builds virtio in and has no separate fscache), hence the union.
 */
export const STAGE1_MODULES: readonly string[] = [
  'virtio_ring',
  'virtio',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  'netfs',
  'fscache',
  '9pnet',
  '9pnet_virtio',
  '9p',
  'overlay',
];

/** Without these (built in or as modules) the guest cannot reach its root at all. */
const ESSENTIAL_MODULES: readonly string[] = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

/** A decompressor that is not installed; carries the Debian package that provides it. */
export class MissingToolError extends Error {
  constructor(
    readonly tool: string,
    readonly debianPackage: string,
    what: string,
  ) {
    super(`${what} needs \`${tool}\`, which is not installed (Debian package: ${debianPackage})`);
    this.name = 'MissingToolError';
  }
}

/** Decompressors for module files by extension, with the package that provides each. */
export const MODULE_DECOMPRESSORS = {
  '.xz': { tool: 'xz', debianPackage: 'xz-utils' },
  '.zst': { tool: 'zstd', debianPackage: 'zstd' },
} as const;

/** Reads a module file, decompressing `.ko.gz` in-process and `.ko.xz` / `.ko.zst` with their tools. */
export function readModuleFile(file: string): Buffer {
  if (file.endsWith('.ko')) return fs.readFileSync(file);
  if (file.endsWith('.ko.gz')) return zlib.gunzipSync(fs.readFileSync(file));
  for (const [ext, { tool, debianPackage }] of Object.entries(MODULE_DECOMPRESSORS)) {
    if (!file.endsWith(`.ko${ext}`)) continue;
    try {
      return execFileSync(tool, ['-dc', file], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingToolError(tool, debianPackage, `module ${file}`);
      throw err;
    }
  }
  throw new Error(`unknown module file format: ${file}`);
}

/** Inputs of {@link buildInitramfs}. */
export interface InitramfsOptions {
  kernel: KernelInfo;
  index: ModuleIndex;
  /** A statically linked busybox. */
  busybox: string;
  verbose?: boolean;
}

/** The archive and what went into it. */
export interface Initramfs {
  /** gzip-compressed newc cpio, ready for QEMU's `-initrd`. */
  archive: Buffer;
  /** Modules stage 1 loads, in order. */
  modules: string[];
}

/** Assembles the initramfs for one kernel. */
export function buildInitramfs(options: InitramfsOptions): Initramfs {
  const { kernel, index } = options;
  const lacking = ESSENTIAL_MODULES.filter((m) => !kernelHasModule(index, m));
  if (lacking.length > 0) {
    throw new Error(`kernel ${kernel.version} has neither built in nor as modules: ${lacking.join(', ')}`);
  }
  const load = resolveModuleLoadOrder(index, STAGE1_MODULES);

  // Applet links are made here rather than with `busybox --install` at boot: one less
  // thing that depends on /proc inside a guest that has barely started.
  const applets = execFileSync(options.busybox, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((a) => a.trim())
    .filter((a) => a !== '' && a !== 'busybox' && !a.includes('/'));

  const entries: CpioEntry[] = [
    { type: 'dir', path: 'bin' },
    { type: 'dir', path: 'dev' },
    // The kernel opens /dev/console for init's stdio before anything is mounted.
    { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { type: 'chardev', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
    { type: 'dir', path: 'proc' },
    { type: 'dir', path: 'sys' },
    { type: 'dir', path: 'mnt' },
    { type: 'dir', path: 'mnt/lower' },
    { type: 'dir', path: 'mnt/rw' },
    { type: 'dir', path: 'newroot' },
    { type: 'dir', path: 'lib' },
    { type: 'dir', path: 'lib/modules' },
    { type: 'file', path: 'bin/busybox', data: fs.readFileSync(options.busybox), mode: 0o755 },
    ...applets.map((a): CpioEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    ...load.map((m): CpioEntry => ({
      type: 'file',
      path: `lib/modules/${m.name}.ko`,
      data: readModuleFile(path.posix.join(kernel.modulesDir, m.file)),
    })),
    {
      type: 'file',
      path: 'init',
      data: Buffer.from(renderInitScript({ modules: load.map((m) => m.name), verbose: options.verbose ?? false })),
      mode: 0o755,
    },
  ];
  // Level 1: the archive is rebuilt for every run and the guest inflates it under
  // emulation, so a few percent of size are not worth the time.
  return { archive: zlib.gzipSync(writeCpio(entries), { level: 1 }), modules: load.map((m) => m.name) };
}
