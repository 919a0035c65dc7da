/**
 * The /dev/crypto engine from TypeScript: typed access to the addon's entry points
 * (native/devcrypto/devcrypto_open.cc) and each ABI's own algorithm numbering. Everything here
 * is in the ABI's numbers: turning a crypto(9) algorithm into one is the /dev/crypto driver's
 * job (src/drivers/devcrypto/ids.ts), since the numberings diverge (cryptodev-linux renumbers
 * from 21 on, NetBSD from 15 on, FreeBSD's are the framework's).
 *
 * On Linux the addon carries all three ABIs (the lab's CUSE fixture emulates each one on a
 * character device); on FreeBSD and NetBSD only the system's own.
 *
 * @module
 */
import type { KCryptoError } from '../../errors.js';
import { loadAddon, type NativeSession } from './addon.js';
import { decodeError, fromNativeThrow, invalid, systemError } from './status.js';
import { assertAllowed } from './forbid.js';

/** A /dev/crypto ABI. */
export type DevCryptoAbi = 'cryptodev-linux' | 'freebsd' | 'netbsd';

/** All ABIs, in the order of native/devcrypto/devcrypto_abi.h's `Abi` enum. */
export const DEVCRYPTO_ABIS: readonly DevCryptoAbi[] = ['cryptodev-linux', 'freebsd', 'netbsd'];

/** What a session does (native `Mode`). `eta`: FreeBSD cipher + HMAC, encrypt-then-authenticate. */
export type DevCryptoMode = 'cipher' | 'digest' | 'aead' | 'eta';

/** How a cipher request longer than the ABI's limit is split (native `Chain`). */
export type DevCryptoChain = 'none' | 'cbc' | 'ctr';

/** Options of the native `openDevCrypto`, in the ABI's own algorithm numbering. */
export interface DevCryptoNativeOptions extends DevCryptoTarget {
  mode: DevCryptoMode;
  /** Cipher id (e.g. the ABI's `CRYPTO_AES_CBC`). */
  cipher?: number;
  /** Hash or MAC id (e.g. the ABI's `CRYPTO_SHA2_256_HMAC`). */
  mac?: number;
  key?: Uint8Array | null;
  macKey?: Uint8Array | null;
  ivLength?: number;
  tagLength?: number;
  /** Hash/MAC output length (needed for digests and ETA). */
  digestLength?: number;
  blockLength?: number;
  chain?: DevCryptoChain;
  /** FreeBSD: CRYPTO_FLAG_* bits or a driver id. */
  crid?: number;
  /** FreeBSD: a driver by name (`aesni0`, `cryptosoft0`), looked up with CIOCFINDDEV. */
  device?: string;
  maxRequest?: number;
  /** Kernel sessions to make at open (more are made on demand for parallel requests). */
  contexts?: number;
}

/** What the kernel reported about a new session. */
export interface DevCryptoSessionInfo {
  abi: DevCryptoAbi;
  /** cryptodev-linux `cra_name` of the cipher / hash transform (empty elsewhere). */
  cipherName: string;
  /** cryptodev-linux `cra_driver_name`; FreeBSD: the driver's name from CIOCFINDDEV. */
  cipherDriver: string;
  macName: string;
  macDriver: string;
  /** cryptodev-linux KERNEL_DRIVER_ONLY; FreeBSD: from the requested crid flags; null when unknown. */
  hardware: boolean | null;
  /** FreeBSD: the driver id the kernel chose. */
  crid: number | null;
  alignmask: number;
  /** The fd has a kernel request queue (cryptodev-linux built with ENABLE_ASYNC, NetBSD). */
  async: boolean;
  /** Largest payload one request may carry; 0 when unlimited. */
  maxRequest: number;
  /** Hash streams (openStream/copyStream) are available: cryptodev-linux only. */
  multipart: boolean;
}

