/**
 * What keeps a kernel module from loading on demand: modprobe.d's `blacklist`, `install` and
 * `alias … off` directives, read in kmod's precedence order, and the kernel command line's
 * `module_blacklist=` / `modprobe.blacklist=`. The AF_ALG probes name these lines when a socket
 * family or type is missing, so an administrator can act.
 *
 * @module
 */

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One configuration file's text, as read or as injected by a test. */
export interface ModprobeFile {
  path: string;
  text: string;
}

/** How a module is kept from loading. */
export type ModuleBlockKind = 'blacklist' | 'install' | 'alias-off' | 'module_blacklist' | 'modprobe.blacklist';

/** A configuration line that stops a kernel module from loading on demand. */
export interface ModuleBlock {
  /** The module it blocks, as written. */
  module: string;
  kind: ModuleBlockKind;
  /** `file:line`, or `/proc/cmdline`. */
  source: string;
  /** The directive as written. */
  directive: string;
}

/**
 * modprobe.d directories in kmod's precedence order: a file name found in an earlier directory
 * hides the same name in later ones.
 */
export const MODPROBE_DIRS: readonly string[] = [
  '/etc/modprobe.d',
  '/run/modprobe.d',
  '/usr/local/lib/modprobe.d',
  '/lib/modprobe.d',
  '/usr/lib/modprobe.d',
];

/**
 * Reads every `*.conf` in the modprobe.d directories, applying kmod's rule that a file name in
 * an earlier directory overrides the same name in a later one (which also folds `/lib` into
 * `/usr/lib` on merged-usr systems). Missing or unreadable directories and files are skipped.
 *
 * @param dirs - directories in precedence order.
 * @returns the files, sorted by file name as kmod reads them.
 */
export async function readModprobeFiles(dirs: readonly string[] = MODPROBE_DIRS): Promise<ModprobeFile[]> {
  const chosen = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.endsWith('.conf') && !chosen.has(name)) chosen.set(name, join(dir, name));
    }
  }
  const files: ModprobeFile[] = [];
  for (const name of [...chosen.keys()].sort()) {
    const path = chosen.get(name)!;
    try {
      files.push({ path, text: await readFile(path, 'utf8') });
    } catch {
      // A dangling symlink or a file we may not read: it cannot be reported on, skip it.
    }
  }
  return files;
}

/** Module names treat `-` and `_` alike. */
function sameModule(a: string, b: string): boolean {
  return a.replaceAll('-', '_') === b.replaceAll('-', '_');
}

/** Logical lines of a modprobe.d file: comments dropped, backslash continuations joined. */
function logicalLines(text: string): { line: number; words: string[]; raw: string }[] {
  const out: { line: number; words: string[]; raw: string }[] = [];
  const physical = text.split(/\r?\n/);
  for (let i = 0; i < physical.length; i++) {
    const start = i + 1;
    let raw = physical[i] ?? '';
    while (raw.endsWith('\\') && i + 1 < physical.length) {
      raw = raw.slice(0, -1) + ' ' + (physical[++i] ?? '');
    }
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const words = trimmed.split(/\s+/);
    // Quoted back with single spaces, so a continued line reads as one directive.
    out.push({ line: start, words, raw: words.join(' ') });
  }
  return out;
}

/**
 * Finds the configuration that keeps `module` from loading on demand.
 *
 * Recognised: `blacklist <module>` (stops loading through an alias, which is how the kernel
 * requests `algif-aead` and `net-pf-38`), `install <module> <command>` (runs the command
 * instead, e.g. `/bin/false` or `/bin/true`, unless it calls modprobe `--ignore-install`),
 * `alias <alias> off`, and the kernel command line's `module_blacklist=` and
 * `modprobe.blacklist=`.
 *
 * @param module - module name, e.g. `algif_aead`.
 * @param aliases - aliases the kernel requests it by, e.g. `algif-aead`.
 * @param files - modprobe.d contents ({@link readModprobeFiles}).
 * @param cmdline - the kernel command line, or null when unknown.
 */
export function findModuleBlocks(
  module: string,
  aliases: readonly string[],
  files: readonly ModprobeFile[],
  cmdline: string | null = null,
): ModuleBlock[] {
  const blocks: ModuleBlock[] = [];
  for (const file of files) {
    for (const { line, words, raw } of logicalLines(file.text)) {
      const [directive, target, ...rest] = words;
      if (target === undefined) continue;
      const source = `${file.path}:${line}`;
      if (directive === 'blacklist' && sameModule(target, module)) {
        blocks.push({ module: target, kind: 'blacklist', source, directive: raw });
      } else if (directive === 'install' && sameModule(target, module)) {
        const command = rest.join(' ');
        if (!command.includes('--ignore-install')) blocks.push({ module: target, kind: 'install', source, directive: raw });
      } else if (directive === 'alias' && rest[0] === 'off' && (sameModule(target, module) || aliases.some((a) => sameModule(a, target)))) {
        blocks.push({ module: target, kind: 'alias-off', source, directive: raw });
      }
    }
  }
  if (cmdline !== null) {
    for (const word of cmdline.trim().split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq < 0) continue;
      const key = word.slice(0, eq);
      if (key !== 'module_blacklist' && key !== 'modprobe.blacklist') continue;
      for (const name of word.slice(eq + 1).split(',')) {
        if (sameModule(name, module)) blocks.push({ module: name, kind: key, source: '/proc/cmdline', directive: word });
      }
    }
  }
  return blocks;
}

/** One line naming what keeps `module` from loading, for a reason string. */
export function describeBlocks(module: string, blocks: readonly ModuleBlock[]): string {
  const what = blocks.map((b) => `"${b.directive}" (${b.source})`).join(', ');
  const kinds = new Set(blocks.map((b) => b.kind));
  const verb = kinds.size === 1 && kinds.has('install') ? 'disabled by an install override' : 'blacklisted';
  return `${module} is ${verb}: ${what}`;
}

/** Where {@link BlockFinder} looks: given contents, or the host's files when absent. */
export interface BlockSources {
  /** modprobe.d contents to search instead of reading {@link MODPROBE_DIRS}. */
  modprobeFiles?: readonly ModprobeFile[];
  /** Kernel command line instead of reading `/proc/cmdline`; null for none. */
  cmdline?: string | null;
}

/** Lazily loads modprobe.d and the kernel command line, once, only when a probe failed. */
export class BlockFinder {
  #loaded: Promise<{ files: readonly ModprobeFile[]; cmdline: string | null }> | undefined;

  constructor(private readonly options: BlockSources) {}

  async find(module: string, aliases: readonly string[]): Promise<ModuleBlock[]> {
    this.#loaded ??= this.#load();
    const { files, cmdline } = await this.#loaded;
    return findModuleBlocks(module, aliases, files, cmdline);
  }

  async #load(): Promise<{ files: readonly ModprobeFile[]; cmdline: string | null }> {
    const files = this.options.modprobeFiles ?? (await readModprobeFiles());
    let cmdline = this.options.cmdline;
    if (cmdline === undefined) {
      try {
        cmdline = await readFile('/proc/cmdline', 'utf8');
      } catch {
        cmdline = null;
      }
    }
    return { files, cmdline };
  }
}
