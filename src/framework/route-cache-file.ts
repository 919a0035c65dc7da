/**
 * The route table's file on disk: read only when it can be trusted, written so that nobody else
 * can read or change it. The table only steers which driver serves a request, but a file that
 * another user could write would let them steer this process's requests (to a driver of their
 * choosing, or to none, with absurd costs), so a file that is not plainly this user's own, or
 * whose content is not what kcrypto writes, is set aside whole and the table measured again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debuglog } from 'node:util';
import { Buffer } from 'node:buffer';

/** NODE_DEBUG=kcrypto prints why a table was set aside. */
export const debug = debuglog('kcrypto');

/** Larger than any table kcrypto writes (about 1 KiB per driver and algorithm). */
export const MAX_FILE_BYTES = 1 << 20;
/** A cost past this (1000 s per request) is no measurement. */
const MAX_NS = 1e12;
/** Driver names as kcrypto makes them (`software`, `afalg:cbc-aes-aesni`, `devcrypto:cryptodev-linux:…`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:()+,@-]{0,127}$/;
/** Algorithm keys as route-measure.ts makes them: `alg/klen[/mlen]`, chained with `+`. */
const ALGORITHM = /^\d{1,4}\/\d{1,5}(\/\d{1,3})?(\+\d{1,4}\/\d{1,5}(\/\d{1,3})?){0,3}$/;

/** One entry as stored. */
export interface StoredEntry {
  time: Record<string, number>;
  cpu: Record<string, number>;
  measuredAt: number;
  method?: number;
}

const uid = (): number | undefined => process.getuid?.();

function checkOwner(st: fs.Stats, what: string): string | undefined {
  const me = uid();
  if (me !== undefined && st.uid !== me) return `${what} is owned by uid ${st.uid}, not this user (${me})`;
  if ((st.mode & 0o022) !== 0) return `${what} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

function checkDirectory(dir: string): string | undefined {
  const st = fs.statSync(dir);
  const me = uid();
  if (me !== undefined && st.uid !== me && st.uid !== 0) return `directory is owned by uid ${st.uid}`;
  // A shared directory (/tmp) is fine only with the sticky bit: nobody else can replace the file.
  if ((st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0) return 'directory is writable by others without the sticky bit';
  return undefined;
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function checkCosts(v: unknown, sizes: readonly number[]): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length !== sizes.length) return false;
  return sizes.every((s) => finite(o[String(s)]) && (o[String(s)] as number) >= 0 && (o[String(s)] as number) <= MAX_NS);
}

/** Why the parsed content is not a table kcrypto wrote, or undefined when it is. */
export function checkContent(data: unknown, sizes: readonly number[], now = Date.now()): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not a JSON object';
  for (const [key, v] of Object.entries(data as Record<string, unknown>)) {
    const parts = key.split('|');
    if (parts.length !== 3 || parts[0]!.length === 0 || parts[0]!.length > 128) return `malformed key ${JSON.stringify(key.slice(0, 80))}`;
    if (!NAME.test(parts[1]!)) return `unknown driver name ${JSON.stringify(parts[1]!.slice(0, 80))}`;
    if (!ALGORITHM.test(parts[2]!)) return `unknown algorithm name ${JSON.stringify(parts[2]!.slice(0, 80))}`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `entry ${parts[1]}|${parts[2]} is not an object`;
    const e = v as Record<string, unknown>;
    // An entry of an older format (no CPU figures, another method) is kcrypto's own: the table
    // leaves it out and measures it again; anything else must hold exactly what is written.
    if (e['method'] !== undefined && !(Number.isInteger(e['method']) && (e['method'] as number) > 0 && (e['method'] as number) < 1000))
      return `entry ${parts[1]}|${parts[2]}: bad method`;
    if (!finite(e['measuredAt']) || e['measuredAt'] < 0 || e['measuredAt'] > now + 24 * 3600 * 1000)
      return `entry ${parts[1]}|${parts[2]}: bad measuredAt`;
    if (!checkCosts(e['time'], sizes)) return `entry ${parts[1]}|${parts[2]}: bad time figures`;
    if (e['cpu'] !== undefined && !checkCosts(e['cpu'], sizes)) return `entry ${parts[1]}|${parts[2]}: bad cpu figures`;
  }
  return undefined;
}

/**
 * Reads the table: its entries, or why it was set aside (`missing` when there is no file).
 * Never throws.
 */
export function readTableFile(file: string, sizes: readonly number[]): { data: Record<string, StoredEntry> } | { rejected: string } {
  let fd: number | undefined;
  try {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      return { rejected: 'missing' };
    }
    if (st.isSymbolicLink()) return { rejected: 'the file is a symbolic link' };
    if (!st.isFile()) return { rejected: 'not a regular file' };
    const dirWhy = checkDirectory(path.dirname(file));
    if (dirWhy) return { rejected: dirWhy };
    // O_NOFOLLOW and a second look at the open file: what is read is what was checked.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const fst = fs.fstatSync(fd);
    if (!fst.isFile() || fst.ino !== st.ino || fst.dev !== st.dev) return { rejected: 'the file changed while it was opened' };
    const ownerWhy = checkOwner(fst, 'the file');
    if (ownerWhy) return { rejected: ownerWhy };
    if (fst.size > MAX_FILE_BYTES) return { rejected: `the file is ${fst.size} bytes (more than ${MAX_FILE_BYTES})` };
    const buf = Buffer.alloc(fst.size);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    let data: unknown;
    try {
      data = JSON.parse(buf.subarray(0, n).toString('utf8'));
    } catch {
      return { rejected: 'not valid JSON' };
    }
    const why = checkContent(data, sizes);
    if (why) return { rejected: why };
    return { data: data as Record<string, StoredEntry> };
  } catch (err) {
    return { rejected: `unreadable: ${(err as Error).message}` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Writes the table: directory 0700 (tightened when it is this user's and looser), file 0600,
 * through a new temporary file renamed over the old one, so that a reader sees the old table
 * or the new one whole. Throws what the file system threw.
 */
export function writeTableFile(file: string, data: Record<string, StoredEntry>): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  const me = uid();
  // Only the directory kcrypto names for itself is tightened, never a shared one.
  if (me !== undefined && st.uid === me && (st.mode & 0o077) !== 0 && (st.mode & 0o1000) === 0 && path.basename(dir) === 'kcrypto')
    fs.chmodSync(dir, 0o700);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(data, null, 1));
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
