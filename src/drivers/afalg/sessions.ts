/**
 * The AF_ALG driver: sessions on Linux kernel crypto drivers through AF_ALG sockets. Formats
 * each request the way the running kernel's algif_* interface wants it (IV formats, the AEAD
 * input/output layout, the authenc key blob); the engine layer decides where it runs.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import type { AeadAlgorithm, Algorithm, CipherAlgorithm, HashAlgorithm, MacAlgorithm } from '../../algorithms/catalog.js';
import { afalgTypeOf } from '../../algorithms/catalog.js';
import { errnoOf } from '../../errno.js';
import { loadAddon } from '../../kernel/bridge/addon.js';
import { assertAllowed } from '../../kernel/bridge/forbid.js';
import { guardKernelSessions } from '../../kernel/discovery/device-watch.js';
import { KernelSession, type Execution } from '../../kernel/bridge/engine/index.js';
import { fromNativeThrow, systemError } from '../../kernel/bridge/status.js';
import type { AeadBackend, CipherBackend, HashBackend, RngBackend } from '../common/backend.js';
import { aeadBackendOf, ccmKernelIv, cipherBackendOf, hashBackendOf, rngBackendOf } from '../kernel/backends.js';
import { openOnLane, withReady } from '../kernel/opening.js';

/** Which kernel implementation a session binds to. */
export interface AfAlgTarget {
  /** Name given to bind(): a kernel driver name (`cbc-aes-aesni`) or a generic one (`cbc(aes)`). */
  bindName: string;
  /** The kernel driver that serves it (cra_driver_name), for reporting. */
  kernelDriver: string;
  /**
   * Requests complete within the system call (a CPU implementation, not a device queue), so
   * they may run inline. Not the kernel's ASYNC flag: SIMD wrappers such as cbc-aes-aesni carry
   * it, yet run synchronously when called from a system call.
   */
  synchronous: boolean;
  /**
   * Largest single request the kernel driver is given (a page multiple); longer plain-cipher
   * requests are split, carrying the IV, and longer AEAD/XTS requests are refused with E2BIG.
   * 0 or absent: no limit beyond the socket buffer.
   */
  maxRequest?: number;
}

/** Options common to AF_ALG sessions. */
export interface AfAlgOptions {
  execution?: Execution;
  /** Bytes of kernel socket buffer to request per op socket (bounds one AEAD/XTS request). */
  socketBuffer?: number;
  /** Deadline of a request on threads, in ms (see KernelSessionOptions.deadlineMs); 0: none. */
  deadlineMs?: number;
}

const DEFAULT_SOCKET_BUFFER = 4 << 20;

/** The kcrypto driver name of an AF_ALG kernel driver. */
export function afalgDriverName(kernelDriver: string): string {
  return `afalg:${kernelDriver}`;
}

function open(alg: Algorithm, target: AfAlgTarget, key: Uint8Array | null, authSize: number, options: AfAlgOptions): KernelSession {
  const { addon, error } = loadAddon();
  const driver = afalgDriverName(target.kernelDriver);
  assertAllowed('afalg', driver);
  if (!addon?.openAfAlg) throw systemError(errnoEAFNOSUPPORT(), 'socket', driver, `AF_ALG unavailable${error ? ` (${error})` : ''}`);
  // XTS does not carry its tweak across chunks on every kernel, and an AEAD request cannot be
  // split at all: such requests must fit one sendmsg.
  const chunkable = alg.kind === 'cipher' && alg.mode !== 'xts';
  let native;
  try {
    native = addon.openAfAlg(
      afalgTypeOf(alg),
      target.bindName,
      key,
      authSize,
      chunkable,
      options.socketBuffer ?? DEFAULT_SOCKET_BUFFER,
      target.maxRequest ?? 0,
      // On a device, bind and setkey are device round trips: they run on the device lane.
      !target.synchronous,
    );
  } catch (err) {
    throw fromNativeThrow(err, driver, `cannot open ${alg.kernelName} on ${target.kernelDriver}`);
  }
  // A device can go away under its sessions: have the removal watch look after them.
  if (!target.synchronous) guardKernelSessions();
  return new KernelSession(native, driver, target.synchronous, options.execution ?? 'auto', {
    kernelDriver: target.kernelDriver,
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
  });
}