/** The result of probing a device node with one ABI. */
export interface DevCryptoProbe {
  abi: DevCryptoAbi;
  path: string;
  /** This build carries the ABI. */
  compiled: boolean;
  /** 0 when open() succeeded, else its errno (ENOENT: no device; EACCES; NetBSD ENXIO: kern.usercrypto=0). */
  open: number;
  /** The fd has a kernel request queue; null when the device could not be opened. */
  async: boolean | null;
  /** CIOCASYMFEAT's CRF_* mask, or null when the request failed (see asymErrno). */
  asymFeatures: number | null;
  asymErrno: number | null;
  /** FreeBSD `kern.crypto.allow_soft` (read on FreeBSD only; null elsewhere). */
  allowSoft: number | null;
  /** FreeBSD: every driver CIOCFINDDEV names. */
  devices: { crid: number; name: string }[];
}

/** The addon's ABI self-description (struct sizes and request numbers as compiled). */
export interface DevCryptoAbiTable {
  abi: DevCryptoAbi;
  pointerBytes: number;
  maxRequest: number;
  multipart: boolean;
  sizes: Record<string, number>;
  requests: Record<string, number>;
  constants: Record<string, number>;
  /** Every algorithm id the ABI header defines, by its C name. */
  algorithms: Record<string, number>;
}

/** One request of a batch: as `NativeSession.run()` takes it. */
export type DevCryptoBatchEntry = [
  op: number,
  input: Uint8Array | Uint8Array[] | null,
  output: Uint8Array | null,
  iv: Uint8Array | null,
  assocLen: number,
];

/** The /dev/crypto entry points of the addon (present on Linux, FreeBSD and NetBSD builds). */
export interface DevCryptoNative {
  openDevCrypto(options: DevCryptoNativeOptions): { session: NativeSession; info: DevCryptoSessionInfo };
  openDevCrypto(options: DevCryptoNativeOptions & { deferred: true }): { session: NativeSession; info: null };
  devCryptoInfo(path?: string, abi?: DevCryptoAbi): DevCryptoProbe;
  devCryptoFindDevice(path: string, abi: DevCryptoAbi, nameOrCrid: string | number): { crid: number; name: string };
  devCryptoRunBatch(session: NativeSession, requests: DevCryptoBatchEntry[]): Promise<Float64Array>;
  devCryptoAbiTable(abi: DevCryptoAbi): DevCryptoAbiTable | null;
  devCryptoAbis(): DevCryptoAbi[];
}

/** The device node every system uses. */
export const DEVCRYPTO_PATH = '/dev/crypto';

/* ---------- Algorithm numbering ---------- */

/**
 * Each ABI's own algorithm numbering, every id its header defines (including those with no
 * crypto(9) counterpart, such as cryptodev-linux's AES-ECB or NetBSD's HMAC-96 variants).
 */
