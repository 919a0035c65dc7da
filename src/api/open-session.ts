/**
 * `openSession()`: turns a session spec and a driver choice into a session on a driver.
 */
import {
  authencOf,
  CMAC_AES,
  findCipher,
  findHash,
  hmacOf,
  STDRNG,
  type AeadAlgorithm,
  type Algorithm,
  type CipherAlgorithm,
  type HashAlgorithm,
  type MacAlgorithm,
} from '../algorithms/catalog.js';
import { idsOf } from '../algorithms/crypto-ids.js';
import { SOFTWARE_DRIVER } from '../drivers/software/node-crypto.js';
import { OPENSSL_DRIVER } from '../drivers/openssl/sessions.js';
import { CryptoIni } from '../framework/structures.js';
import type { Execution } from '../kernel/bridge/engine/index.js';
import { invalid } from '../kernel/bridge/status.js';
import { forbiddenError, isForbidden } from '../kernel/bridge/forbid.js';
import { aeadBackend, cipherBackend, FrameworkSession, hashBackend, rngBackend } from './framework-backend.js';
import {
  afalgDriverFor,
  framework,
  openSslDriver,
  registerDevCryptoDrivers,
  registerKernelDrivers,
  router,
  softwareDriverId,
} from './framework-instance.js';
import { CRYPTOCAP_F_HARDWARE, CRYPTOCAP_F_SOFTWARE } from '../framework/constants.js';
import type { SessionOptions } from '../framework/framework.js';
import { resolveKernelTarget } from './kernel-view.js';
import {
  invalidArgType,
  invalidArgValue,
  invalidAuthTag,
  invalidDigest,
  invalidKeyLength,
  missingArgs,
  unknownCipher,
} from './node-errors.js';
import { AeadSession, bytesOf, CipherSession, HashSession, RngSession, type Bytes } from './session.js';

/** A cipher or AEAD: node:crypto name (`aes-256-gcm`) or kernel name (`cbc(aes)`, `authenc(hmac(sha256),cbc(aes))`). */
export interface CipherSpec {
  cipher: string;
  key: Bytes;
  /** AEAD tag length in bytes (default 16; the full digest for authenc). */
  tagLength?: number;
  /** With `hmac`, or an `authenc(...)` name: the HMAC key. */
  authKey?: Bytes;
  /** Makes an AES-CBC cipher an encrypt-then-MAC AEAD: `authenc(hmac(<hmac>),cbc(aes))`. */
  hmac?: string;
}
/** A hash: `sha256`, `sha3-256`, … */
export interface HashSpec {
  hash: string;
}
/** An HMAC over a hash. */
export interface HmacSpec {
  hmac: string;
  key: Bytes;
}
/** AES-CMAC (`cmac: 'aes'`); the key length picks AES-128/192/256. */
export interface CmacSpec {
  cmac: string;
  key: Bytes;
}
/** A DRBG (`stdrng`: the kernel's default); `seed` resets it. */
export interface RngSpec {
  rng: string;
  seed?: Bytes;
}
/** What a session computes. */
export type SessionSpec = CipherSpec | HashSpec | HmacSpec | CmacSpec | RngSpec;

/**
 * Which driver serves a session: a policy, a kcrypto driver name (`afalg:cbc-aes-aesni`,
 * `software`), a kernel driver name (`cbc-aes-aesni`, `virtio_crypto_aes_cbc`), or the name a
 * driver of the program's own was given in `framework.getDriverId(flags, name)`.
 *
 * - `'software'`: node:crypto in this process.
 * - `'hardware'`: a kernel device driver (virtio-crypto, CAAM, QAT, CCP, …) through AF_ALG.
 * - `'kernel'`: the kernel's own choice (highest priority it lets user space reach).
 * - `'fastest'` (default): every driver that serves the algorithm (software and kernel), each
 *   request routed by its size to the one measured fastest for that size (the framework's
 *   route table: measured on first use, cached on disk, see docs/api.md). Where only one
 *   driver serves the algorithm, that driver.
 */
