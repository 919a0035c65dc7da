// The test command's `pack` stage: what `npm pack` ships installs and runs from its prebuilt
// binaries. It builds the prebuilt binaries (scripts/prebuild.js), packs the package, lints the
// tarball (publint; attw for the types of import and require), installs it in a new directory
// where no compiler, make or Python can be reached, runs `kcrypto drivers` there, checks that
// the install step compiles where no prebuilt binary fits, loads the arm64 binary in an arm64
// Node.js under qemu-user, and loads the musl binary with musl's dynamic loader.
//
//     node --test-reporter=spec scripts/pack-check.js
// Environment: KCRYPTO_PACK_PREBUILT=1 packs the prebuilds/ already there instead of building.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { prebuild, prebuildPath, TARGETS } from './prebuild.js';
import { arm64Node } from './toolchains.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, 'node_modules', '.bin', name);
/** Where Debian's cross compiler keeps the arm64 C and C++ runtime: qemu-user's sysroot. */
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

let work = '';
let tarball = '';
/** The project directory the tarball was installed in, once it was. */
let installed = '';

/** The environment without npm's per-run variables (a nested npm must not take them for its own). */
function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && !k.startsWith('KCRYPTO_')));
  return { ...env, ...extra };
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

/** Whether `cmd` is on PATH. */
function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * A directory holding only node, npm, npx and sh: on PATH alone, it leaves no compiler, make or
 * Python to find. npm runs package scripts with sh.
 */
function bareBin() {
  const dir = join(work, 'bin');
  mkdirSync(dir);
  const npmBin = dirname(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  symlinkSync(process.execPath, join(dir, 'node'));
  for (const tool of ['npm', 'npx']) symlinkSync(join(npmBin, tool), join(dir, tool));
  symlinkSync('/bin/sh', join(dir, 'sh'));
  return dir;
}

/** The environment of the compiler-less install: that PATH, and CC/CXX that fail. */
function noCompilerEnv() {
  return cleanEnv({ PATH: join(work, 'bin'), CC: '/bin/false', CXX: '/bin/false', MAKE: '/bin/false' });
}

/** Installs `spec` into a new project directory `name` under the work directory, without a compiler. */
function installWithoutCompiler(name, spec) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `kcrypto-pack-${name}`, private: true }));
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', spec], { cwd: dir, env: noCompilerEnv() });
  return { dir, ...r };
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'kcrypto-pack-'));
  if (process.env.KCRYPTO_PACK_PREBUILT !== '1') for (const target of Object.keys(TARGETS)) prebuild(target);
  for (const target of Object.keys(TARGETS)) assert.ok(existsSync(prebuildPath(target)), `${target} built`);
  assert.ok(existsSync(join(root, 'dist', 'cjs', 'index.cjs')), 'TypeScript built (npm run build:ts)');
  // --ignore-scripts: dist/ is built already; `prepare` would compile it again.
  const r = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, env: cleanEnv() });
  assert.equal(r.status, 0, r.out);
  const [{ filename }] = JSON.parse(r.out.slice(r.out.indexOf('[')));
  tarball = join(work, filename);
  bareBin();
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('the tarball ships the three prebuilt binaries and no build of this host', () => {
    const { out, status } = run('tar', ['-tzf', tarball]);
    assert.equal(status, 0, out);
    const files = out.split('\n');
    for (const target of Object.keys(TARGETS)) {
      const file = `package/${prebuildPath(target).slice(root.length + 1)}`;
      assert.ok(files.includes(file), `${file} in the tarball`);
    }
    assert.ok(!files.some((f) => f.startsWith('package/build/')), 'no build/ in the tarball');
    assert.ok(files.includes('package/scripts/install.js'));
  });

  it('publint finds nothing to report', () => {
    const { out, status } = run(bin('publint'), ['run', tarball, '--strict'], { env: cleanEnv() });
    assert.equal(status, 0, out);
    assert.match(out, /All good!/, out);
  });

  it('types resolve for import and require (attw, node16 and bundler)', () => {
    const { out, status } = run(bin('attw'), [tarball, '--format', 'ascii', '--no-emoji', '--no-color'], { env: cleanEnv() });
    assert.equal(status, 0, out);
    assert.match(out, /node16 \(from CJS\): .*\(CJS\)/);
    assert.match(out, /node16 \(from ESM\): .*\(ESM\)/);
    assert.match(out, /No problems found/);
  });
});

