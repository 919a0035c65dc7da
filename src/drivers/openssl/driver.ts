/**
 * The `openssl` framework driver (CRYPTOCAP_F_SOFTWARE): AES-CBC, CTR, ECB
 * and XTS, the hashes and their HMACs, computed by the OpenSSL that Node.js carries through the
 * addon's engine. It is software like cryptosoft, with two differences that measure: a session
 * is keyed once, not once per request, and a large request runs on the CPU lane's threads, so
 * several of them use several cores while the JavaScript thread goes on. It shares the engine
 * drivers' session table and request path (../kernel/driver.ts); no kernel is involved.
 */
import { catalogOf } from '../../algorithms/crypto-ids.js';
import * as C from '../../framework/constants.js';
import type { Framework, SessionOptions } from '../../framework/framework.js';
import type { CryptoIni } from '../../framework/structures.js';
import type { KernelSessionStats } from '../../kernel/bridge/engine/index.js';
import { authTransform, cipherTransform } from '../common/backend-transforms.js';
import type { SessionEntry } from '../common/descriptor-executor.js';
import { xtsTweak, type Transform } from '../common/transforms.js';
import { chainOf, KernelDriver, keyOf, type KernelDriverSession } from '../kernel/driver.js';
import { OPENSSL_DRIVER, openOpenSslCipher, openOpenSslHash, openOpenSslHmac, openSslOpens, openSslUnavailable } from './sessions.js';

/** The CRYPTO_* algorithms the driver may serve; each is registered only if this OpenSSL opens it. */
const CANDIDATES: readonly [id: number, keyLength: number][] = [
  [C.CRYPTO_AES_CBC, 16],
  [C.CRYPTO_AES_ICM, 16],
  [C.CRYPTO_KC_AES_ECB, 16],
  [C.CRYPTO_AES_XTS, 32],
  ...[
    [C.CRYPTO_MD5, C.CRYPTO_MD5_HMAC],
    [C.CRYPTO_SHA1, C.CRYPTO_SHA1_HMAC],
    [C.CRYPTO_SHA2_224, C.CRYPTO_SHA2_224_HMAC],
    [C.CRYPTO_SHA2_256, C.CRYPTO_SHA2_256_HMAC],
    [C.CRYPTO_SHA2_384, C.CRYPTO_SHA2_384_HMAC],
    [C.CRYPTO_SHA2_512, C.CRYPTO_SHA2_512_HMAC],
    [C.CRYPTO_KC_SHA3_224, C.CRYPTO_KC_SHA3_224_HMAC],
    [C.CRYPTO_KC_SHA3_256, C.CRYPTO_KC_SHA3_256_HMAC],
    [C.CRYPTO_KC_SHA3_384, C.CRYPTO_KC_SHA3_384_HMAC],
    [C.CRYPTO_KC_SHA3_512, C.CRYPTO_KC_SHA3_512_HMAC],
    [C.CRYPTO_KC_SM3, C.CRYPTO_KC_SM3_HMAC],
    [C.CRYPTO_RIPEMD160, C.CRYPTO_RIPEMD160_HMAC],
    [C.CRYPTO_BLAKE2B, C.CRYPTO_KC_BLAKE2B_HMAC],
    [C.CRYPTO_BLAKE2S, C.CRYPTO_KC_BLAKE2S_HMAC],
  ].flatMap(([hash, hmac]): [number, number][] => [
    [hash!, 0],
    [hmac!, 16],
  ]),
];

interface Opened {
  transform: Transform;
  stats: () => KernelSessionStats;
  maxRequest: number;
}

class OpenSslDriver extends KernelDriver {
  get name(): string {
    return OPENSSL_DRIVER;
  }

  readonly kernelDriver = '';
  readonly hardware = false;

  /** Opens the transform of one algorithm; throws a KCryptoError when OpenSSL refuses it. */
  open(alg: number, key: Uint8Array, o?: SessionOptions): Opened {
    const execution = o?.execution ?? 'auto';
    const a = catalogOf(alg, key.length);
    if (a?.kind === 'cipher') {
      const reopen = (k: Uint8Array): ReturnType<typeof openOpenSslCipher> => openOpenSslCipher(a, k, execution);
      const b = reopen(key);
      return {
        transform: cipherTransform(b, reopen, a.mode === 'xts' ? xtsTweak : undefined),
        stats: () => b.stats!(),
        maxRequest: b.maxRequestBytes ?? 0,
      };
    }
    if (a?.kind === 'hash') {
      const b = openOpenSslHash(a, execution);
      return { transform: authTransform(b, a.digestLength, null), stats: () => b.stats!(), maxRequest: 0 };
    }
    if (a?.kind === 'mac' && a.hash) {
      const reopen = (k: Uint8Array): ReturnType<typeof openOpenSslHmac> => openOpenSslHmac(a, k, execution);
      const b = reopen(key);
      return { transform: authTransform(b, a.digestLength, reopen), stats: () => b.stats!(), maxRequest: 0 };
    }
    throw this.fw.error('EINVAL', `${OPENSSL_DRIVER}: algorithm ${alg} with a ${key.length}-byte key`, OPENSSL_DRIVER);
  }

  newSession(_arg: unknown, cri: CryptoIni, o?: SessionOptions): number {
    const entries: SessionEntry[] = [];
    const opened: Opened[] = [];
    try {
      for (const c of chainOf(cri)) {
        const t = this.open(c.alg, keyOf(c), o);
        opened.push(t);
        entries.push({ alg: c.alg, mlen: c.mlen, transform: t.transform });
      }
    } catch (err) {
      for (const t of opened) void t.transform.close();
      throw err;
    }
    const limits = opened.map((t) => t.maxRequest).filter((n) => n > 0);
    const session: KernelDriverSession = {
      entries,
      stats: opened[0]?.stats,
      maxRequest: limits.length > 0 ? Math.min(...limits) : 0,
    };
    return this.add(session);
  }
}

/**
 * Registers the `openssl` driver with `fw` for every algorithm this OpenSSL opens; returns its
 * id, or the reason it cannot be used here.
 */
export function registerOpenSslDriver(fw: Framework): { id: number } | { reason: string } {
  const reason = openSslUnavailable();
  if (reason) return { reason };
  const driver = new OpenSslDriver(fw);
  const id = fw.getDriverId(C.CRYPTOCAP_F_SOFTWARE, OPENSSL_DRIVER);
  driver.id = id;
  const impl = driver.impl();
  for (const [alg, keyLength] of CANDIDATES) {
    const a = catalogOf(alg, keyLength);
    const key = new Uint8Array(keyLength).map((_, i) => i + 1);
    const opens =
      a?.kind === 'cipher'
        ? openSslOpens('cipher', a.name, key)
        : a?.kind === 'hash'
          ? openSslOpens('digest', a.name, null)
          : a?.kind === 'mac' && a.hash !== undefined && openSslOpens('hmac', a.hash.name, key);
    if (opens) fw.register(id, alg, 0, 0, impl);
  }
  return { id };
}
