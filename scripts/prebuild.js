// `npm run build:prebuilds`: builds the prebuilt addons `npm pack` ships, with prebuildify, one N-API
// build per target (it serves every Node.js from 20 on), into prebuilds/<platform>-<arch>/
// as kcrypto.<libc>.node, where node-gyp-build's loader finds them:
//   linux-x64-glibc    this host's g++
//   linux-arm64-glibc  Debian's cross compiler (g++-aarch64-linux-gnu)
//   linux-x64-musl     zig's clang with its own musl and libc++ (npm package, installed on
//                      first use into .kcrypto-cache/toolchains/, see toolchains.js)
// Each target builds in a copy of binding.gyp and native/ under .kcrypto-cache/prebuild/, so
// build/Release (the addon the tests load) is never overwritten by another architecture's.
// node-gyp runs through scripts/node-gyp.js, which names the local Node.js headers (no header
// download). scripts/install-lab-packages installs the Debian compilers.
//
//     node scripts/prebuild.js [target ...]     (default: every target)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { zig } from './toolchains.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cache = join(root, '.kcrypto-cache');
const require = createRequire(import.meta.url);

/** Whether `cmd` runs (a compiler on PATH). */
function have(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The targets: their node-gyp arch, libc, and the compilers' environment. */
export const TARGETS = {
  'linux-x64-glibc': { arch: 'x64', libc: 'glibc', env: () => ({ CC: 'gcc', CXX: 'g++', LINK: 'g++', STRIP: 'strip' }) },
  'linux-arm64-glibc': {
    arch: 'arm64',
    libc: 'glibc',
    env: () => {
      if (!have('aarch64-linux-gnu-g++'))
        throw new Error(
          'prebuild: aarch64-linux-gnu-g++ not found (Debian package g++-aarch64-linux-gnu; scripts/install-lab-packages installs it)',
        );
      const p = 'aarch64-linux-gnu-';
      return { CC: `${p}gcc`, CXX: `${p}g++`, LINK: `${p}g++`, AR: `${p}ar`, STRIP: `${p}strip` };
    },
  },
  'linux-x64-musl': {
    arch: 'x64',
    libc: 'musl',
    env: () => {
      const z = zig();
      // zig links musl's libc dynamically into a shared object and libc++ statically: the addon
      // then needs only musl's loader and libc, which every musl system has.
      const t = '-target x86_64-linux-musl';
      return {
        CC: `${z} cc ${t}`,
        CXX: `${z} c++ ${t}`,
        LINK: `${z} c++ ${t}`,
        AR: `${z} ar`,
        STRIP: 'strip',
        // musl's CMSG_NXTHDR compares a signed with an unsigned length, and clang (unlike gcc)
        // warns inside the macro; the glibc builds keep the warning for the addon's own code.
        CXXFLAGS: '-Wno-sign-compare',
      };
    },
  },
};

/** The file node-gyp-build loads for `target` (prebuildify's name for an N-API build). */
export function prebuildPath(target) {
  const { arch, libc } = TARGETS[target];
  return join(root, 'prebuilds', `linux-${arch}`, `kcrypto.${libc}.node`);
}

/** Builds one target; throws on failure. */
export function prebuild(target) {
  const t = TARGETS[target];
  if (!t) throw new Error(`prebuild: unknown target ${target} (known: ${Object.keys(TARGETS).join(', ')})`);
  const toolchain = t.env();
  const stage = join(cache, 'prebuild', target);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  cpSync(join(root, 'binding.gyp'), join(stage, 'binding.gyp'));
  cpSync(join(root, 'native'), join(stage, 'native'), { recursive: true });
  const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');
  const nodeGyp = `"${process.execPath}" "${join(root, 'scripts', 'node-gyp.js')}"`;
  const args = [
    prebuildify,
    '--napi',
    '--strip',
    '--tag-libc',
    '--name=kcrypto',
    `--target=${process.versions.node}`,
    '--platform=linux',
    `--arch=${t.arch}`,
    `--libc=${t.libc}`,
    `--cwd=${stage}`,
    `--out=${root}`,
    `--node-gyp=${nodeGyp}`,
    `--strip-bin=${toolchain.STRIP}`,
    '--shell=/bin/sh',
  ];
  const started = performance.now();
  console.log(`prebuild: ${target}`);
  const env = { ...process.env, ...toolchain, JOBS: process.env.JOBS ?? 'max' };
  const r = spawnSync(process.execPath, args, { cwd: stage, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`prebuild: ${target} failed (prebuildify exited ${r.status ?? r.signal})`);
  const out = prebuildPath(target);
  if (!existsSync(out)) throw new Error(`prebuild: ${target} built, but ${out} is missing`);
  console.log(`prebuild: ${target} -> ${out.slice(root.length + 1)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  rmSync(stage, { recursive: true, force: true });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wanted = process.argv.slice(2);
  try {
    for (const target of wanted.length > 0 ? wanted : Object.keys(TARGETS)) prebuild(target);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
