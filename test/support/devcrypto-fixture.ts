/**
 * The CUSE /dev/crypto fixture (test/fixtures/cuse-devcrypto): a character device in the lab
 * guest that speaks the cryptodev-linux, FreeBSD or NetBSD /dev/crypto ABI, doing the crypto
 * through the guest kernel's AF_ALG. This module builds it (and its raw-ioctl test client) with
 * g++ into build/fixtures/ when a source is newer than the binary, starts it as a child
 * process, waits for its device node, and stops it.
 *
 * Building on the host before a lab run (the devcrypto-fixture-build unit test does) saves the
 * guest the compile: the guest sees the host's files, but what it builds itself is lost with it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { packageRoot } from './package-root.js';

const execFileAsync = promisify(execFile);

/** The ABIs the fixture speaks (its `--abi` values). */
export type FixtureAbi = 'linux' | 'freebsd' | 'netbsd';

/** Every ABI, in the order the lab test runs them. */
export const FIXTURE_ABIS: readonly FixtureAbi[] = ['linux', 'freebsd', 'netbsd'];

/** Paths of the built fixture. */
export interface FixtureBinaries {
  /** The CUSE server. */
  server: string;
  /** The raw-ioctl test client. */
  client: string;
}

const SERVER_SOURCES = [
  'cuse_main.cc',
  'rounds.cc',
  'worker.cc',
  'afalg.cc',
  'chain.cc',
  'linux_abi.cc',
  'freebsd_abi.cc',
  'freebsd_sessions.cc',
  'freebsd_requests.cc',
  'netbsd_abi.cc',
  'netbsd_sessions.cc',
  'netbsd_requests.cc',
  'netbsd_keys.cc',
];
const CLIENT_SOURCES = ['client.cc', 'client_linux.cc', 'client_freebsd.cc', 'client_netbsd.cc'];

function sourceDir(): string {
  return join(packageRoot(), 'test', 'fixtures', 'cuse-devcrypto');
}

function outputDir(): string {
  return join(packageRoot(), 'build', 'fixtures');
}

/** Every file a binary depends on: the fixture's sources and headers, and the shared ABI headers. */
function inputs(): string[] {
  const root = packageRoot();
  const dirs = [sourceDir(), join(root, 'native', 'devcrypto', 'abi')];
  const files = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.h') || f.endsWith('.cc'))
      .map((f) => join(d, f)),
  );
  files.push(join(root, 'native', 'common', 'unique_fd.h'));
  return files;
}

function upToDate(binary: string, deps: readonly string[]): boolean {
  if (!existsSync(binary)) return false;
  const built = statSync(binary).mtimeMs;
  return deps.every((f) => statSync(f).mtimeMs <= built);
}

async function compile(sources: readonly string[], output: string, libraries: readonly string[]): Promise<void> {
  const root = packageRoot();
  // Written under another name and renamed, so that a concurrent run never executes half a file.
  const partial = `${output}.${process.pid}.partial`;
  const args = [
    '-std=c++17',
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-I',
    join(root, 'native'),
    '-I',
    sourceDir(),
    ...sources.map((s) => join(sourceDir(), s)),
    ...libraries,
    '-o',
    partial,
  ];
  try {
    await execFileAsync('g++', args, { maxBuffer: 16 << 20 });
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    throw new Error(`building ${output} failed:\n${typeof stderr === 'string' ? stderr : String(err)}`, { cause: err });
  }
  renameSync(partial, output);
}

async function fuseFlags(): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('pkg-config', ['--cflags', '--libs', 'fuse3']);
    return stdout
      .trim()
      .split(/\s+/)
      .filter((s) => s.length > 0);
  } catch {
    throw new Error('pkg-config finds no fuse3 (Debian packages libfuse3-dev and pkg-config; scripts/install-lab-packages installs them)');
  }
}

/**
 * Builds the fixture server and client unless both are newer than every source. Throws with the
 * compiler's output when a build fails.
 */
export async function buildFixture(): Promise<FixtureBinaries> {
  const out = outputDir();
  mkdirSync(out, { recursive: true });
  const server = join(out, 'cuse-devcrypto');
  const client = join(out, 'cuse-devcrypto-client');
  const deps = inputs();
  const jobs: Promise<void>[] = [];
  if (!upToDate(server, deps)) jobs.push(fuseFlags().then((flags) => compile(SERVER_SOURCES, server, flags)));
  if (!upToDate(client, deps)) jobs.push(compile(CLIENT_SOURCES, client, []));
  await Promise.all(jobs);
  return { server, client };
}

