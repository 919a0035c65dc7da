/**
 * The C baseline of `kcrypto bench`: native/bench/kcrypto-bench-baseline.c, shipped in the
 * package, compiled at run time with the machine's C compiler into a temporary directory, and
 * run once per point. It measures the same request made from C: through AF_ALG (the kernel's
 * own choice of driver) and through OpenSSL's libcrypto where its headers are installed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Measured } from './measure.js';
import type { BenchAlgorithm } from './options.js';
import type { Skipped, Subject } from './subjects.js';

/** The baseline's source under the package root. */
export const BASELINE_SOURCE = join('native', 'bench', 'kcrypto-bench-baseline.c');

/** A compiled baseline: where it is, and whether libcrypto went into it. */
export interface CompiledBaseline {
  binary: string;
  libcrypto: boolean;
  compiler: string;
  /** Removes the temporary directory. */
  dispose(): void;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr, ...(err && code === null ? { error: err.message } : {}) });
    });
  });
}

/** The compiler: `$CC` when set, else `cc`. */
export function compilerName(env: NodeJS.ProcessEnv = process.env): string {
  return env['CC']?.trim() || 'cc';
}

/**
 * Compiles the baseline from package root `root`: with libcrypto first, without it when that
 * fails (no OpenSSL headers or library). Resolves with the reason when there is no compiler or
 * neither build works.
 */
export async function compileBaseline(root: string, compiler = compilerName()): Promise<CompiledBaseline | { reason: string }> {
  const source = join(root, BASELINE_SOURCE);
  if (!existsSync(source)) return { reason: `${source} is missing` };
  const dir = mkdtempSync(join(tmpdir(), 'kcrypto-bench-'));
  const binary = join(dir, 'kcrypto-bench-baseline');
  const dispose = (): void => rmSync(dir, { recursive: true, force: true });
  const common = ['-O2', '-pthread', '-o', binary, source];
  const withSsl = await run(compiler, [...common.slice(0, 2), '-DKCRYPTO_WITH_LIBCRYPTO', ...common.slice(2), '-lcrypto'], 120_000);
  if (withSsl.code === 0) return { binary, libcrypto: true, compiler, dispose };
  if (withSsl.code === null && (withSsl.error ?? '').includes('ENOENT')) {
    dispose();
    return { reason: `no C compiler (${compiler} not found; set CC to use another)` };
  }
  const plain = await run(compiler, common, 120_000);
  if (plain.code === 0) return { binary, libcrypto: false, compiler, dispose };
  dispose();
  const why = (plain.stderr || plain.error || '').trim().split('\n').slice(0, 3).join(' / ');
  return { reason: `${compiler} could not compile ${BASELINE_SOURCE}: ${why}` };
}

/** One run of the baseline: its figures, or its error line. */
async function runBaseline(b: CompiledBaseline, args: readonly string[], ms: number): Promise<Measured> {
  const r = await run(b.binary, args, Math.max(10_000, ms * 5));
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: { ops?: number; bytes?: number; seconds?: number; error?: string } = {};
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    throw new Error(`baseline printed no result (${r.error ?? (r.stderr.trim() || `exit ${r.code}`)})`);
  }
  if (parsed.error !== undefined) throw new Error(parsed.error);
  return { ops: parsed.ops ?? 0, bytes: parsed.bytes ?? 0, seconds: parsed.seconds ?? 0 };
}

/**
 * The baseline's arguments for `alg` through `backend`. Requests in flight are threads, each
 * with one request: as many as asked through AF_ALG (a device driver holds them all at once),
 * no more than the CPUs for libcrypto (its work is CPU time; more threads only wait their turn
 * and stretch the measured time with the last ones to finish).
 */
function argsOf(backend: 'afalg' | 'libcrypto', alg: BenchAlgorithm, size: number, depth: number, ms: number): string[] {
  const cipher = alg.kind === 'cipher';
  return [
    backend,
    cipher ? 'cipher' : 'hash',
    backend === 'afalg' ? alg.kernelName : alg.name,
    String(cipher ? alg.keyLength : 0),
    String(size),
    String(ms / 1000),
    String(backend === 'libcrypto' ? Math.min(depth, availableParallelism()) : depth),
  ];
}

/**
 * The baseline's subjects for `alg`: `C AF_ALG`, and `C libcrypto` where it was compiled in.
 * Each is tried once on a small request first; one that fails is skipped with its error
 * (AF_ALG missing from the kernel, the algorithm unknown to OpenSSL).
 */
export async function baselineSubjects(b: CompiledBaseline, alg: BenchAlgorithm): Promise<{ subjects: Subject[]; skipped: Skipped[] }> {
  const subjects: Subject[] = [];
  const skipped: Skipped[] = [];
  const probeSize = alg.kind === 'cipher' ? Math.max(alg.alignment, alg.minLength) : 64;
  for (const backend of ['afalg', 'libcrypto'] as const) {
    const name = backend === 'afalg' ? 'C AF_ALG' : 'C libcrypto';
    if (backend === 'libcrypto' && !b.libcrypto) {
      skipped.push({ name, kind: 'c', reason: "OpenSSL's headers or libcrypto are not installed (Debian: libssl-dev)" });
      continue;
    }
    try {
      await runBaseline(b, argsOf(backend, alg, probeSize, 1, 1), 1);
    } catch (err) {
      skipped.push({ name, kind: 'c', reason: (err as Error).message });
      continue;
    }
    subjects.push({
      name,
      kind: 'c',
      synchronous: false,
      measure: (size, depth, ms) => runBaseline(b, argsOf(backend, alg, size, depth, ms), ms),
      close: () => Promise.resolve(),
    });
  }
  return { subjects, skipped };
}
