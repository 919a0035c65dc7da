/**
 * Parser for `/proc/crypto`, the kernel's list of registered crypto algorithm implementations.
 *
 * The kernel (crypto/proc.c `c_show`, plus each algorithm type's `show` hook) prints one record
 * per registered algorithm as `key : value` lines with the key padded to 13 columns, and ends
 * every record with a blank line. Which keys appear depends on the algorithm type and on the
 * kernel version (for example `walksize` since 4.x, `statesize` for skciphers since 6.7, `fips`
 * only when booted with `fips=1`), so every key is optional beyond the common header and any key
 * this module does not know is kept verbatim in {@link ProcCryptoEntry.extra}.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';

/**
 * One algorithm implementation as printed in `/proc/crypto`.
 *
 * The header fields (`name` … `type`) are printed for every record; the others only for the
 * algorithm types that have them. Numbers are parsed as numbers and `yes`/`no` as booleans.
 */
export interface ProcCryptoEntry {
  /** `cra_name`: the generic algorithm name, e.g. `cbc(aes)`. Several drivers share it. */
  name: string;
  /** `cra_driver_name`: unique name of this implementation, e.g. `cbc-aes-aesni`. */
  driver: string;
  /** Owning kernel module, or `kernel` when built in. */
  module: string;
  /** `cra_priority`: the highest-priority driver wins a lookup by generic name. */
  priority: number;
  /** Current reference count. */
  refcnt: number;
  /** `passed` when the self-test ran and passed, `unknown` otherwise (kept as printed). */
  selftest: string;
  /** `CRYPTO_ALG_INTERNAL`: usable only inside other kernel algorithms, not from user space. */
  internal: boolean;
  /** Printed only when the kernel runs in FIPS mode: `true` when the algorithm is FIPS-allowed. */
  fips?: boolean;
  /** Kernel algorithm type: `skcipher`, `aead`, `shash`, `ahash`, `rng`, `akcipher`, `larval`, … */
  type: string;
  /** `CRYPTO_ALG_ASYNC` (skcipher, aead, ahash and the legacy ablkcipher types only). */
  async?: boolean;
  blocksize?: number;
  /** `min keysize` in bytes. */
  minKeysize?: number;
  /** `max keysize` in bytes. */
  maxKeysize?: number;
  ivsize?: number;
  /** IV generator as printed (`<none>`, `<default>`, `seqiv`, …); kept as a string. */
  geniv?: string;
  chunksize?: number;
  walksize?: number;
  digestsize?: number;
  seedsize?: number;
  statesize?: number;
  maxauthsize?: number;
  /**
   * Every line whose key is not one of the fields above, by key as printed (e.g. `flags` of a
   * larval record), plus the raw text of a known numeric or yes/no field whose value did not
   * parse — so that nothing the kernel printed is lost.
   */
  extra: Record<string, string>;
}

type NumericField =
  | 'priority'
  | 'refcnt'
  | 'blocksize'
  | 'minKeysize'
  | 'maxKeysize'
  | 'ivsize'
  | 'chunksize'
  | 'walksize'
  | 'digestsize'
  | 'seedsize'
  | 'statesize'
  | 'maxauthsize';
type BooleanField = 'internal' | 'async' | 'fips';
type StringField = 'name' | 'driver' | 'module' | 'selftest' | 'type' | 'geniv';

/** Keys exactly as the kernel prints them, mapped to record fields. */
const NUMERIC_KEYS: ReadonlyMap<string, NumericField> = new Map<string, NumericField>([
  ['priority', 'priority'],
  ['refcnt', 'refcnt'],
  ['blocksize', 'blocksize'],
  ['min keysize', 'minKeysize'],
  ['max keysize', 'maxKeysize'],
  ['ivsize', 'ivsize'],
  ['chunksize', 'chunksize'],
  ['walksize', 'walksize'],
  ['digestsize', 'digestsize'],
  ['seedsize', 'seedsize'],
  ['statesize', 'statesize'],
  ['maxauthsize', 'maxauthsize'],
]);
const BOOLEAN_KEYS: ReadonlyMap<string, BooleanField> = new Map<string, BooleanField>([
  ['internal', 'internal'],
  ['async', 'async'],
  ['fips', 'fips'],
]);
const STRING_KEYS: ReadonlyMap<string, StringField> = new Map<string, StringField>([
  ['name', 'name'],
  ['driver', 'driver'],
  ['module', 'module'],
  ['selftest', 'selftest'],
  ['type', 'type'],
  ['geniv', 'geniv'],
]);

