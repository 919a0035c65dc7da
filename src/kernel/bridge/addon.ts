/**
 * Loads the native addon. Loading never throws: on a host where the addon cannot be loaded
 * (not built, no prebuilt binary for the platform, `--no-addons`) the package still works on
 * its software driver and reports why the kernel paths are unavailable and what to do.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { registerErrnos } from '../../errno.js';
import { findPackageRoot } from '../../package-root.js';
import { addonFile, explainLoadFailure } from './addon-file.js';
import type { DevCryptoNative } from './devcrypto.js';
import { attachGate, countForwarded, errnoOfForbid, forbiddenError, type GateNative, isForbidden, type KernelInterface } from './forbid.js';

/** A native engine session (see native/session_wrap.h). */
export interface NativeSession {
  /** Runs a request on the calling thread; returns an encoded status (see status.ts). */
  run(
    op: number,
    input: Uint8Array | Uint8Array[] | null,
    output: Uint8Array | null,
    iv: Uint8Array | null,
    assocLen: number,
    stream: number,
  ): number;
  /**
   * Queues a request on the addon's threads (lane 0: CPU-bound work, one thread per
   * core at lower priority; lane 1: device requests); its completion arrives through the completion handler.
   * Its numbers are in the argument array given to {@link NativeAddon.setSubmitArgs} (see
   * {@link SubmitArg}): set them, then call. `deadlineMs` (0: none) bounds the time a thread may
   * spend in the request before {@link NativeAddon.overdue} reports it. A device lane's thread
   * copies the input and IV into buffers of its own, has the kernel write into another, and
   * copies the result into `output` only while the session lives (`disposable` outputs too).
   */
  submit(input: Uint8Array | Uint8Array[] | null, output: Uint8Array | null, iv: Uint8Array | null): void;
  openStream(): number;
  copyStream(handle: number): number;
  closeStream(handle: number): void;
  close(): void;
  /**
   * Gives the session up: nothing on the calling thread touches its descriptors any more
   * (run() and submitted-but-queued requests complete with ESHUTDOWN without reaching the
   * kernel, openStream/copyStream throw ESHUTDOWN, closeStream does nothing).
   */
  abandon(): void;
  /**
   * Abandons the session and lets go of it without closing its descriptors: closing a
   * transform bound to a removed virtio-crypto card hangs or faults the kernel (lab, 6.1 and
   * 6.12). They stay open until the process ends.
   */
  drop(): void;
  descriptors(): number;
  /** Largest input one request may carry unsplit; 0 when unlimited. */
  maxRequest(): number;
}

/** Dispatcher counters of one lane (see native/common/dispatcher.h). */
export interface LaneStats {
  threads: number;
  idle: number;
  queued: number;
  running: number;
  maxThreads: number;
  wakeups: number;
  deliveries: number;
  /** Stuck threads: still inside a request that was reported overdue. */
  stuck: number;
  /**
   * Batches a thread handed to a session's kernel queue (cryptodev-linux's CIOCASYNCCRYPT) when
   * every thread of the lane was busy, and the requests in them.
   */
  batches: number;
  batched: number;
}

/** Dispatcher counters: totals, and each lane. */
export interface DispatcherStats extends LaneStats {
  cpu: LaneStats;
  device: LaneStats;
}

/**
 * The addon's exports. Engine entry points exist only on the systems that have the engine
 * (the /dev/crypto ones, {@link DevCryptoNative}, on Linux, FreeBSD and NetBSD).
 */
