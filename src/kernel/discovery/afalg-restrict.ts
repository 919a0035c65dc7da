/**
 * Linux 7.3's `crypto.af_alg_restrict` sysctl: what it is set to, whether this process counts as
 * privileged for it, and the allowlists it applies — so that a bind the kernel refused can be
 * explained precisely.
 *
 * - absent: the kernel has no such sysctl (before 7.3): AF_ALG binds any name it knows;
 * - `0`: unrestricted (as 7.2: synchronous drivers by name, every generic name);
 * - `1` (the default): bind() must name an algorithm on an allowlist, matched as an exact
 *   string; driver names are on no list; refused names give ENOENT;
 * - `2`: AF_ALG disabled, `socket(AF_ALG)` fails with EAFNOSUPPORT.
 *
 * kcrypto never decides from these lists what to try: discovery binds and reports what the
 * kernel did. The lists only say *why* a refused name was refused ("not on the allowlist", "on
 * it only for privileged processes"), and the lab asserts that the kernel behaves as they say.
 *
 * @module
 */

import { readFileSync } from 'node:fs';

import type { AfAlgType } from './afalg-probe.js';

/** Where the kernel exposes the sysctl. */
export const AF_ALG_RESTRICT_PATH = '/proc/sys/crypto/af_alg_restrict';

/** The sysctl's name, as `sysctl(8)` spells it. */
export const AF_ALG_RESTRICT_SYSCTL = 'crypto.af_alg_restrict';

/** Who may bind a name under `af_alg_restrict=1`. */
export type AllowlistEntry = 'anyone' | 'privileged';

/**
 * The allowlists of `af_alg_restrict=1` as merged ("crypto: af_alg - Add af_alg_restrict
 * sysctl, defaulting to 1" and its follow-ups), by socket type. Names not listed (every driver
 * name, `gcm(aes)`, ChaCha20-Poly1305, `authenc(...)`, SHA-3, every RNG) are refused to all.
 */
export const AF_ALG_ALLOWLIST: Readonly<Record<AfAlgType, Readonly<Record<string, AllowlistEntry>>>> = {
  hash: {
    sha1: 'anyone',
    'cmac(aes)': 'privileged',
    'hmac(md5)': 'privileged',
    'hmac(sha1)': 'privileged',
    'hmac(sha224)': 'privileged',
    'hmac(sha256)': 'privileged',
    'hmac(sha384)': 'privileged',
    'hmac(sha512)': 'privileged',
    md4: 'privileged',
    md5: 'privileged',
    sha224: 'privileged',
    sha256: 'privileged',
    sha384: 'privileged',
    sha512: 'privileged',
  },
  skcipher: {
    'xts(aes)': 'anyone',
    'adiantum(xchacha12,aes)': 'anyone',
    'adiantum(xchacha20,aes)': 'anyone',
    'hctr2(aes)': 'anyone',
    'xts(camellia)': 'anyone',
    'xts(serpent)': 'anyone',
    'xts(twofish)': 'anyone',
    'cbc(aes)': 'privileged',
    'ctr(aes)': 'privileged',
    'ecb(aes)': 'privileged',
    'cbc(des)': 'privileged',
    'cbc(des3_ede)': 'privileged',
    'ecb(des)': 'privileged',
    'cbc(paes)': 'privileged',
  },
  aead: {
    'ccm(aes)': 'privileged',
  },
  rng: {},
};

/** Whether this process is privileged in the sense of `af_alg_restrict=1`, and the evidence. */
export interface AfAlgPrivilege {
  /** Effective `CAP_SYS_ADMIN`, or `CAP_NET_ADMIN` in the initial user namespace. */
  privileged: boolean;
  /** One sentence with the evidence, for reasons and `kcrypto drivers`. */
  reason: string;
}

/** The sysctl's state for this process. */
export interface AfAlgRestriction {
  /** The sysctl's value, or null when the kernel has none (or it cannot be read). */
  value: number | null;
  /** Why `value` is null, when it is. */
  reason?: string;
  privilege: AfAlgPrivilege;
}

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** Reads a file, or null. */
function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Works out the privilege `af_alg_restrict=1` checks, from `/proc/self/status` (`CapEff`) and
 * `/proc/self/uid_map` (the initial user namespace maps the whole range `0 0 4294967295`).
 *
 * @param status - `/proc/self/status` text (read when omitted); null when unreadable.
 * @param uidMap - `/proc/self/uid_map` text (read when omitted); null when unreadable.
 */