export type DriverChoice = 'hardware' | 'software' | 'fastest' | 'kernel' | (string & {});

/** Options of {@link openSession}. */
export interface OpenOptions {
  driver?: DriverChoice;
  /** Where kernel requests run: measured policy (default), always inline, always on threads. */
  execution?: Execution;
}

const EXECUTIONS: readonly Execution[] = ['auto', 'inline', 'threads'];

/** Cipher names that are AEADs, so that openSession() can return the precise session type. */
type AeadName =
  | `${string}-gcm`
  | `${string}-ccm`
  | 'chacha20-poly1305'
  | `authenc(${string})`
  | `gcm(${string})`
  | `ccm(${string})`
  | `rfc7539(${string})`;
/** Cipher names that are plain (unauthenticated) ciphers. */
type PlainName =
  | `${string}-cbc`
  | `${string}-ctr`
  | `${string}-ecb`
  | `${string}-xts`
  | `cbc(${string})`
  | `ctr(${string})`
  | `ecb(${string})`
  | `xts(${string})`;

interface ResolvedCipher {
  alg: CipherAlgorithm | AeadAlgorithm;
  key: Uint8Array;
  authKey?: Uint8Array;
  tagLength: number;
}

/** A spec's algorithm name, checked as node:crypto checks one: a TypeError unless a string. */
function nameOf(spec: object, field: 'cipher' | 'hash' | 'hmac' | 'cmac' | 'rng'): string {
  const v = (spec as Record<string, unknown>)[field];
  if (typeof v !== 'string') throw invalidArgType(field, 'string', v);
  return v;
}

/** The catalog's cipher named `name` for some key length, whatever length the caller gave. */
function anyCipher(name: string): CipherAlgorithm | AeadAlgorithm | undefined {
  return findCipher(name, 16) ?? findCipher(name, 32) ?? findCipher(name, 24) ?? findCipher(name, 64);
}

// Every check here depends on the spec and kcrypto's catalog only, never on a driver: what it
// refuses is refused on every host, so it is misuse and throws as createCipheriv() would.
function resolveCipher(spec: CipherSpec): ResolvedCipher {
  const name = nameOf(spec, 'cipher');
  const key = bytesOf('key', spec.key);
  let alg: CipherAlgorithm | AeadAlgorithm | undefined;
  if (spec.hmac !== undefined) {
    const hmac = nameOf(spec, 'hmac');
    const base = findCipher(name, key.length);
    if (base && (base.kind !== 'cipher' || base.mode !== 'cbc')) {
      throw invalidArgValue('hmac', hmac, `can be combined with an AES-CBC cipher only, not ${name}`);
    }
    if (base) {
      alg = authencOf(hmac, base.keyLength);
      if (!alg) throw invalidDigest(hmac);
    }
  } else {
    alg = findCipher(name, key.length);
  }
  if (!alg) throw anyCipher(name) ? invalidKeyLength() : unknownCipher();
  if (key.length !== alg.keyLength) throw invalidKeyLength();
  let tagLength = 0;
  let authKey: Uint8Array | undefined;
  if (spec.tagLength !== undefined && typeof spec.tagLength !== 'number') throw invalidArgType('tagLength', 'number', spec.tagLength);
  if (alg.kind === 'aead') {
    tagLength = spec.tagLength ?? alg.defaultTagLength;
    if (!alg.tagLengths.includes(tagLength)) throw invalidAuthTag(tagLength);
    if (alg.mode === 'authenc') authKey = bytesOf('authKey', spec.authKey);
  } else if (spec.tagLength !== undefined) {
    throw invalidArgValue('tagLength', spec.tagLength, `does not apply to ${alg.name}, which is not an AEAD`);
  }
  return authKey ? { alg, key, authKey, tagLength } : { alg, key, tagLength };
}