/**
 * Settles when a device session's open has run on the device lane; rejects with what failed,
 * named as the synchronous open names it. Undefined for a session opened whole.
 */
function readyOf(ks: KernelSession, alg: { kernelName: string }, target: AfAlgTarget): Promise<void> | undefined {
  return target.synchronous ? undefined : openOnLane(ks, `cannot open ${alg.kernelName} on ${target.kernelDriver}`);
}

let eafnosupport: number | undefined;
function errnoEAFNOSUPPORT(): number {
  eafnosupport ??= errnoOf('EAFNOSUPPORT');
  return eafnosupport;
}

/** Opens an unauthenticated cipher session. */
export function openAfAlgCipher(alg: CipherAlgorithm, key: Uint8Array, target: AfAlgTarget, options: AfAlgOptions = {}): CipherBackend {
  const ks = open(alg, target, key, 0, options);
  return withReady(cipherBackendOf(ks, alg), readyOf(ks, alg, target));
}

/**
 * Key blob of the kernel's authenc(): an rtattr (host-endian length and type
 * CRYPTO_AUTHENC_KEYA_PARAM = 1) holding the big-endian cipher key length, then the MAC key,
 * then the cipher key.
 */
export function authencKey(encKey: Uint8Array, authKey: Uint8Array): Buffer {
  const blob = Buffer.alloc(8 + authKey.length + encKey.length);
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (le) {
    blob.writeUInt16LE(8, 0);
    blob.writeUInt16LE(1, 2);
  } else {
    blob.writeUInt16BE(8, 0);
    blob.writeUInt16BE(1, 2);
  }
  blob.writeUInt32BE(encKey.length, 4);
  blob.set(authKey, 8);
  blob.set(encKey, 8 + authKey.length);
  return blob;
}

/** Opens an AEAD session (GCM, CCM, ChaCha20-Poly1305, authenc). */
export function openAfAlgAead(
  alg: AeadAlgorithm,
  key: Uint8Array,
  tagLength: number,
  target: AfAlgTarget,
  options: AfAlgOptions = {},
  authKey?: Uint8Array,
): AeadBackend {
  const material = alg.mode === 'authenc' ? authencKey(key, authKey ?? new Uint8Array(0)) : key;
  let ks: KernelSession;
  try {
    ks = open(alg, target, material, tagLength, options);
  } finally {
    if (material !== key) material.fill(0);
  }
  return withReady(aeadBackendOf(ks, alg, tagLength, alg.mode === 'ccm' ? ccmKernelIv : (iv) => iv), readyOf(ks, alg, target));
}

/** Opens a hash session. */
export function openAfAlgHash(alg: HashAlgorithm, target: AfAlgTarget, options: AfAlgOptions = {}): HashBackend {
  const ks = open(alg, target, null, 0, options);
  return withReady(hashBackendOf(ks, alg.digestLength), readyOf(ks, alg, target));
}

/** Opens a MAC session (hmac(...), cmac(aes)); the key goes to the kernel at open. */
export function openAfAlgMac(alg: MacAlgorithm, key: Uint8Array, target: AfAlgTarget, options: AfAlgOptions = {}): HashBackend {
  const ks = open(alg, target, key, 0, options);
  return withReady(hashBackendOf(ks, alg.digestLength), readyOf(ks, alg, target));
}

/**
 * Opens a kernel DRBG. It must be seeded (ALG_SET_KEY on the rng socket) before it generates:
 * without a seed every read fails with EINVAL. The kernel draws its own entropy when seeding;
 * the bytes given here are mixed in as personalization, so when the caller gives none, 32
 * fresh bytes from node:crypto are used.
 */
export function openAfAlgRng(target: AfAlgTarget, seed: Uint8Array | null, options: AfAlgOptions = {}): RngBackend {
  const material = seed !== null && seed.length > 0 ? seed : randomBytes(32);
  const alg = { kind: 'rng', name: 'stdrng', kernelName: target.bindName } as const;
  const ks = open(alg, target, material, 0, options);
  if (material !== seed) material.fill(0);
  return withReady(rngBackendOf(ks), readyOf(ks, alg, target));
}
