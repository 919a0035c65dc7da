/**
 * The options of `kcrypto bench`, and their parsing: every mistake is a {@link BenchUsageError}
 * naming the option, so the command can print it with the usage text and exit 2.
 */
import { findCipher, findHash, type CipherAlgorithm, type HashAlgorithm } from '../../algorithms/catalog.js';

/** An algorithm the benchmark measures: a plain cipher (encryption) or a hash. */
export type BenchAlgorithm = CipherAlgorithm | HashAlgorithm;

/** What `kcrypto bench` was asked to measure, and how to print it. */
export interface BenchOptions {
  algorithms: BenchAlgorithm[];
  /** Request sizes in bytes, ascending, no repeats. */
  sizes: number[];
  /** Requests in flight, ascending, no repeats. */
  depths: number[];
  /** kcrypto drivers asked for by `--driver`; empty: every usable one and `fastest`. */
  drivers: string[];
  /** Measuring time of each point in milliseconds, all its rounds together (each warms up a tenth more). */
  timeMs: number;
  json: boolean;
  svg: string | null;
  /** Leaves out the compiled C baseline. */
  noNative: boolean;
}

/** A mistake on the command line. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

/** What the benchmark measures when `--algorithm` is not given. */
export const DEFAULT_ALGORITHMS = ['aes-256-cbc', 'sha256'] as const;
export const DEFAULT_SIZES = [64, 1024, 16384, 65536, 1048576] as const;
export const DEFAULT_DEPTHS = [1, 8, 64] as const;
export const DEFAULT_TIME_MS = 300;
/** Largest request (64 MiB), as the C baseline takes. */
export const MAX_SIZE = 64 * 1024 * 1024;
export const MAX_DEPTH = 1024;

/** A plain cipher or a hash by node:crypto name (`aes-256-cbc`, `sha256`), or why not. */
export function benchAlgorithm(name: string): BenchAlgorithm {
  const hash = findHash(name);
  if (hash) return hash;
  const cipher = findCipher(name);
  if (cipher?.kind === 'cipher') return cipher;
  if (cipher) throw new BenchUsageError(`--algorithm ${name}: authenticated ciphers are not benchmarked (a plain cipher or a hash)`);
  throw new BenchUsageError(`--algorithm ${name}: unknown algorithm (node:crypto names: aes-256-cbc, aes-128-ctr, sha256, …)`);
}

/** `64`, `1k`, `16K`, `1m`, `1MiB`: bytes (k and m are 1024 and 1024²). */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*(k|m|kib|mib|b)?$/i.exec(text.trim());
  if (!m) throw new BenchUsageError(`--sizes: ${JSON.stringify(text)} is not a size (64, 1k, 16k, 1m)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const bytes = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
  if (bytes < 1 || bytes > MAX_SIZE) throw new BenchUsageError(`--sizes: ${text} is out of range (1 byte to 64m)`);
  return bytes;
}

/** A size as `--sizes` takes it: 64, 16k, 1m. */
export function sizeArgument(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}m`;
  if (bytes % 1024 === 0) return `${bytes / 1024}k`;
  return String(bytes);
}

function parseDepth(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new BenchUsageError(`--depth: ${JSON.stringify(text)} is not a whole number`);
  const n = Number(text);
  if (n < 1 || n > MAX_DEPTH) throw new BenchUsageError(`--depth: ${n} is out of range (1 to ${MAX_DEPTH})`);
  return n;
}

function list<T>(text: string, option: string, parse: (item: string) => T): T[] {
  const items = text.split(',').filter((s) => s.trim() !== '');
  if (items.length === 0) throw new BenchUsageError(`${option} needs at least one value`);
  return items.map(parse);
}

const ascending = (values: number[]): number[] => [...new Set(values)].sort((a, b) => a - b);

/** Throws when a cipher cannot take one of the sizes (CBC and ECB: whole 16-byte blocks). */
function checkSizes(algorithms: readonly BenchAlgorithm[], sizes: readonly number[]): void {
  for (const alg of algorithms) {
    if (alg.kind !== 'cipher') continue;
    const bad = sizes.find((s) => s % alg.alignment !== 0 || s < alg.minLength);
    if (bad !== undefined)
      throw new BenchUsageError(
        `--sizes: ${alg.name} takes whole ${alg.alignment}-byte blocks of at least ${alg.minLength} bytes, not ${bad}`,
      );
  }
}

/** Parses the arguments after `kcrypto bench`. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let algorithms: BenchAlgorithm[] | null = null;
  let sizes: number[] = [...DEFAULT_SIZES];
  let depths: number[] = [...DEFAULT_DEPTHS];
  const drivers: string[] = [];
  let timeMs = DEFAULT_TIME_MS;
  let json = false;
  let svg: string | null = null;
  let noNative = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new BenchUsageError(`${name} needs a value`);
      i++;
      return next;
    };
    switch (name) {
      case '--algorithm':
      case '--algorithms':
        algorithms = [...(algorithms ?? []), ...list(value(), '--algorithm', (a) => benchAlgorithm(a.trim()))];
        break;
      case '--sizes':
      case '--size':
        sizes = ascending(list(value(), '--sizes', parseSize));
        break;
      case '--depth':
      case '--depths':
        depths = ascending(list(value(), '--depth', parseDepth));
        break;
      case '--driver':
        drivers.push(...list(value(), '--driver', (d) => d.trim()));
        break;
      case '--time': {
        const v = value();
        timeMs = Number(v);
        if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(timeMs >= 1) || timeMs > 600_000)
          throw new BenchUsageError(`--time: ${JSON.stringify(v)} is not a time in milliseconds (1 to 600000)`);
        break;
      }
      case '--json':
        json = true;
        break;
      case '--svg':
        svg = value();
        if (svg === '') throw new BenchUsageError('--svg needs a file name');
        break;
      case '--no-native':
        noNative = true;
        break;
      default:
        throw new BenchUsageError(`unknown option ${arg}`);
    }
  }
  const algs = algorithms ?? DEFAULT_ALGORITHMS.map(benchAlgorithm);
  const unique = algs.filter((a, k) => algs.findIndex((b) => b.name === a.name) === k);
  checkSizes(unique, sizes);
  return { algorithms: unique, sizes, depths, drivers: [...new Set(drivers)], timeMs, json, svg, noNative };
}