/** Integers only: the kernel prints `%u`/`%d`, and anything else means the format changed. */
const INTEGER = /^-?\d+$/;

function parseBoolean(value: string): boolean | undefined {
  if (value === 'yes') return true;
  if (value === 'no') return false;
  return undefined;
}

/** Record under construction: every field may still be missing. */
type Draft = Partial<Omit<ProcCryptoEntry, 'extra'>> & { extra: Record<string, string> };

function newDraft(): Draft {
  return { extra: {} };
}

/**
 * Completes a record. `name` and `driver` are printed first for every algorithm, so a block
 * without them is not an algorithm record and is dropped. The other header fields fall back to
 * what the kernel would print for an algorithm that lacks the flag (old kernels omit `internal`).
 */
function finish(d: Draft): ProcCryptoEntry | null {
  if (d.name === undefined || d.driver === undefined) return null;
  const { name, driver, module, priority, refcnt, selftest, internal, type, extra, ...rest } = d;
  return {
    name,
    driver,
    module: module ?? 'kernel',
    priority: priority ?? 0,
    refcnt: refcnt ?? 0,
    selftest: selftest ?? 'unknown',
    internal: internal ?? false,
    type: type ?? 'unknown',
    ...rest,
    extra,
  };
}

/** Stores one `key : value` line into the draft; unknown or unparsable values go to `extra`. */
function assign(d: Draft, key: string, value: string): void {
  const numeric = NUMERIC_KEYS.get(key);
  if (numeric !== undefined) {
    if (INTEGER.test(value)) d[numeric] = Number(value);
    else d.extra[key] = value;
    return;
  }
  const boolean = BOOLEAN_KEYS.get(key);
  if (boolean !== undefined) {
    const b = parseBoolean(value);
    if (b !== undefined) d[boolean] = b;
    else d.extra[key] = value;
    return;
  }
  const str = STRING_KEYS.get(key);
  if (str !== undefined) {
    d[str] = value;
    return;
  }
  d.extra[key] = value;
}

/**
 * Parses the text of `/proc/crypto` into one record per algorithm, in the kernel's order
 * (most recently registered first).
 *
 * Tolerates CRLF line ends, trailing blanks and a missing final blank line. A `name` line inside
 * a record that already has a name starts a new record, so two records not separated by a blank
 * line are still split correctly. Lines without a colon are ignored (the kernel prints none).
 *
 * @param text - the file's contents.
 * @returns the records; empty for empty input.
 */
export function parseProcCrypto(text: string): ProcCryptoEntry[] {
  const entries: ProcCryptoEntry[] = [];
  let draft = newDraft();
  let lines = 0;
  const flush = (): void => {
    if (lines > 0) {
      const e = finish(draft);
      if (e !== null) entries.push(e);
    }
    draft = newDraft();
    lines = 0;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.trim() === '') {
      flush();
      continue;
    }
    // Keys never contain a colon; values may (a driver name could), so split at the first one.
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === '') continue;
    if (key === 'name' && draft.name !== undefined) flush();
    assign(draft, key, value);
    lines++;
  }
  flush();
  return entries;
}

/**
 * Reads and parses `/proc/crypto`.
 *
 * @param path - file to read; tests and the lab pass a capture here.
 * @returns the records, or `null` when the file does not exist (not Linux, or procfs not
 *   mounted). Other I/O errors (for example `EACCES` under a hardened procfs) are thrown so the
 *   caller can report them.
 */
export async function readProcCrypto(path = '/proc/crypto'): Promise<ProcCryptoEntry[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  return parseProcCrypto(text);
}