export interface NativeAddon extends Partial<DevCryptoNative>, GateNative {
  /**
   * Installs the handler of completed requests: (id, result, nanos) triples. After a call, the
   * addon calls it again only once {@link NativeAddon.collectCompletions} has come back empty.
   */
  setCompletionHandler(fn: (batch: Float64Array) => void): void;
  /**
   * What completed since the last delivery or collection, as the handler gets it. Call it in a
   * later turn of the event loop after each delivery, and in each turn after, until it returns an
   * empty array: Node runs a threadsafe-function call queued during another in the same turn, so
   * completions arriving faster than JavaScript handles them would otherwise keep the event
   * loop in that turn.
   */
  collectCompletions(): Float64Array;
  setMaxThreads(lane: 0 | 1, n: number): void;
  dispatcherStats(): DispatcherStats;
  /**
   * Requests that became overdue since the last call, each reported once, as (id, kind) pairs:
   * kind 1, a thread has been inside it past its deadline; kind 2, it waited in the queue past
   * its deadline while every thread of its lane was stuck (it was removed and never runs).
   */
  overdue(): Float64Array;
  probeAfAlg(): number;
  probeBind(type: string, name: string): number;
  errnoTable(): Record<string, number>;
  /**
   * Fills the view's bytes from the kernel's RNG with getrandom(2), on the calling thread;
   * 0 or the errno (ENOSYS where the system has no getrandom).
   */
  getRandom?(view: ArrayBufferView): number;
  /**
   * The array submit() reads its numbers from (indices: {@link SubmitArg}). Its memory must
   * not move: make it over an ArrayBuffer of its own.
   */
  setSubmitArgs(args: Float64Array): void;
  /**
   * Queues `count` jobs in one call: after the count, session, input, output and iv per job (the
   * session null where it is the previous job's); job i's numbers are at i × SubmitArg.count of
   * the argument array. Returns undefined, or for the jobs not queued a flat list of [index,
   * reason (1: session closed, 2: bad arguments), message].
   */
  /**
   * Whether `lane`'s threads, all busy, take the waiting requests of a session with a kernel
   * queue together (default: yes). For benchmarks comparing the two; a lane not started yet
   * keeps its default.
   */
  setBatching(lane: 0 | 1, on: boolean): void;
  submitBatch(count: number, ...jobs: unknown[]): (number | string)[] | undefined;
  /**
   * Test double of the engine interface, for unit tests of the layers above it. With `hang`,
   * its requests and its close() block until {@link NativeAddon.releaseLoopbacks}. With
   * `queues`, it claims a kernel queue, so that the lane batches its jobs when backed up.
   * Present only when KCRYPTO_TEST_HOOKS=1 was in the environment as the addon loaded.
   */
  openLoopback?(delayUs: number, failErrno: number, hang?: boolean, queues?: boolean): NativeSession;
  /**
   * Releases every hanging loopback call that has started.
   * Present only when KCRYPTO_TEST_HOOKS=1 was in the environment as the addon loaded.
   */
  releaseLoopbacks?(): void;
  /**
   * Key copies the addon made, released, and released with a byte still set (native/common/
   * key_bytes.h). Present only when KCRYPTO_TEST_HOOKS=1 was in the environment as the addon loaded.
   */
  keyCopyStats?(): { made: number; released: number; unwiped: number };
  /**
   * A session on the OpenSSL Node.js carries (EVP, through the symbols Node exports): a cipher
   * (`aes-128-cbc`), a digest (`sha256`) or an HMAC over a digest, keyed once.
   */
  openOpenSsl?(kind: 'cipher' | 'digest' | 'hmac', name: string, key: Uint8Array | null): NativeSession;
  openAfAlg?(
    type: string,
    name: string,
    key: Uint8Array | null,
    authSize: number,
    chunkable: boolean,
    socketBuffer: number,
    maxRequest: number,
    /** Leave the system calls to an `Op.Open` job on the session's lane (a device's). */
    deferred?: boolean,
  ): NativeSession;
}

/**
 * Indices of submit()'s numbers in the argument array (native/addon.h): a call with more than
 * six arguments costs node-addon-api an allocation, and each argument an N-API call.
 */
export const SubmitArg = {
  id: 0,
  lane: 1,
  op: 2,
  assocLen: 3,
  stream: 4,
  deadlineMs: 5,
  disposable: 6,
  shape: 7,
  /** The input's length as queued: the addon refuses a job whose input was detached since. */
  inputLength: 8,
  count: 9,
} as const;

