/**
 * The benchmark's /dev/crypto side: which device and drivers kcrypto sees, whether the device
 * is the project's CUSE fixture, whether the engine has a request queue there, and the timing
 * loop over that queue.
 *
 * The device is the one kcrypto itself uses (KCRYPTO_DEVCRYPTO, KCRYPTO_DEVCRYPTO_ABI; see
 * src/api/framework-instance.ts), so the rows always measure what an application would get.
 */
import { randomBytes } from 'node:crypto';
import { readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';

import type { DriverInfo } from '../src/api/drivers.js';
import { CRYPTO_AES_CBC } from '../src/framework/constants.js';
import { openDevCryptoSession } from '../src/drivers/devcrypto/sessions.js';
import {
  devCryptoInfo,
  devCryptoRunBatch,
  type DevCryptoAbi,
  type DevCryptoBatchEntry,
  type DevCryptoSession,
} from '../src/kernel/bridge/devcrypto.js';
import { serialAsync, type Sample } from './measure.js';

/** One /dev/crypto driver as the benchmark uses it. */
export interface DevCryptoBenchDriver {
  /** kcrypto driver name, `devcrypto:<abi>:<kernel driver>`. */
  name: string;
  /** '' where the ABI names none (NetBSD). */
  kernelDriver: string;
  /** Kernel algorithm names it serves (`cbc(aes)`, `gcm(aes)`, `sha256`). */
  algorithms: string[];
}

/** What the benchmark found behind /dev/crypto. */
export interface DevCryptoSetup {
  path: string;
  abi: DevCryptoAbi | null;
  /** Why there are no /dev/crypto rows; undefined when there are drivers. */
  reason?: string;
  /** The device node is served from user space through CUSE: the project's test fixture. */
  fixture: boolean;
  drivers: DevCryptoBenchDriver[];
  /** The engine's request queue on this device: how it submits, or why there is none. */
  queue: { mechanism: string } | { reason: string };
}

/** The native engine's name for each ABI's queue (native/devcrypto/devcrypto_abi_*.cc). */
const QUEUE_MECHANISM: Readonly<Record<DevCryptoAbi, string | undefined>> = {
  'cryptodev-linux': 'CIOCASYNCCRYPT + poll + CIOCASYNCFETCH',
  netbsd: 'CIOCNCRYPTM + poll + CIOCNCRYPTRETM',
  freebsd: undefined,
};

/**
 * Whether a character device is served by CUSE. The fixture prints nothing a client can see,
 * and its drivers carry the kernel's own names (it binds them through AF_ALG), so the kernel's
 * record of who registered the device number is the one thing that tells it from a module.
 */
export function isCuseDevice(path: string): boolean {
  try {
    const rdev = statSync(path).rdev;
    // glibc's gnu_dev_major / gnu_dev_minor, within the 32 bits Node hands over exactly.
    const major = Math.floor(rdev / 256) & 0xfff;
    const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
    return basename(readlinkSync(`/sys/dev/char/${major}:${minor}/subsystem`)) === 'cuse';
  } catch {
    return false;
  }
}

/** Why a device without a queue has none, in the engine's terms. */
function noQueueReason(path: string, abi: DevCryptoAbi): string {
  if (abi === 'cryptodev-linux') {
    return `${path} has no request queue: CIOCASYNCFETCH is not answered with EBUSY (devCryptoInfo().async is false), as from a cryptodev-linux module built without ENABLE_ASYNC; kcrypto's engine then runs every request as one CIOCCRYPT`;
  }
  if (abi === 'freebsd') return 'the FreeBSD /dev/crypto ABI has no request queue: kcrypto runs every request as one CIOCCRYPT';
  return `${path} (${abi}) reports no request queue`;
}

/**
 * The /dev/crypto drivers among `drivers()`' listing, for the device kcrypto uses. `target` is
 * kcrypto's choice of device (devCryptoTarget()); `queued` probes the engine's queue (the
 * addon's devCryptoInfo by default; replaced in tests).
 */
export function devCryptoSetup(
  list: readonly DriverInfo[],
  target: { path: string; abi: DevCryptoAbi } | null,
  options: { fixture?: boolean; queued?: (path: string, abi: DevCryptoAbi) => boolean | null } = {},
): DevCryptoSetup {
  if (!target)
    return {
      path: '',
      abi: null,
      reason: `no /dev/crypto ABI on ${process.platform}`,
      fixture: false,
      drivers: [],
      queue: { reason: 'no /dev/crypto' },
    };
  const fixture = options.fixture ?? isCuseDevice(target.path);
  const unusable = list.find((d) => d.interface === 'devcrypto' && !d.available);
  const drivers = list
    .filter((d) => d.interface === 'devcrypto' && d.available)
    // NetBSD names no kernel driver: its one driver is `devcrypto:netbsd`.
    .map((d) => ({ name: d.name, kernelDriver: d.kernelDriver ?? '', algorithms: d.algorithms }));
  const base = { path: target.path, abi: target.abi, fixture, drivers };
  if (drivers.length === 0) {
    const reason = unusable?.reason ?? `${target.path}: kcrypto lists no /dev/crypto driver`;
    return { ...base, reason, queue: { reason } };
  }
  let queued: boolean | null;
  try {
    queued = (options.queued ?? ((path, abi) => devCryptoInfo({ path, abi }).async))(target.path, target.abi);
  } catch (err) {
    return { ...base, queue: { reason: `devCryptoInfo(${target.path}): ${err instanceof Error ? err.message : String(err)}` } };
  }
  const mechanism = QUEUE_MECHANISM[target.abi];
  if (queued !== true || mechanism === undefined)
    return {
      ...base,
      queue: { reason: queued === null ? `${target.path} could not be opened to probe its queue` : noQueueReason(target.path, target.abi) },
    };
  return { ...base, queue: { mechanism } };
}

/** The drivers that serve a kernel algorithm (`cbc(aes)`), in listing order. */
export function devCryptoDriversFor(setup: DevCryptoSetup, kernelName: string): DevCryptoBenchDriver[] {
  return setup.drivers.filter((d) => d.algorithms.includes(kernelName));
}

/** How the rows measured on this device are marked. */
export function devCryptoMark(setup: Pick<DevCryptoSetup, 'fixture'>): string {
  return setup.fixture ? ' [CUSE fixture]' : '';
}

/** One line for the report's header: where /dev/crypto is and what it is. */
export function devCryptoSummary(setup: DevCryptoSetup): string {
  if (!setup.abi) return `unavailable: ${setup.reason ?? 'unknown reason'}`;
  const where = `${setup.path} (${setup.abi} ABI)`;
  const what = setup.fixture
    ? `, served by a CUSE server: the project's test fixture (test/fixtures/cuse-devcrypto), a user-space program that does the crypto through AF_ALG; rows marked [CUSE fixture] measure that program and its round trips through the kernel, not a /dev/crypto module or a device`
    : '';
  if (setup.reason !== undefined) return `${where}${what}: unavailable: ${setup.reason}`;
  const queue = 'mechanism' in setup.queue ? `request queue: ${setup.queue.mechanism}` : 'no request queue';
  return `${where}${what}; ${setup.drivers.length} driver${setup.drivers.length === 1 ? '' : 's'}; ${queue}`;
}

/** Native engine Op::kEncrypt (native/common/engine.h). */
const OP_ENCRYPT = 0;

/** Opens an engine session for AES-128-CBC on the device, the way kcrypto's driver does. */
export function openEngineCbc(path: string, abi: DevCryptoAbi, key: Uint8Array): DevCryptoSession {
  return openDevCryptoSession({ path, abi, mode: 'cipher', cipher: CRYPTO_AES_CBC, key, ivLength: 16, blockLength: 16, chain: 'cbc' });
}

/**
 * Submits batches of `n` AES-CBC requests through the engine's devCryptoRunBatch(), one batch
 * at a time, for `seconds` (after serialAsync's warm-up). Each batch goes to the kernel's queue
 * as one submission, so up to `n` requests are in flight; the last completions of a batch wait
 * alone. A batch of one is run as a plain CIOCCRYPT (the engine queues only two or more).
 */
export async function engineBatches(session: DevCryptoSession, size: number, n: number, seconds: number): Promise<Sample> {
  const data = randomBytes(size);
  const iv = randomBytes(16);
  // One output per request: the kernel writes them while the others are queued.
  const entries: DevCryptoBatchEntry[] = Array.from({ length: n }, () => [OP_ENCRYPT, data, Buffer.alloc(size), iv, 0]);
  const batch = async (): Promise<void> => {
    const results = await devCryptoRunBatch(session, entries);
    for (const r of results) if (typeof r !== 'number') throw r;
  };
  const s = await serialAsync(batch, size * n, seconds);
  return { ops: s.ops * n, bytes: s.bytes, seconds: s.seconds };
}