function resolveAlgorithm(spec: SessionSpec): Algorithm {
  if ('cipher' in spec) return resolveCipher(spec).alg;
  if ('hash' in spec) {
    const name = nameOf(spec, 'hash');
    const h = findHash(name);
    if (!h) throw invalidDigest(name);
    return h;
  }
  if ('hmac' in spec) {
    const name = nameOf(spec, 'hmac');
    const m = hmacOf(name.replace(/^hmac\((.*)\)$/, '$1'));
    if (!m) throw invalidDigest(name);
    return m;
  }
  if ('cmac' in spec) {
    if (!/^(aes|cmac\(aes\))$/i.test(nameOf(spec, 'cmac'))) throw unknownCipher();
    return CMAC_AES;
  }
  if ('rng' in spec) {
    // Any DRBG the kernel names: whether it has one is the driver's answer.
    const name = nameOf(spec, 'rng');
    if (name !== 'stdrng') return { ...STDRNG, name, kernelName: name };
    return STDRNG;
  }
  throw missingArgs(['cipher', 'hash', 'hmac', 'cmac', 'rng']);
}

/** Opens a session on the software driver or through AF_ALG. */
export function openSession(
  spec: (CipherSpec & { hmac: string }) | (CipherSpec & { cipher: AeadName }),
  options?: OpenOptions,
): Promise<AeadSession>;
export function openSession(spec: CipherSpec & { cipher: PlainName; hmac?: undefined }, options?: OpenOptions): Promise<CipherSession>;
export function openSession(spec: CipherSpec, options?: OpenOptions): Promise<CipherSession | AeadSession>;
export function openSession(spec: HashSpec | HmacSpec | CmacSpec, options?: OpenOptions): Promise<HashSession>;
export function openSession(spec: RngSpec, options?: OpenOptions): Promise<RngSession>;
export function openSession(spec: SessionSpec, options?: OpenOptions): Promise<CipherSession | AeadSession | HashSession | RngSession>;
export async function openSession(
  spec: SessionSpec,
  options: OpenOptions = {},
): Promise<CipherSession | AeadSession | HashSession | RngSession> {
  if (typeof spec !== 'object' || spec === null) throw invalidArgType('spec', 'object', spec);
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'object', options);
  if (options.driver !== undefined && typeof options.driver !== 'string') throw invalidArgType('options.driver', 'string', options.driver);
  if (options.execution !== undefined && !EXECUTIONS.includes(options.execution)) {
    throw invalidArgValue('options.execution', options.execution, `must be one of: ${EXECUTIONS.map((e) => `'${e}'`).join(', ')}`);
  }
  return open(spec, options);
}

/**
 * The crypto(9) chain of a session: one CryptoIni per algorithm id (an AEAD's auth half
 * carries the tag length as `mlen`; authenc's HMAC carries the MAC key).
 */
function chainOf(alg: Algorithm, key: Uint8Array | null, extra: { authKey?: Uint8Array; tagLength?: number } = {}): CryptoIni {
  const ids = idsOf(alg);
  const ini = (id: number, k: Uint8Array | null, mlen = 0): CryptoIni =>
    new CryptoIni({ alg: id, key: k, klen: (k?.length ?? 0) * 8, mlen });
  const head = ini(ids[0]!, key);
  if (ids.length > 1) head.next = ini(ids[1]!, extra.authKey ?? null, extra.tagLength ?? 0);
  return head;
}