describe('install without a compiler', () => {
  it('installs from the prebuilt binary: no compile, no build/', () => {
    const { dir, status, out } = installWithoutCompiler('prebuilt', tarball);
    assert.equal(status, 0, out);
    installed = dir;
    const pkg = join(dir, 'node_modules', 'kcrypto');
    assert.ok(existsSync(join(pkg, 'prebuilds', 'linux-x64', 'kcrypto.glibc.node')));
    assert.ok(!existsSync(join(pkg, 'build')), 'nothing compiled');
    assert.doesNotMatch(out, /gyp info|building it from source/);
  });

  it('`npx kcrypto drivers` runs there, the openssl driver on the prebuilt addon', (t) => {
    if (!installed) return t.skip('the install failed');
    const { status, out } = run('npx', ['--no-install', 'kcrypto', 'drivers'], { cwd: installed, env: noCompilerEnv() });
    assert.equal(status, 0, out);
    const usable = out.slice(out.indexOf('usable ('), out.indexOf('not usable'));
    assert.match(usable, /^ {2}software\s/m, out);
    assert.match(usable, /^ {2}openssl\s/m, `the addon loaded:\n${out}`);
  });

  it('where no prebuilt binary fits, the install step compiles (and fails here, having no compiler)', () => {
    // The same package without prebuilds/: the install step must go to node-gyp.
    const stage = join(work, 'stripped');
    mkdirSync(stage);
    assert.equal(run('tar', ['-xzf', tarball, '-C', stage]).status, 0);
    rmSync(join(stage, 'package', 'prebuilds'), { recursive: true });
    const stripped = join(work, 'stripped.tgz');
    assert.equal(run('tar', ['-czf', stripped, '-C', stage, 'package']).status, 0);
    const { status, out } = installWithoutCompiler('source', stripped);
    assert.notEqual(status, 0, 'npm install failed for want of a compiler');
    assert.match(out, /no prebuilt addon loads here \(Error: No native build was found for platform=linux arch=x64/);
    assert.match(out, /gyp info using node-gyp/, 'node-gyp ran');
  });
});

describe('other targets', () => {
  it('arm64: an arm64 Node.js under qemu-user loads the arm64 binary through the package loader', (t) => {
    if (!have('qemu-aarch64')) return t.skip('qemu-aarch64 not installed (Debian package qemu-user)');
    if (!existsSync(join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1')))
      return t.skip(`no arm64 C library in ${ARM64_SYSROOT} (Debian package g++-aarch64-linux-gnu)`);
    // The package as npm installed it above: an arm64 npm installs the same files.
    if (!installed) return t.skip('the install failed');
    const script = join(installed, 'arm64-check.mjs');
    // NIST SP 800-38A F.2.1 (AES-128-CBC, first block) and FIPS 180-2 (SHA-256 of "abc").
    writeFileSync(
      script,
      `
      import { drivers, openSession } from 'kcrypto';
      const list = await drivers();
      const usable = list.filter((d) => d.available).map((d) => d.name);
      const aes = await openSession({ cipher: 'aes-128-cbc', key: Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex') }, { driver: 'openssl' });
      const { ciphertext } = await aes.encrypt(Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex'), { iv: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex') });
      await aes.close();
      const sha = await openSession({ hash: 'sha256' }, { driver: 'openssl' });
      const digest = await sha.digest(Buffer.from('abc'));
      await sha.close();
      console.log(JSON.stringify({ arch: process.arch, usable, aes: ciphertext.subarray(0, 16).toString('hex'), sha: digest.toString('hex') }));
      `,
    );
    const node = arm64Node();
    const r = run('qemu-aarch64', ['-L', ARM64_SYSROOT, node, script], { cwd: installed, env: cleanEnv() });
    assert.equal(r.status, 0, r.out);
    const result = JSON.parse(r.out.trim().split('\n').pop());
    assert.equal(result.arch, 'arm64');
    assert.ok(result.usable.includes('software') && result.usable.includes('openssl'), `usable: ${result.usable}`);
    assert.equal(result.aes, '7649abac8119b246cee98e9b12e9197d');
    assert.equal(result.sha, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it("musl: the binary needs only musl's libc and loads with musl's dynamic loader", (t) => {
    const file = prebuildPath('linux-x64-musl');
    const dyn = run('readelf', ['-d', '-W', file]);
    assert.equal(dyn.status, 0, dyn.out);
    const needed = [...dyn.out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    // musl's loader is its libc, and answers for libc.so itself.
    assert.deepEqual(needed, ['libc.so']);
    if (!have('musl-gcc')) return t.skip('musl-gcc not installed (Debian package musl-tools): the load is not checked');
    // No musl Node.js can be had here: a musl program stands in for it, exporting the symbols
    // Node exports (N-API, OpenSSL) as stubs, and opens the binary as Node would (RTLD_NOW).
    const syms = run('readelf', ['--dyn-syms', '-W', file]).out.split('\n');
    const imported = new Set();
    for (const line of syms) {
      const f = line.trim().split(/\s+/);
      if (f[6] === 'UND' && /^(napi_|node_api_|EVP_|ERR_|OSSL_)/.test(f[7] ?? '')) imported.add(f[7].replace(/@.*/, ''));
    }
    assert.ok(imported.has('napi_create_function'), 'the binary imports N-API');
    const c = join(work, 'musl-load.c');
    writeFileSync(
      c,
      [
        '#include <dlfcn.h>',
        '#include <stdio.h>',
        ...[...imported].map((s) => `int ${s}(void) { return 1; }`),
        'int main(int argc, char **argv) {',
        '  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);',
        '  if (!h) { fprintf(stderr, "dlopen: %s\\n", dlerror()); return 1; }',
        '  if (!dlsym(h, "napi_register_module_v1")) { fprintf(stderr, "no napi_register_module_v1\\n"); return 1; }',
        '  puts("loaded");',
        '  return 0;',
        '}',
      ].join('\n'),
    );
    const exe = join(work, 'musl-load');
    const cc = run('musl-gcc', ['-rdynamic', '-o', exe, c]);
    assert.equal(cc.status, 0, cc.out);
    const loaded = run(exe, [file]);
    assert.equal(loaded.status, 0, loaded.out);
    assert.match(loaded.out, /^loaded$/m);
    // The glibc binary is refused by the same loader: the check can fail.
    const refused = run(exe, [prebuildPath('linux-x64-glibc')]);
    assert.notEqual(refused.status, 0, 'the glibc build does not load under musl');
  });
});

// The work directory's listing, for a failing run's log.
process.on('exit', (code) => {
  if (code !== 0 && work && existsSync(work)) console.error(`pack-check: work directory ${work}: ${readdirSync(work).join(', ')}`);
});
