/**
 * Which addon file to load, and what to tell the user when none loads. The file is the one
 * node-gyp-build picks: a build of this package (build/Release, then build/Debug), else the
 * prebuilt binary shipped for this platform, architecture and C library in
 * prebuilds/<platform>-<arch>/ (N-API: one serves every Node.js version).
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The part of node-gyp-build's loader used here. */
interface NodeGypBuild {
  /** The addon file for this process; throws "No native build was found for …" when none fits. */
  path(dir: string): string;
}

/** The addon file to try, or why there is none. */
export type AddonFile = { path: string; missing?: undefined } | { path?: undefined; missing: string };

/**
 * The addon file for the package at `root`. `override` (KCRYPTO_ADDON) names one file, tried
 * alone: a test of the sanitizer build must fail rather than run the normal build instead.
 */
export function addonFile(root: string | null, override: string | undefined): AddonFile {
  if (override) return { path: override };
  if (!root) return { missing: 'cannot find the kcrypto package directory above this file' };
  const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild;
  try {
    return { path: nodeGypBuild.path(root) };
  } catch (err) {
    // "No native build was found for platform=… arch=… libc=… node=…\n    loaded from: …"
    return { missing: (err as Error).message.split('\n')[0]?.trim() ?? String(err) };
  }
}

/** The prebuilt binaries in `root`'s prebuilds/, as "linux-x64 (glibc, musl)" per directory. */
export function shippedPrebuilds(root: string): string[] {
  const dir = join(root, 'prebuilds');
  const out: string[] = [];
  let platforms: string[];
  try {
    platforms = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const platform of platforms) {
    let files: string[];
    try {
      files = readdirSync(join(dir, platform)).filter((f) => f.endsWith('.node'));
    } catch {
      continue;
    }
    // prebuildify's names: <name>.<tag>….node, the C library among the tags.
    const libcs = files.map((f) => f.split('.').find((t) => t === 'glibc' || t === 'musl') ?? 'any C library');
    if (files.length > 0) out.push(`${platform} (${[...new Set(libcs)].join(', ')})`);
  }
  return out;
}

/**
 * Why the addon did not load (`failures`: the loader's or dlopen's own words) and what to do:
 * which prebuilt binaries exist, how to build one for this host, and that the software driver
 * works meanwhile.
 */
export function explainLoadFailure(root: string | null, failures: readonly string[]): string {
  const host = `${process.platform}-${process.arch}`;
  const shipped = root ? shippedPrebuilds(root) : [];
  const prebuilt =
    shipped.length > 0 ? `Prebuilt binaries in this package: ${shipped.join('; ')}` : 'This copy of the package holds no prebuilt binaries';
  return [
    `native addon not loaded (${host}, Node.js ${process.version}): ${failures.join('; ')}`,
    prebuilt,
    'To build it for this host, install a C++ compiler, make and Python 3, then run `npm rebuild kcrypto --build-from-source`',
    'Until then the kernel and openssl drivers are unavailable; the software driver (node:crypto) works.',
  ].join('. ');
}