/** The framework driver a choice names, registering a kernel driver on first use. */
async function driverIdOf(alg: Algorithm, choice: DriverChoice): Promise<number> {
  if (choice === 'software' || choice === SOFTWARE_DRIVER) return softwareDriverId;
  if (choice === OPENSSL_DRIVER) {
    const d = openSslDriver();
    if ('reason' in d) throw invalid('ENOTSUP', `${OPENSSL_DRIVER}: ${d.reason}`, OPENSSL_DRIVER);
    if (idsOf(alg).some((a) => !framework.algorithmsOf(d.id).includes(a)))
      throw invalid('EINVAL', `${OPENSSL_DRIVER} does not implement ${alg.kernelName}`, OPENSSL_DRIVER);
    return d.id;
  }
  if (choice === 'fastest') {
    openSslDriver();
    await registerKernelDrivers();
    return CRYPTOCAP_F_HARDWARE | CRYPTOCAP_F_SOFTWARE;
  }
  if (choice.startsWith('devcrypto:')) {
    if (isForbidden('devcrypto')) throw forbiddenError('devcrypto', choice);
    const reg = registerDevCryptoDrivers();
    const id = framework.findDriver(choice);
    if (id >= 0) {
      const missing = idsOf(alg).filter((a) => !framework.algorithmsOf(id).includes(a));
      if (missing.length > 0) throw invalid('EINVAL', `${choice} does not implement ${alg.kernelName}`, choice);
      return id;
    }
    throw invalid('ENOENT', `unknown driver ${choice}${reg?.discovery.reason ? ` (${reg.discovery.reason})` : ''}`, choice);
  }
  // A driver registered in the framework under this name by the program itself (a TypeScript
  // driver): reached directly. AF_ALG drivers register as `afalg:<name>`, found below.
  const registered = choice.startsWith('afalg:') ? -1 : framework.findDriver(choice);
  if (registered >= 0) {
    if (idsOf(alg).some((a) => !framework.algorithmsOf(registered).includes(a)))
      throw invalid('EINVAL', `${choice} does not implement ${alg.kernelName}`, choice);
    return registered;
  }
  const target = await resolveKernelTarget(alg, choice);
  return afalgDriverFor(target, alg.kernelName);
}

async function open(spec: SessionSpec, options: OpenOptions): Promise<CipherSession | AeadSession | HashSession | RngSession> {
  const alg = resolveAlgorithm(spec);
  const choice = options.driver ?? 'fastest';
  const id = await driverIdOf(alg, choice);
  const sessionOptions: SessionOptions = options.execution === undefined ? {} : { execution: options.execution };
  if (choice === 'fastest') sessionOptions.route = 'fastest';
  const start = async (cri: CryptoIni): Promise<FrameworkSession> => {
    const sid = await framework.newSession(cri, id, sessionOptions);
    const label = framework.sessionInfo(sid)?.driver ?? String(choice);
    // Requests routing can only send one way skip it (the router's direct()).
    return new FrameworkSession(framework, sid, label, choice === 'fastest' ? (router.direct(sid) ?? null) : null);
  };

  if ('cipher' in spec) {
    const r = resolveCipher(spec);
    if (r.alg.kind === 'cipher') return new CipherSession(r.alg, cipherBackend(await start(chainOf(r.alg, r.key)), r.alg));
    const extra = r.authKey ? { authKey: r.authKey, tagLength: r.tagLength } : { tagLength: r.tagLength };
    return new AeadSession(r.alg, r.tagLength, aeadBackend(await start(chainOf(r.alg, r.key, extra)), r.alg, r.tagLength));
  }
  if ('hash' in spec) {
    const h = alg as HashAlgorithm;
    return new HashSession(h, hashBackend(await start(chainOf(h, null)), h));
  }
  if ('hmac' in spec || 'cmac' in spec) {
    const m = alg as MacAlgorithm;
    const key = bytesOf('key', spec.key);
    if (m.keyLengths && !m.keyLengths.includes(key.length)) throw invalidKeyLength();
    return new HashSession(m, hashBackend(await start(chainOf(m, key)), m));
  }
  const seed = spec.seed === undefined ? null : bytesOf('seed', spec.seed);
  return new RngSession(alg as typeof STDRNG, rngBackend(await start(chainOf(alg, seed))));
}