export function readAfAlgPrivilege(
  status: string | null = readText('/proc/self/status'),
  uidMap: string | null = readText('/proc/self/uid_map'),
): AfAlgPrivilege {
  const hex = status === null ? undefined : /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status)?.[1];
  if (hex === undefined) return { privileged: false, reason: 'effective capabilities unknown (/proc/self/status has no CapEff)' };
  const caps = BigInt(`0x${hex}`);
  const has = (bit: bigint): boolean => ((caps >> bit) & 1n) === 1n;
  if (has(CAP_SYS_ADMIN)) return { privileged: true, reason: 'this process has CAP_SYS_ADMIN' };
  const initialNs = uidMap !== null && /^\s*0\s+0\s+4294967295\s*$/m.test(uidMap);
  if (has(CAP_NET_ADMIN)) {
    return initialNs
      ? { privileged: true, reason: 'this process has CAP_NET_ADMIN in the initial user namespace' }
      : { privileged: false, reason: 'this process has CAP_NET_ADMIN, but not in the initial user namespace' };
  }
  return { privileged: false, reason: 'this process has neither CAP_SYS_ADMIN nor CAP_NET_ADMIN' };
}

/**
 * Reads `crypto.af_alg_restrict` and this process's privilege.
 *
 * @param path - the sysctl's file (tests point it elsewhere).
 * @param privilege - the privilege, when already known.
 */
export function readAfAlgRestriction(
  path: string = AF_ALG_RESTRICT_PATH,
  privilege: AfAlgPrivilege = readAfAlgPrivilege(),
): AfAlgRestriction {
  const text = readText(path);
  if (text === null) return { value: null, reason: `${path} does not exist (a kernel without ${AF_ALG_RESTRICT_SYSCTL})`, privilege };
  const value = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(value)) return { value: null, reason: `${path} reads ${JSON.stringify(text.trim())}`, privilege };
  return { value, privilege };
}

/** Who may bind `name` on a socket of `type` under `af_alg_restrict=1`, or null: no one. */
export function allowlistEntry(type: AfAlgType, name: string): AllowlistEntry | null {
  return AF_ALG_ALLOWLIST[type][name] ?? null;
}

/** Whether `af_alg_restrict` admits `name` for this process (true when it restricts nothing). */
export function admits(r: AfAlgRestriction, type: AfAlgType, name: string): boolean {
  if (r.value === null || r.value === 0) return true;
  if (r.value !== 1) return false;
  const entry = allowlistEntry(type, name);
  return entry === 'anyone' || (entry === 'privileged' && r.privilege.privileged);
}

/** `crypto.af_alg_restrict=1`, as reasons print it. */
export function sysctlSetting(value: number): string {
  return `${AF_ALG_RESTRICT_SYSCTL}=${value}`;
}

/**
 * Why `af_alg_restrict` refuses `name` to this process, or null when it does not (the refusal
 * then has another cause).
 *
 * @param driverName - true when `name` is a driver name (`cra_driver_name`), which no list has.
 */
export function restrictionReason(r: AfAlgRestriction, type: AfAlgType, name: string, driverName = false): string | null {
  if (r.value === 2) return `AF_ALG disabled by ${sysctlSetting(2)}`;
  if (r.value !== 1) return null;
  if (driverName) return `refused by ${sysctlSetting(1)}: not on the allowlist (no driver name is)`;
  const entry = allowlistEntry(type, name);
  if (entry === null) return `refused by ${sysctlSetting(1)}: not on the allowlist`;
  if (entry === 'privileged' && !r.privilege.privileged) {
    return `refused by ${sysctlSetting(1)}: on the allowlist only for privileged processes (CAP_SYS_ADMIN, or CAP_NET_ADMIN in the initial user namespace; ${r.privilege.reason})`;
  }
  return null;
}
