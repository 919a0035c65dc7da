/**
 * Kernel discovery for the lab: which kernels are installed, which one to boot, and
 * where a kernel keeps each of its modules.
 *
 * A kernel is found in either of the places Debian puts its image: `/boot/vmlinuz-<release>`
 * (the 6.x packages) or `<modules>/<release>/vmlinuz` (7.x packages, and the 7.x kernels that
 * scripts/install-lab-packages unpacks without installing them as packages).
 *
 * Everything here reads the filesystem through a small {@link HostFs} interface so that
 * unit tests can describe a fake `/boot` and `/lib/modules` instead of relying on the
 * machine they run on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The few read-only filesystem operations the lab needs from the host. */
export interface HostFs {
  /** Names in a directory; `[]` when it does not exist or cannot be read. */
  readdir(dir: string): string[];
  /** Whether a path exists (following symlinks). */
  exists(file: string): boolean;
  /** File contents, or `undefined` when missing or unreadable. */
  readFile(file: string): Buffer | undefined;
}

/** {@link HostFs} backed by the real filesystem. */
export const realHostFs: HostFs = {
  readdir(dir) {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  exists(file) {
    return fs.existsSync(file);
  },
  readFile(file) {
    try {
      return fs.readFileSync(file);
    } catch {
      return undefined;
    }
  },
};

/** An installed kernel that the lab can boot. */
export interface KernelInfo {
  /** Kernel release, as `uname -r` prints it in the guest (e.g. `6.1.0-56-amd64`). */
  version: string;
  /** The bootable image (bzImage). */
  image: string;
  /** `/lib/modules/<version>` (or `/usr/lib/modules/<version>` when only that one exists). */
  modulesDir: string;
}

const BOOT_DIR = '/boot';
/**
 * Where modules live, in order of preference. On a merged-/usr system both are one directory;
 * otherwise `/lib/modules` comes first because that is where the guest's kmod (the host's,
 * seen through 9p) looks for them.
 */
const MODULES_ROOTS: readonly string[] = ['/lib/modules', '/usr/lib/modules'];

/** The modules directory of a release: the first root that has its `modules.dep`. */
function findModulesDir(version: string, host: HostFs): string | undefined {
  return MODULES_ROOTS.map((root) => path.posix.join(root, version)).find((dir) => host.exists(path.posix.join(dir, 'modules.dep')));
}

/** The release named by an image path: `vmlinuz-<release>`, or `<modules root>/<release>/vmlinuz`. */
function releaseFromImagePath(image: string): string | undefined {
  const fromName = /^vmlinuz-(.+)$/.exec(path.posix.basename(image))?.[1];
  if (fromName) return fromName;
  const dir = path.posix.dirname(image);
  if (path.posix.basename(image) === 'vmlinuz' && path.posix.basename(path.posix.dirname(dir)) === 'modules') {
    return path.posix.basename(dir);
  }
  return undefined;
}

/**
 * Compares two kernel releases so that newer sorts first: numeric runs compare as numbers
 * (`6.12` > `6.1`), everything else as text.
 */
export function compareKernelVersionsDesc(a: string, b: string): number {
  const split = (v: string): string[] => v.match(/\d+|\D+/g) ?? [];
  const pa = split(a);
  const pb = split(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return ny - nx;
    return x < y ? 1 : -1;
  }
  return 0;
}

/**
 * Lists the kernels that have an image (`/boot/vmlinuz-<v>`, else `/lib/modules/<v>/vmlinuz`
 * or `/usr/lib/modules/<v>/vmlinuz`) and a `modules.dep`, newest first, each release once.
 * A kernel without its modules is useless to the lab (9p, overlayfs and the crypto drivers
 * are modules), so it is not listed.
 */
export function discoverKernels(host: HostFs = realHostFs): KernelInfo[] {
  const images = new Map<string, string>();
  for (const name of host.readdir(BOOT_DIR)) {
    const version = /^vmlinuz-(.+)$/.exec(name)?.[1];
    if (version) images.set(version, path.posix.join(BOOT_DIR, name));
  }
  // /boot wins: a release in both places is the same kernel, and 6.x tooling expects /boot.
  for (const root of MODULES_ROOTS) {
    for (const version of host.readdir(root)) {
      const image = path.posix.join(root, version, 'vmlinuz');
      if (!images.has(version) && host.exists(image)) images.set(version, image);
    }
  }
  const kernels: KernelInfo[] = [];
  for (const [version, image] of images) {
    const modulesDir = findModulesDir(version, host);
    if (modulesDir) kernels.push({ version, image, modulesDir });
  }
  return kernels.sort((a, b) => compareKernelVersionsDesc(a.version, b.version));
}

/**
 * Reads the release string embedded in an x86 bzImage (the setup header's `kernel_version`
 * field), so that a kernel given by path can be matched with its `/lib/modules` directory
 * even when its file name says nothing.
 */
export function readBzImageVersion(image: Buffer): string | undefined {
  if (image.length < 0x210 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const offset = image.readUInt16LE(0x20e);
  if (offset === 0) return undefined;
  const start = offset + 0x200;
  if (start >= image.length) return undefined;
  const end = image.indexOf(0, start);
  const text = image.toString('latin1', start, end < 0 ? Math.min(image.length, start + 256) : end);
  const release = text.split(' ')[0];
  return release ? release : undefined;
}

/**
 * Resolves the lab's `kernel` option: `undefined` picks the newest installed kernel, a
 * bare release (`6.1.0-56-amd64`) or a unique prefix of one (`6.1`) picks that kernel, and a
 * path (anything containing `/`) names an image whose release is read from its header.
 *
 * @throws Error when nothing matches, with the list of kernels that would.
 */
export function resolveKernel(spec: string | undefined, host: HostFs = realHostFs): KernelInfo {
  const kernels = discoverKernels(host);
  const available = kernels.map((k) => k.version).join(', ') || 'none';
  if (spec === undefined || spec === '') {
    const newest = kernels[0];
    if (!newest) {
      throw new Error(
        'no kernel with an image (/boot/vmlinuz-<version> or /lib/modules/<version>/vmlinuz) and /lib/modules/<version>/modules.dep is installed',
      );
    }
    return newest;
  }
  if (spec.includes('/')) {
    const image = host.readFile(spec);
    if (!image) throw new Error(`kernel image ${spec} cannot be read`);
    const version = readBzImageVersion(image) ?? releaseFromImagePath(spec);
    if (!version) throw new Error(`cannot tell the release of kernel image ${spec}`);
    const modulesDir = findModulesDir(version, host);
    if (!modulesDir) {
      throw new Error(
        `kernel image ${spec} is release ${version}, but ${MODULES_ROOTS.map((r) => `${r}/${version}`).join(' and ')} have no modules.dep`,
      );
    }
    return { version, image: spec, modulesDir };
  }
  const exact = kernels.find((k) => k.version === spec);
  if (exact) return exact;
  // "6.1" means 6.1.x, not 6.12: a prefix must not end in the middle of a number.
  const prefixed = kernels.filter((k) => k.version.startsWith(spec) && !(/\d$/.test(spec) && /^\d/.test(k.version.slice(spec.length))));
  if (prefixed.length === 1 && prefixed[0]) return prefixed[0];
  if (prefixed.length > 1) {
    throw new Error(`kernel "${spec}" is ambiguous: ${prefixed.map((k) => k.version).join(', ')}`);
  }
  throw new Error(`kernel "${spec}" is not installed (installed: ${available})`);
}

/** Module names use `_` and `-` interchangeably; the kernel itself uses `_`. */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Module name from a module file path (`kernel/fs/9p/9p.ko.xz` → `9p`). */
export function moduleNameFromPath(file: string): string {
  return normalizeModuleName(path.posix.basename(file).replace(/\.ko(\.(xz|zst|gz))?$/, ''));
}

/** What a kernel's `modules.dep` and `modules.builtin` say about its modules. */
export interface ModuleIndex {
  /** Module name → path relative to the modules directory, and its direct dependencies (by name). */
  modules: Map<string, { file: string; deps: string[] }>;
  /** Names of modules built into the kernel image. */
  builtin: Set<string>;
}

/** Parses `modules.dep` (and optionally `modules.builtin`) text. */
export function parseModuleIndex(modulesDep: string, modulesBuiltin = ''): ModuleIndex {
  const modules = new Map<string, { file: string; deps: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const file = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter((d) => d !== '')
      .map(moduleNameFromPath);
    modules.set(moduleNameFromPath(file), { file, deps });
  }
  const builtin = new Set(
    modulesBuiltin
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map(moduleNameFromPath),
  );
  return { modules, builtin };
}

/** Reads a kernel's module index from its modules directory. */
export function readModuleIndex(kernel: KernelInfo, host: HostFs = realHostFs): ModuleIndex {
  const dep = host.readFile(path.posix.join(kernel.modulesDir, 'modules.dep'));
  if (!dep) throw new Error(`${kernel.modulesDir}/modules.dep cannot be read`);
  const builtin = host.readFile(path.posix.join(kernel.modulesDir, 'modules.builtin'));
  return parseModuleIndex(dep.toString('utf8'), builtin?.toString('utf8') ?? '');
}

/** One module file to load, in load order. */
export interface ModuleToLoad {
  name: string;
  /** Path relative to the kernel's modules directory. */
  file: string;
}

/**
 * Expands wanted module names into the loadable modules, dependencies first, each once.
 * Names that are built into the kernel, or that this kernel does not have at all, are
 * skipped: kernels differ in what they build in (6.12 builds virtio in, 6.1 does not)
 * and in what exists (fscache was folded into netfs), so a lab asks for the union.
 */
export function resolveModuleLoadOrder(index: ModuleIndex, wanted: readonly string[]): ModuleToLoad[] {
  const order: ModuleToLoad[] = [];
  const seen = new Set<string>();
  const visit = (name: string, chain: string[]): void => {
    if (seen.has(name) || index.builtin.has(name)) return;
    const entry = index.modules.get(name);
    if (!entry) return;
    if (chain.includes(name)) throw new Error(`module dependency cycle: ${[...chain, name].join(' → ')}`);
    // modules.dep lists dependencies so that later ones are needed by earlier ones; loading
    // from the end (as modprobe does) keeps that order, and the recursion makes it hold even
    // when a list is incomplete.
    for (const dep of [...entry.deps].reverse()) visit(dep, [...chain, name]);
    seen.add(name);
    order.push({ name, file: entry.file });
  };
  for (const name of wanted) visit(normalizeModuleName(name), []);
  return order;
}

/** Whether a kernel can provide a module, either built in or as a loadable file. */
export function kernelHasModule(index: ModuleIndex, name: string): boolean {
  const n = normalizeModuleName(name);
  return index.builtin.has(n) || index.modules.has(n);
}
