/**
 * /dev/crypto session formatting: how a crypto(9) algorithm and key open a session on each
 * ABI — the ABI's algorithm id (ids.ts), the IV and block lengths, the request limit
 * of a device, the HMAC key in the form the ABI takes, FreeBSD's driver selection — before the
 * kernel wrapper (src/kernel/bridge/devcrypto.ts) hands it to the addon in the ABI's own numbers.
 * The AF_ALG counterpart is ../afalg/sessions.ts.
 *
 * @module
 */
import { createHash } from 'node:crypto';

import { catalogOf } from '../../algorithms/crypto-ids.js';
import type { HashAlgorithm } from '../../algorithms/catalog.js';
import { kindOf } from '../../framework/algorithms.js';
import * as C from '../../framework/constants.js';
import {
  openDevCrypto,
  openDevCryptoDeferred,
  resolveDevCryptoTarget,
  type DevCryptoAbi,
  type DevCryptoNative,
  type DevCryptoNativeOptions,
  type DevCryptoSession,
} from '../../kernel/bridge/devcrypto.js';
import type { NativeSession } from '../../kernel/bridge/addon.js';
import { DEVICE_MAX_REQUEST } from '../kernel/backends.js';
import { requireDevCryptoAlgorithm } from './ids.js';

/** FreeBSD driver selection: hardware only (the kernel's default), software only, either, or one driver id. */
export type DevCryptoCrid = 'hardware' | 'software' | 'any' | number;

/**
 * A session to open, in crypto(9) terms: `cipher` and `mac` are crypto(9) ids (the framework's,
 * FreeBSD's numbering), translated to the ABI's own; `crid` is a driver class or id.
 */
export interface DevCryptoSessionOptions extends Omit<DevCryptoNativeOptions, 'crid'> {
  /** FreeBSD: which drivers may serve the session (default hardware, as the kernel's v1 request). */
  crid?: DevCryptoCrid;
}

/** The crid a {@link DevCryptoCrid} stands for (FreeBSD's CRYPTO_FLAG_* bits, or a driver id). */
export function devCryptoCridValue(crid: DevCryptoCrid): number {
  switch (crid) {
    case 'hardware':
      return C.CRYPTOCAP_F_HARDWARE;
    case 'software':
      return C.CRYPTOCAP_F_SOFTWARE;
    case 'any':
      return C.CRYPTOCAP_F_HARDWARE | C.CRYPTOCAP_F_SOFTWARE;
    default:
      return crid;
  }
}

/** The addon's options for `options`: ids in the ABI's numbering, the device resolved. */
function nativeOptionsOf(options: DevCryptoSessionOptions): DevCryptoNativeOptions & { path: string; abi: DevCryptoAbi } {
  const { path, abi } = resolveDevCryptoTarget(options);
  const cipher = options.cipher !== undefined && options.cipher !== 0 ? requireDevCryptoAlgorithm(abi, options.cipher) : 0;
  const mac = options.mac !== undefined && options.mac !== 0 ? requireDevCryptoAlgorithm(abi, options.mac) : 0;
  const crid = options.crid === undefined ? undefined : devCryptoCridValue(options.crid);
  return {
    path,
    abi,
    mode: options.mode,
    cipher,
    mac,
    key: options.key ?? null,
    macKey: options.macKey ?? null,
    ivLength: options.ivLength ?? 0,
    tagLength: options.tagLength ?? 0,
    digestLength: options.digestLength ?? 0,
    blockLength: options.blockLength ?? 1,
    chain: options.chain ?? 'none',
    maxRequest: options.maxRequest ?? 0,
    contexts: options.contexts ?? 1,
    ...(crid !== undefined ? { crid } : {}),
    ...(options.device !== undefined ? { device: options.device } : {}),
  };
}

/**
 * Opens a session. Failures are KCryptoErrors: EOPNOTSUPP (validate) when the ABI has no id for
 * an algorithm; ENOENT/EACCES (open) for the device node; the kernel's errno (ioctl) otherwise
 * (FreeBSD: EOPNOTSUPP when no driver fits, EINVAL from the allow_soft gate; cryptodev-linux:
 * EINVAL for an algorithm the kernel lacks).
 */
export function openDevCryptoSession(options: DevCryptoSessionOptions, addon?: DevCryptoNative | null): DevCryptoSession {
  return openDevCrypto(nativeOptionsOf(options), addon);
}

/**
 * As openDevCryptoSession, with the system calls left to `KernelSession.open()` on the device
 * lane (see openDevCryptoDeferred); only the engine session, since the kernel has said nothing yet.
 */
