/** What one benchmark run measured: the shape report.ts renders. */
import type { LoopDelay, Sample } from './measure.js';
import type { RoutingResult } from './routing.js';

/** kcrypto's execution counters over one measurement (differences of session/dispatcher stats). */
export interface ExecDelta {
  inline: number;
  threaded: number;
  /** Dispatcher worker wake-ups. */
  wakeups: number;
  /** Completion batches delivered to JavaScript. */
  deliveries: number;
  /** Requests a busy device lane handed to a kernel queue together, and in how many submissions. */
  queued?: number;
  queueBatches?: number;
}

/** One measured point, or why it could not be measured. */
export interface Cell {
  sample?: Sample;
  reason?: string;
  exec?: ExecDelta;
}

/** A serial row: one path (kcrypto, C, node:crypto) over one algorithm and driver. */
export interface Row {
  path: 'kcrypto' | 'c' | 'node';
  /** Key of the group it belongs to (for ratios); node rows use the algorithm. */
  group: string;
  label: string;
  cells: Map<number, Cell>;
}

/** A kernel group: one algorithm on one kernel driver, measured by kcrypto and by C. */
export interface Group {
  key: string;
  title: string;
  /** The driver requested from kcrypto. */
  requested: string;
  /** The kernel driver that served kcrypto (or the C baseline), once known. */
  driver?: string;
  /** The kernel interface the group goes through (AF_ALG when absent). */
  interface?: 'afalg' | 'devcrypto';
  /** Appended to the group's name in the tables (`[CUSE fixture]`). */
  mark?: string;
}

/** A row of an in-flight or event-loop table. */
export interface LoadRow {
  label: string;
  inFlight: number;
  size: number;
  cell: Cell;
  delay?: LoopDelay;
  /** Event-loop time taken by issuing the first `inFlight` requests. */
  burstMs?: number;
}

/** Sessions opened and closed one after another on one driver (see open-close.ts). */
export interface OpenCloseRow {
  label: string;
  rounds: number;
  /** Medians, in ms; absent with `reason`. */
  openMs?: number;
  closeMs?: number;
  /** Timer lateness throughout. */
  delay?: LoopDelay;
  reason?: string;
}

/** A kcrypto session's measured cost model, as the engine holds it. */
export interface CostRow {
  label: string;
  synchronous: boolean;
  execution: string;
  fixedNs: number;
  perByteNs: number;
  samples: number;
  requests: number;
  inline: number;
  threaded: number;
}

/** The /dev/crypto part of a run. */
export interface DevCryptoReport {
  /** Which device, which ABI, what serves it, how many drivers; or why none. */
  summary: string;
  /** The device is the project's CUSE test fixture, not a module. */
  fixture: boolean;
  /** The C baseline, or why it is unavailable. */
  baseline: string;
  /** Requests in flight on the device's AES-128-CBC driver(s). */
  inFlight: LoadRow[];
  /** Why there are no in-flight rows. */
  inFlightReason?: string;
}

/** Everything one run measured. */
export interface Results {
  date: string;
  kernel: string;
  cpu: string;
  cpus: number;
  node: string;
  kcrypto: string;
  seconds: number;
  quick: boolean;
  harnessTest: boolean;
  afalg: string;
  baseline: string;
  sizes: number[];
  groups: Group[];
  rows: Row[];
  inFlight: LoadRow[];
  smallInFlight: LoadRow[];
  loop: LoadRow[];
  /** Sessions opened and closed on the CPU driver and on the card. */
  openClose: OpenCloseRow[];
  idleDelay?: LoopDelay;
  policy: Row[];
  costs: CostRow[];
  engine?: { hopNs: number; hopSamples: number; inFlight: number };
  /** CPU lane of the addon's dispatcher. */
  dispatcher?: Record<string, number>;
  /** Device lane of the addon's dispatcher. */
  deviceDispatcher?: Record<string, number>;
  notes: string[];
  /** Measured routing against each driver alone on mixed workloads. */
  routing?: RoutingResult[];
  devcrypto?: DevCryptoReport;
}