export const DEVCRYPTO_NUMBERING: Readonly<Record<DevCryptoAbi, Readonly<Record<string, number>>>> = {
  'cryptodev-linux': {
    CRYPTO_DES_CBC: 1,
    CRYPTO_3DES_CBC: 2,
    CRYPTO_BLF_CBC: 3,
    CRYPTO_CAST_CBC: 4,
    CRYPTO_SKIPJACK_CBC: 5,
    CRYPTO_MD5_HMAC: 6,
    CRYPTO_SHA1_HMAC: 7,
    CRYPTO_RIPEMD160_HMAC: 8,
    CRYPTO_MD5_KPDK: 9,
    CRYPTO_SHA1_KPDK: 10,
    CRYPTO_AES_CBC: 11,
    CRYPTO_ARC4: 12,
    CRYPTO_MD5: 13,
    CRYPTO_SHA1: 14,
    CRYPTO_DEFLATE_COMP: 15,
    CRYPTO_NULL: 16,
    CRYPTO_LZS_COMP: 17,
    CRYPTO_SHA2_256_HMAC: 18,
    CRYPTO_SHA2_384_HMAC: 19,
    CRYPTO_SHA2_512_HMAC: 20,
    CRYPTO_AES_CTR: 21,
    CRYPTO_AES_XTS: 22,
    CRYPTO_AES_ECB: 23,
    CRYPTO_AES_CFB: 24,
    CRYPTO_AES_OFB: 25,
    CRYPTO_AES_GCM: 50,
    CRYPTO_AES_CCM: 51,
    CRYPTO_CAMELLIA_CBC: 101,
    CRYPTO_RIPEMD160: 102,
    CRYPTO_SHA2_224: 103,
    CRYPTO_SHA2_256: 104,
    CRYPTO_SHA2_384: 105,
    CRYPTO_SHA2_512: 106,
    CRYPTO_SHA2_224_HMAC: 107,
    CRYPTO_TLS11_AES_CBC_HMAC_SHA1: 108,
    CRYPTO_TLS12_AES_CBC_HMAC_SHA256: 109,
  },
  freebsd: {
    CRYPTO_DES_CBC: 1,
    CRYPTO_3DES_CBC: 2,
    CRYPTO_BLF_CBC: 3,
    CRYPTO_CAST_CBC: 4,
    CRYPTO_SKIPJACK_CBC: 5,
    CRYPTO_MD5_HMAC: 6,
    CRYPTO_SHA1_HMAC: 7,
    CRYPTO_RIPEMD160_HMAC: 8,
    CRYPTO_MD5_KPDK: 9,
    CRYPTO_SHA1_KPDK: 10,
    CRYPTO_AES_CBC: 11,
    CRYPTO_ARC4: 12,
    CRYPTO_MD5: 13,
    CRYPTO_SHA1: 14,
    CRYPTO_NULL_HMAC: 15,
    CRYPTO_NULL_CBC: 16,
    CRYPTO_DEFLATE_COMP: 17,
    CRYPTO_SHA2_256_HMAC: 18,
    CRYPTO_SHA2_384_HMAC: 19,
    CRYPTO_SHA2_512_HMAC: 20,
    CRYPTO_CAMELLIA_CBC: 21,
    CRYPTO_AES_XTS: 22,
    CRYPTO_AES_ICM: 23,
    CRYPTO_AES_NIST_GMAC: 24,
    CRYPTO_AES_NIST_GCM_16: 25,
    CRYPTO_BLAKE2B: 29,
    CRYPTO_BLAKE2S: 30,
    CRYPTO_CHACHA20: 31,
    CRYPTO_SHA2_224_HMAC: 32,
    CRYPTO_RIPEMD160: 33,
    CRYPTO_SHA2_224: 34,
    CRYPTO_SHA2_256: 35,
    CRYPTO_SHA2_384: 36,
    CRYPTO_SHA2_512: 37,
    CRYPTO_POLY1305: 38,
    CRYPTO_AES_CCM_CBC_MAC: 39,
    CRYPTO_AES_CCM_16: 40,
    CRYPTO_CHACHA20_POLY1305: 41,
    CRYPTO_XCHACHA20_POLY1305: 42,
  },
  netbsd: {
    CRYPTO_DES_CBC: 1,
    CRYPTO_3DES_CBC: 2,
    CRYPTO_BLF_CBC: 3,
    CRYPTO_CAST_CBC: 4,
    CRYPTO_SKIPJACK_CBC: 5,
    CRYPTO_MD5_HMAC: 6,
    CRYPTO_SHA1_HMAC: 7,
    CRYPTO_RIPEMD160_HMAC: 8,
    CRYPTO_MD5_KPDK: 9,
    CRYPTO_SHA1_KPDK: 10,
    CRYPTO_AES_CBC: 11,
    CRYPTO_ARC4: 12,
    CRYPTO_MD5: 13,
    CRYPTO_SHA1: 14,
    CRYPTO_SHA2_256_HMAC: 15,
    CRYPTO_NULL_HMAC: 16,
    CRYPTO_NULL_CBC: 17,
    CRYPTO_DEFLATE_COMP: 18,
    CRYPTO_MD5_HMAC_96: 19,
    CRYPTO_SHA1_HMAC_96: 20,
    CRYPTO_RIPEMD160_HMAC_96: 21,
    CRYPTO_GZIP_COMP: 22,
    CRYPTO_DEFLATE_COMP_NOGROW: 23,
    CRYPTO_SHA2_384_HMAC: 24,
    CRYPTO_SHA2_512_HMAC: 25,
    CRYPTO_CAMELLIA_CBC: 26,
    CRYPTO_AES_CTR: 27,
    CRYPTO_AES_XCBC_MAC_96: 28,
    CRYPTO_AES_GCM_16: 29,
    CRYPTO_AES_128_GMAC: 30,
    CRYPTO_AES_192_GMAC: 31,
    CRYPTO_AES_256_GMAC: 32,
    CRYPTO_AES_GMAC: 33,
  },
};