/** Why the fixture cannot run on this machine, or undefined when it can. */
export function fixtureUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `CUSE is Linux-only (platform ${process.platform})`;
  if (!existsSync('/dev/cuse')) return 'no /dev/cuse: the cuse module is not loaded (kcrypto lab loads it)';
  if (process.getuid?.() !== 0) return 'creating a CUSE device needs root';
  if (!existsSync('/proc/crypto')) return 'no /proc/crypto';
  return undefined;
}

/** Options of {@link startFixture}. */
export interface FixtureOptions {
  abi: FixtureAbi;
  /** The device node's name under /dev (default `kcrypto-fixture-<abi>`). */
  name?: string;
  /** The ABI's "software allowed" sysctl (FreeBSD kern.crypto.allow_soft, NetBSD kern.cryptodevallowsoft). */
  allowSoft?: number;
  /** Log every ioctl on the fixture's stderr. */
  trace?: boolean;
  /** How long to wait for the device node before giving up (default 30 s). */
  readyTimeoutMs?: number;
}

/** A fixture process serving a device node. */
export interface RunningFixture {
  readonly abi: FixtureAbi;
  /** The device node, `/dev/<name>`. */
  readonly path: string;
  /** Whether the server is still running (it must survive every request). */
  alive(): boolean;
  /** What the server wrote on stderr so far. */
  stderr(): string;
  /** Stops the server (SIGTERM, then SIGKILL) and resolves with its exit code (null if killed). */
  stop(): Promise<number | null>;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts the fixture for one ABI and resolves once its device node exists. Rejects with the
 * server's stderr if it exits first or the node does not appear in time.
 */
export async function startFixture(binaries: FixtureBinaries, options: FixtureOptions): Promise<RunningFixture> {
  const name = options.name ?? `kcrypto-fixture-${options.abi}`;
  const path = `/dev/${name}`;
  const args = ['--abi', options.abi, '--name', name];
  if (options.allowSoft !== undefined) args.push('--allow-soft', String(options.allowSoft));
  if (options.trace === true) args.push('--trace');
  const child = spawn(binaries.server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = exited(child);
  let running = true;
  void done.then(() => (running = false));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  // "ready" comes when libfuse has answered CUSE_INIT; devtmpfs creates the node just after.
  while (!(stdout.includes(`ready ${path}`) && existsSync(path))) {
    if (!running) throw new Error(`the fixture exited before ${path} appeared:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await done;
      throw new Error(`${path} did not appear in time:\n${stderr}`);
    }
    await sleep(50);
  }
  return {
    abi: options.abi,
    path,
    alive: () => running,
    stderr: () => stderr,
    async stop() {
      if (!running) return done;
      child.kill('SIGTERM');
      const code = await Promise.race([done, sleep(10_000).then(() => 'timeout' as const)]);
      if (code !== 'timeout') return code;
      child.kill('SIGKILL');
      await done;
      return null;
    },
  };
}

/** One check the client reports. */
export interface ClientCheck {
  status: 'PASS' | 'FAIL' | 'SKIP';
  name: string;
  detail: string;
}

/** The client's report on a device: its checks by name, and its exit code. */
export interface ClientReport {
  checks: Map<string, ClientCheck>;
  exitCode: number;
  output: string;
}

/** Runs the raw-ioctl client against a device node. */
export async function runClient(binaries: FixtureBinaries, abi: FixtureAbi, path: string): Promise<ClientReport> {
  let output: string;
  let exitCode = 0;
  try {
    ({ stdout: output } = await execFileAsync(binaries.client, ['--abi', abi, '--device', path], { timeout: 300_000 }));
  } catch (err) {
    const e = err as { stdout?: unknown; stderr?: unknown; code?: unknown };
    output = `${typeof e.stdout === 'string' ? e.stdout : ''}${typeof e.stderr === 'string' ? e.stderr : ''}`;
    exitCode = typeof e.code === 'number' ? e.code : -1;
  }
  const checks = new Map<string, ClientCheck>();
  for (const line of output.split('\n')) {
    const m = /^(PASS|FAIL|SKIP) (\S+) ?(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined)
      checks.set(m[2], { status: m[1] as ClientCheck['status'], name: m[2], detail: m[3] ?? '' });
  }
  return { checks, exitCode, output };
}
