/**
 * errno names and numbers for every layer. The host's table starts from Node's own
 * (`os.constants.errno`), so looking a name up never loads the native addon: the pure
 * JavaScript framework and software drivers use it as the kernel paths do. The addon reports
 * the numbers of the C library it was built against; addon.ts registers them when it loads.
 */
import { constants } from 'node:os';

/**
 * Names the kernel returns that Node does not number, with their Linux numbers. The addon's
 * table replaces them on a host that numbers them otherwise; ERESTART is also what a driver's
 * process() returns to push back, whatever the host.
 */
const BEYOND_NODE: Readonly<Record<string, number>> = {
  ENOPKG: 65,
  ERESTART: 85,
  ESOCKTNOSUPPORT: 94,
  ESHUTDOWN: 108,
  ENOKEY: 126,
  EKEYEXPIRED: 127,
  EKEYREVOKED: 128,
  EKEYREJECTED: 129,
};

/**
 * Names a number is reported by when it has several (EWOULDBLOCK is EAGAIN on Linux, ENOTSUP
 * is EOPNOTSUPP): the one a program would test for comes first.
 */
const PREFERRED = ['EAGAIN', 'EOPNOTSUPP', 'EDEADLK'];

/** errno lookups against one table: the host's, or one a kernel probe was handed. */
export class ErrnoTable {
  readonly #byName = new Map<string, number>();
  readonly #byNumber = new Map<number, string>();

  constructor(...tables: Readonly<Record<string, number>>[]) {
    for (const t of tables) this.add(t);
  }

  /**
   * Adds (or renumbers) the names of `table`. A number's name is the first name given for it,
   * so an alias added later never renames it.
   */
  add(table: Readonly<Record<string, number>>): void {
    for (const [name, n] of Object.entries(table)) if (typeof n === 'number') this.#byName.set(name, n);
    this.#byNumber.clear();
    for (const [name, n] of this.#byName) if (!this.#byNumber.has(n)) this.#byNumber.set(n, name);
  }

  /** The number of errno `name`, or undefined when the table lacks it. */
  number(name: string): number | undefined {
    return this.#byName.get(name);
  }

  /** The name of errno `n`, or undefined when the table lacks it. */
  name(n: number): string | undefined {
    return this.#byNumber.get(n);
  }

  /** Whether `n` is one of the named errnos (names absent from the table never match). */
  is(n: number, ...names: string[]): boolean {
    return names.some((name) => this.#byName.get(name) === n);
  }

  /** `ENOENT`, or `errno 36` for a number the table does not name. */
  code(n: number): string {
    return this.name(n) ?? `errno ${n}`;
  }
}

/** The preferred names first (see PREFERRED), then Node's in its order. */
function nodeTable(): Record<string, number> {
  const node = constants.errno as Readonly<Record<string, number>>;
  const out: Record<string, number> = {};
  for (const name of PREFERRED) if (node[name] !== undefined) out[name] = node[name];
  return Object.assign(out, node);
}

const host = new ErrnoTable(nodeTable(), Object.fromEntries(Object.entries(BEYOND_NODE).filter(([name]) => !(name in constants.errno))));

/** Registers the numbers the native addon reports (it knows names Node lacks, and the host's numbers for them). */
export function registerErrnos(table: Readonly<Record<string, number>>): void {
  host.add(table);
}

/** The table of an object that reports one (the addon, or a test's stand-in); empty when it throws. */
export function errnoTableOf(source: { errnoTable(): Record<string, number> } | null): ErrnoTable {
  try {
    return new ErrnoTable(source === null ? {} : source.errnoTable());
  } catch {
    // Without a table errnos are shown as numbers.
    return new ErrnoTable();
  }
}

/** The host's number for an errno name. */
export function errnoOf(name: string): number {
  const n = host.number(name);
  if (n === undefined) throw new TypeError(`unknown errno name ${name}`);
  return n;
}

/** The name of a host errno number (`'E' + number` when unknown). */
export function errnoName(errno: number): string {
  return host.name(errno) ?? `E${errno}`;
}