/**
 * Bits of a job's {@link SubmitArg.shape}: what the caller knows of its arguments, so that the
 * addon asks N-API nothing about them. Shared with native/addon.h.
 */
export const SubmitShape = { sameSession: 1, noOutput: 2, noIv: 4 } as const;

/** The result of trying to load the addon. */
export type AddonLoad = { addon: NativeAddon; path: string; error?: undefined } | { addon: null; path?: string; error: string };

let cached: AddonLoad | undefined;

/**
 * Loads (once) and returns the addon: the file node-gyp-build picks (this package's build, else
 * the prebuilt binary for this host), or the one `KCRYPTO_ADDON` names (such as the sanitizer
 * build used in CI), alone. When it does not load, `error` says why and what to do.
 */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  const file = addonFile(root, process.env['KCRYPTO_ADDON']);
  if (file.missing !== undefined) {
    cached = { addon: null, error: explainLoadFailure(root, [file.missing]) };
    return cached;
  }
  const { path } = file;
  if (!existsSync(path)) {
    cached = { addon: null, path, error: explainLoadFailure(root, [`${path}: no such file`]) };
    return cached;
  }
  try {
    const raw = createRequire(import.meta.url)(path) as NativeAddon;
    // The numbers of the C library the addon was built against, for names Node does not know.
    registerErrnos(raw.errnoTable());
    attachGate(raw);
    cached = { addon: guarded(raw), path };
  } catch (err) {
    // dlopen's message names the file already ("<path>: invalid ELF header").
    const message = (err as Error).message;
    cached = { addon: null, path, error: explainLoadFailure(root, [message.includes(path) ? message : `${path}: ${message}`]) };
  }
  return cached;
}

/**
 * What each entry point that reaches a kernel interface does while that interface is
 * forbidden, instead of calling the addon: probes answer EPERM as the kernel would, opens
 * throw the forbid's KCryptoError.
 */
const GUARDED: Readonly<Record<string, { which: KernelInterface; refuse: (args: unknown[]) => unknown }>> = {
  probeAfAlg: { which: 'afalg', refuse: () => errnoOfForbid() },
  probeBind: { which: 'afalg', refuse: () => errnoOfForbid() },
  probeBindSnapshot: { which: 'afalg', refuse: () => ({ errno: errnoOfForbid() }) },
  openAfAlg: {
    which: 'afalg',
    refuse: (args) => {
      throw forbiddenError('afalg', `afalg:${String(args[1])}`);
    },
  },
  openDevCrypto: {
    which: 'devcrypto',
    refuse: () => {
      throw forbiddenError('devcrypto', 'devcrypto');
    },
  },
  devCryptoInfo: {
    which: 'devcrypto',
    refuse: () => {
      throw forbiddenError('devcrypto', 'devcrypto');
    },
  },
  devCryptoFindDevice: {
    which: 'devcrypto',
    refuse: () => {
      throw forbiddenError('devcrypto', 'devcrypto');
    },
  },
};

/**
 * The addon as this package uses it: its exports, with each entry point that opens a kernel
 * interface checking the forbid first. The call goes to the export as it is at call time.
 */
function guarded(raw: NativeAddon): NativeAddon {
  const out = Object.create(raw) as Record<string, unknown>;
  const exports = raw as unknown as Record<string, unknown>;
  for (const [name, g] of Object.entries(GUARDED)) {
    if (typeof exports[name] !== 'function') continue;
    const call = (...args: unknown[]): unknown => {
      if (isForbidden(g.which)) return g.refuse(args);
      countForwarded(g.which);
      return (exports[name] as (...a: unknown[]) => unknown).apply(raw, args);
    };
    // The addon's own methods are read-only: a property of the wrapper's own shadows them.
    Object.defineProperty(out, name, { value: call, enumerable: true });
  }
  return out as unknown as NativeAddon;
}
