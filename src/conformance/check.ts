/**
 * What a conformance check is and what it reports: the contract between the checks
 * (`checks/`), the runner that applies them to drivers, and the reports (table, JUnit, JSON).
 */
import type { Execution } from '../kernel/bridge/engine/index.js';
import type { SessionSpec } from '../api/open-session.js';
import type { Session } from '../api/session.js';
import type { Family } from './families.js';

/** `quick`: a sample that finishes in about a minute per driver in the emulated lab; `full`: every vector and size. */
export type Depth = 'quick' | 'full';

/** A check's verdict on one algorithm of one driver. `n/a` always carries the reason. */
export type Status = 'pass' | 'fail' | 'n/a';

/**
 * The smallest input found that reproduces a failure, as hex, so that a driver author can
 * replay it: open `algorithm` with `key` (and `authKey`, `tagLength`) on the driver, run
 * `operation` on `data` with `iv`, `aad` (and `tag` to decrypt), and compare with `expected`.
 */
export interface Reproducer {
  /** The kernel algorithm name (`cbc(aes)`). */
  algorithm: string;
  operation: 'encrypt' | 'decrypt' | 'digest' | 'update-final' | 'copy';
  key?: string;
  /** authenc's HMAC key. */
  authKey?: string;
  iv?: string;
  aad?: string;
  /** The tag handed to a decryption. */
  tag?: string;
  tagLength?: number;
  data: string;
  /** What the reference (node:crypto, or the published vector) gives. */
  expected?: string;
  /** What the driver gave, or its error. */
  got?: string;
}

/** One failing case: what went wrong, and how to replay it where that can be said in bytes. */
export interface Failure {
  message: string;
  reproducer?: Reproducer;
}

/** A driver the kit is run on. */
export interface Target {
  /** openSession's `driver` option. */
  readonly driver: string;
  /** The kcrypto driver name its sessions report (`afalg:cbc-aes-aesni`, `devcrypto:linux:…`). */
  readonly label: string;
  /** Served by an addon engine (AF_ALG, /dev/crypto, openssl): execution policies apply. */
  readonly kernel: boolean;
  /** The kernel driver (cra_driver_name) behind it. */
  readonly kernelDriver?: string;
  /** A generic instance the project's suite insists on: failing to create it is a failure. */
  readonly required: boolean;
  /** The algorithm names the listing says it implements; undefined when not listed. */
  readonly algorithms?: readonly string[];
  /** Why it cannot be tested here (every check of it is `n/a` with this reason). */
  readonly skip?: string;
}

/** A session class (CipherSession, AeadSession, …), for {@link CheckContext.open}. */
export type SessionClass<S extends Session> = abstract new (...args: never[]) => S;

/** What a check is given for one algorithm of one driver. */
export interface CheckContext {
  readonly family: Family;
  readonly target: Target;
  readonly depth: Depth;
  /** Opens a session on the target (checking its class), under an execution policy when given. */
  open<S extends Session>(kind: SessionClass<S>, spec: SessionSpec, execution?: Execution): Promise<S>;
  /** Counts one case (or `n`) under an outcome: `valid`, `invalid tag refused`, `sizes`, … */
  count(outcome: string, n?: number): void;
  /** Records a failure; the check goes on with its other cases. */
  fail(failure: Failure): void;
  /** Reports how far the check is (for the progress line on a terminal). */
  progress(done: number, total: number): void;
}

/** One check of the kit. */
export interface Check {
  /** Short stable name: the JUnit test case name and the JSON key (`vectors`, `differential`, …). */
  readonly id: string;
  /** One line saying what it proves, for the README and `--help`. */
  readonly title: string;
  /**
   * Why the check does not apply to this algorithm on this driver (the verdict is then `n/a`
   * with this reason), or undefined when it does.
   */
  notApplicable(family: Family, target: Target, depth: Depth): string | undefined;
  /** Runs the check; a throw is a failure too (recorded with its message). */
  run(ctx: CheckContext): Promise<void>;
}

/** A check's verdict on one algorithm of one driver. */
export interface CheckResult {
  check: string;
  status: Status;
  /** Why `n/a`, or a one-line summary of a failure. */
  reason?: string;
  /** Cases by outcome. */
  counts: Record<string, number>;
  failures: Failure[];
  ms: number;
}

/** Every check's verdict on one algorithm of a driver. */
export interface AlgorithmReport {
  algorithm: string;
  checks: CheckResult[];
}

/** One driver's report. */
export interface DriverReport {
  driver: string;
  kernelDriver?: string;
  /** Why it was not tested at all, when it was not. */
  skip?: string;
  algorithms: AlgorithmReport[];
  ms: number;
}

/** A whole run. */
export interface ConformanceReport {
  /** Bumped when a field changes meaning. */
  format: 1;
  kcrypto: string;
  /** The kernel release (`uname -r`) and machine. */
  host: { kernel: string; machine: string; node: string };
  depth: Depth;
  started: string;
  ms: number;
  drivers: DriverReport[];
  totals: Record<Status, number>;
}

/** A progress event, for the terminal line. */
export interface Progress {
  driver: string;
  algorithm: string;
  check: string;
  done: number;
  total: number;
}