/** The ABI this system's own /dev/crypto speaks, or null on a system without one. */
export function nativeDevCryptoAbi(platform: NodeJS.Platform = process.platform): DevCryptoAbi | null {
  if (platform === 'linux') return 'cryptodev-linux';
  if (platform === 'freebsd') return 'freebsd';
  if (platform === 'netbsd') return 'netbsd';
  return null;
}

/** The kcrypto driver name of a /dev/crypto kernel driver. */
export function devCryptoDriverName(abi: DevCryptoAbi, kernelDriver: string): string {
  return kernelDriver ? `devcrypto:${abi}:${kernelDriver}` : `devcrypto:${abi}`;
}

/* ---------- Entry points ---------- */

function native(addon?: DevCryptoNative | null): DevCryptoNative {
  if (addon) return addon;
  const { addon: loaded, error } = loadAddon();
  if (
    !loaded?.openDevCrypto ||
    !loaded.devCryptoInfo ||
    !loaded.devCryptoFindDevice ||
    !loaded.devCryptoRunBatch ||
    !loaded.devCryptoAbiTable ||
    !loaded.devCryptoAbis
  ) {
    throw invalid('EOPNOTSUPP', `/dev/crypto engine unavailable${error ? ` (${error})` : ' on this system'}`, 'devcrypto');
  }
  return loaded as DevCryptoNative;
}

/** The ABIs the loaded addon carries (all three on Linux, the system's own on a BSD, none elsewhere). */
export function devCryptoAbis(addon?: DevCryptoNative | null): DevCryptoAbi[] {
  try {
    return native(addon).devCryptoAbis();
  } catch {
    return [];
  }
}

/** Where the device is and which ABI to speak; both default to this system's. */
export interface DevCryptoTarget {
  path?: string;
  abi?: DevCryptoAbi;
}

/** The device path and ABI a target stands for, this system's where it names none. */
export function resolveDevCryptoTarget(target: DevCryptoTarget): { path: string; abi: DevCryptoAbi } {
  const abi = target.abi ?? nativeDevCryptoAbi();
  if (!abi) throw invalid('EOPNOTSUPP', `no /dev/crypto ABI for ${process.platform}`, 'devcrypto');
  return { path: target.path ?? DEVCRYPTO_PATH, abi };
}

/** Probes a device node: can it be opened, does it queue requests, which FreeBSD drivers does it name. */
export function devCryptoInfo(target: DevCryptoTarget = {}, addon?: DevCryptoNative | null): DevCryptoProbe {
  const { path, abi } = resolveDevCryptoTarget(target);
  assertAllowed('devcrypto', devCryptoDriverName(abi, ''));
  return native(addon).devCryptoInfo(path, abi);
}

/** FreeBSD CIOCFINDDEV: a driver's id from its name (prefix match), or its name from the id. */
export function devCryptoFindDevice(
  nameOrCrid: string | number,
  target: DevCryptoTarget = {},
  addon?: DevCryptoNative | null,
): { crid: number; name: string } {
  const { path, abi } = resolveDevCryptoTarget(target);
  assertAllowed('devcrypto', devCryptoDriverName(abi, ''));
  try {
    return native(addon).devCryptoFindDevice(path, abi, nameOrCrid);
  } catch (err) {
    throw fromNativeThrow(err, devCryptoDriverName(abi, ''), `cannot find crypto device ${String(nameOrCrid)}`);
  }
}