export function openDeferredDevCryptoSession(options: DevCryptoSessionOptions, addon?: DevCryptoNative | null): NativeSession {
  return openDevCryptoDeferred(nativeOptionsOf(options), addon);
}

/**
 * The key length an ABI's /dev/crypto takes for the HMAC over `hash`, where it differs from
 * "any" (cryptodev-linux hands keys to the kernel's hmac(), which takes any length):
 * - FreeBSD: at most `thash->keysize`, the hash's block (a longer key is EINVAL).
 * - NetBSD: exactly `thash->keysize` (cryptodev_session: mackeylen != keysize is EINVAL), the
 *   digest length for MD5, SHA-1 and RIPEMD-160. Its SHA-2 HMACs are the IPsec ones, the MAC
 *   truncated to half the digest (authsize), so the full-length HMAC-SHA-2 that kcrypto's
 *   hmac(sha256) means is not there at all: null.
 */
export function hmacKeyRule(abi: DevCryptoAbi, hash: HashAlgorithm): { max: number } | { exact: number } | null | undefined {
  if (abi === 'freebsd') return { max: hash.blockLength };
  if (abi === 'netbsd') return ['md5', 'sha1', 'ripemd160'].includes(hash.name) ? { exact: hash.digestLength } : null;
  return undefined;
}

/**
 * An HMAC key as the kernel must be given it, by HMAC's own equivalences (RFC 2104): a key
 * longer than the hash's block is replaced by its hash, and a shorter one is zero-padded to the
 * block, so trailing zero bytes can be added or removed up to the block without changing the
 * MAC. Null when no key the ABI takes is equivalent (NetBSD, a key between the digest and the
 * block with non-zero bytes past the digest length).
 */
export function kernelHmacKey(abi: DevCryptoAbi, hash: HashAlgorithm, key: Uint8Array): Uint8Array | null {
  const rule = hmacKeyRule(abi, hash);
  if (!rule) return key;
  const k = key.length > hash.blockLength ? createHash(hash.name).update(key).digest() : key;
  if ('max' in rule) return k;
  let used = k.length;
  while (used > rule.exact && k[used - 1] === 0) used--;
  if (used > rule.exact) return null;
  const out = new Uint8Array(rule.exact);
  out.set(k.subarray(0, used));
  return out;
}

/** How one crypto(9) algorithm opens on /dev/crypto, with key `key`; undefined when it cannot. */
export function sessionOptionsFor(
  spec: { path: string; abi: DevCryptoAbi; crid?: number; hardware?: boolean },
  alg: number,
  key: Uint8Array,
  tagLength: number,
): DevCryptoSessionOptions | undefined {
  const kind = kindOf(alg);
  const cat = catalogOf(alg, key.length);
  if (!kind || !cat) return undefined;
  // A device gets requests of at most DEVICE_MAX_REQUEST, as through AF_ALG: virtio-crypto
  // never completes one of 124 KiB or more, and then hangs for every later request (seen
  // through cryptodev-linux on 7.3 as through AF_ALG on 6.1). CBC and CTR are split carrying
  // the IV; AEAD and XTS requests past it are refused with E2BIG.
  const base = {
    path: spec.path,
    abi: spec.abi,
    ...(spec.crid !== undefined ? { crid: spec.crid } : {}),
    ...(spec.hardware === true ? { maxRequest: DEVICE_MAX_REQUEST } : {}),
  };
  if (kind.kind === 'cipher' && cat.kind === 'cipher') {
    return {
      ...base,
      mode: 'cipher',
      cipher: alg,
      key,
      ivLength: cat.ivLength,
      blockLength: cat.alignment,
      chain: cat.mode === 'cbc' ? 'cbc' : cat.mode === 'ctr' ? 'ctr' : 'none',
    };
  }
  if (kind.kind === 'aead' && cat.kind === 'aead') {
    // cryptodev-linux hands CCM to the kernel's ccm(aes), which takes the 16-byte counter block.
    const ivLength = cat.mode === 'ccm' && spec.abi === 'cryptodev-linux' ? 16 : 12;
    return { ...base, mode: 'aead', cipher: alg, key, ivLength, tagLength, blockLength: 1 };
  }
  if (kind.kind === 'auth' && (cat.kind === 'hash' || cat.kind === 'mac')) {
    if (cat.kind === 'mac' && cat.hash && hmacKeyRule(spec.abi, cat.hash) === null) return undefined;
    const blockLength = cat.kind === 'hash' ? cat.blockLength : (cat.hash?.blockLength ?? 16);
    return { ...base, mode: 'digest', mac: alg, macKey: kind.keyed ? key : null, digestLength: cat.digestLength, blockLength };
  }
  return undefined;
}