/** The addon's compiled struct sizes and request numbers for one ABI (null when not compiled in). */
export function devCryptoAbiTable(abi: DevCryptoAbi, addon?: DevCryptoNative | null): DevCryptoAbiTable | null {
  return native(addon).devCryptoAbiTable(abi);
}

/** An open /dev/crypto session: the engine session the request layer drives, and what the kernel chose. */
export interface DevCryptoSession {
  native: NativeSession;
  info: DevCryptoSessionInfo;
  /** kcrypto driver name, `devcrypto:<abi>:<kernel driver>`. */
  driver: string;
}

/**
 * Opens a session from options in the ABI's own numbering. Failures are KCryptoErrors:
 * ENOENT/EACCES (open) for the device node; the kernel's errno (ioctl) otherwise (FreeBSD:
 * EOPNOTSUPP when no driver fits, EINVAL from the allow_soft gate; cryptodev-linux: EINVAL for
 * an algorithm the kernel lacks).
 */
export function openDevCrypto(
  options: DevCryptoNativeOptions & { path: string; abi: DevCryptoAbi },
  addon?: DevCryptoNative | null,
): DevCryptoSession {
  assertAllowed('devcrypto', devCryptoDriverName(options.abi, options.device ?? ''));
  const n = native(addon);
  let opened: { session: NativeSession; info: DevCryptoSessionInfo };
  try {
    opened = n.openDevCrypto(options);
  } catch (err) {
    throw fromNativeThrow(
      err,
      devCryptoDriverName(options.abi, options.device ?? ''),
      `cannot open a ${options.mode} session on ${options.path}`,
    );
  }
  const kernelDriver = opened.info.cipherDriver || opened.info.macDriver;
  return { native: opened.session, info: opened.info, driver: devCryptoDriverName(options.abi, kernelDriver) };
}

/**
 * A session checked but not opened: the device, the kernel sessions and their keys wait for
 * `KernelSession.open()` on the device lane (requests sent first wait for it on their thread).
 * Throws only for options the addon refuses without asking the kernel (EINVAL, ENOTSUP).
 */
export function openDevCryptoDeferred(
  options: DevCryptoNativeOptions & { path: string; abi: DevCryptoAbi },
  addon?: DevCryptoNative | null,
): NativeSession {
  assertAllowed('devcrypto', devCryptoDriverName(options.abi, options.device ?? ''));
  try {
    return native(addon).openDevCrypto({ ...options, deferred: true }).session;
  } catch (err) {
    throw fromNativeThrow(
      err,
      devCryptoDriverName(options.abi, options.device ?? ''),
      `cannot open a ${options.mode} session on ${options.path}`,
    );
  }
}

/** Output bytes of a request, or the KCryptoError it failed with. */
export type DevCryptoResult = number | KCryptoError;

function decodeAll(encoded: Float64Array, driver: string): DevCryptoResult[] {
  return Array.from(encoded, (v) => {
    if (v >= 0) return v;
    const { errno, syscall } = decodeError(v);
    return systemError(errno, syscall, driver);
  });
}

/**
 * Runs requests as one kernel submission where the ABI has a queue (cryptodev-linux
 * CIOCASYNCCRYPT + poll + CIOCASYNCFETCH, NetBSD CIOCNCRYPTM + poll + CIOCNCRYPTRETM), one by
 * one otherwise, off the JavaScript thread. Buffers must stay untouched until it settles.
 */
export async function devCryptoRunBatch(
  session: DevCryptoSession,
  requests: DevCryptoBatchEntry[],
  addon?: DevCryptoNative | null,
): Promise<DevCryptoResult[]> {
  const encoded = await native(addon).devCryptoRunBatch(session.native, requests);
  return decodeAll(encoded, session.driver);
}
