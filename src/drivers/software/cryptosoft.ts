/**
 * cryptosoft: the framework's software driver (CRYPTOCAP_F_SOFTWARE | CRYPTOCAP_F_SYNC). Its
 * transforms compute in this process, synchronously: node:crypto where this OpenSSL has the
 * algorithm, TypeScript (./legacy/) where it has not. The descriptor semantics are the
 * executor's (../common/descriptor-executor.ts), shared with every kcrypto driver; every request is
 * complete when process() returns, so with CRYPTO_F_CBIFSYNC the callback runs inside
 * dispatch().
 */
import { randomBytes } from 'node:crypto';

import { hashes, type HashAlgorithm } from '../../algorithms/catalog.js';
import { KCryptoError } from '../../errors.js';
import { hmacHashOf } from '../../algorithms/crypto-ids.js';
import * as C from '../../framework/constants.js';
import type { Framework } from '../../framework/framework.js';
import type { CryptKop, CryptoIni, CryptoOp } from '../../framework/structures.js';
import { errnoOf } from '../../errno.js';
import { execute, errnoOfFailure, type DriverSession } from '../common/descriptor-executor.js';
import { KEYING_OPS, processKeyOp } from './keying.js';
import { LEGACY_ALGORITHMS } from './legacy/legacy.js';
import { softwareAead, softwareCipher, softwareCmac, softwareHash, softwareHmac, softwareRng } from './node-crypto.js';
import { xtsTweak, type Transform } from '../common/transforms.js';

/** Opens the transform of one algorithm with the session's key; throws when the key is unusable. */
type Opener = (key: Uint8Array) => Transform | null;

const aesName = (mode: string, key: Uint8Array): string => {
  if (![16, 24, 32].includes(key.length)) throw new RangeError(`AES key of ${key.length} bytes`);
  return `aes-${key.length * 8}-${mode}`;
};
const hashNamed = (name: string): HashAlgorithm => hashes().find((h) => h.name === name)!;

const HASH_IDS: readonly [number, string][] = [
  [C.CRYPTO_MD5, 'md5'],
  [C.CRYPTO_SHA1, 'sha1'],
  [C.CRYPTO_SHA2_224, 'sha224'],
  [C.CRYPTO_SHA2_256, 'sha256'],
  [C.CRYPTO_SHA2_384, 'sha384'],
  [C.CRYPTO_SHA2_512, 'sha512'],
  [C.CRYPTO_RIPEMD160, 'ripemd160'],
  [C.CRYPTO_BLAKE2B, 'blake2b512'],
  [C.CRYPTO_BLAKE2S, 'blake2s256'],
  [C.CRYPTO_KC_SHA3_224, 'sha3-224'],
  [C.CRYPTO_KC_SHA3_256, 'sha3-256'],
  [C.CRYPTO_KC_SHA3_384, 'sha3-384'],
  [C.CRYPTO_KC_SHA3_512, 'sha3-512'],
  [C.CRYPTO_KC_SM3, 'sm3'],
];

const HMAC_IDS = [
  C.CRYPTO_MD5_HMAC,
  C.CRYPTO_SHA1_HMAC,
  C.CRYPTO_SHA2_224_HMAC,
  C.CRYPTO_SHA2_256_HMAC,
  C.CRYPTO_SHA2_384_HMAC,
  C.CRYPTO_SHA2_512_HMAC,
  C.CRYPTO_RIPEMD160_HMAC,
  C.CRYPTO_KC_SHA3_224_HMAC,
  C.CRYPTO_KC_SHA3_256_HMAC,
  C.CRYPTO_KC_SHA3_384_HMAC,
  C.CRYPTO_KC_SHA3_512_HMAC,
  C.CRYPTO_KC_SM3_HMAC,
  C.CRYPTO_KC_BLAKE2B_HMAC,
  C.CRYPTO_KC_BLAKE2S_HMAC,
];

/** The algorithms cryptosoft computes, by CRYPTO_* id. */
const ALGORITHMS: ReadonlyMap<number, Opener> = new Map<number, Opener>([
  [C.CRYPTO_AES_CBC, (k) => softwareCipher(aesName('cbc', k), k, 16)],
  [C.CRYPTO_AES_ICM, (k) => softwareCipher(aesName('ctr', k), k, 16)],
  [C.CRYPTO_KC_AES_ECB, (k) => softwareCipher(aesName('ecb', k), k, 0)],
  [
    C.CRYPTO_AES_XTS,
    (k) => softwareCipher(k.length === 32 || k.length === 64 ? `aes-${k.length * 4}-xts` : 'invalid-xts-key', k, 16, xtsTweak),
  ],
  [C.CRYPTO_3DES_CBC, (k) => softwareCipher('des-ede3-cbc', k, 8)],
  [C.CRYPTO_CAMELLIA_CBC, (k) => softwareCipher(`camellia-${k.length * 8}-cbc`, k, 16)],
  [C.CRYPTO_NULL_CBC, () => ({ kind: 'cipher', run: (_e, _iv, data) => data, close: () => {} })],
  ...HASH_IDS.map(([id, name]): [number, Opener] => [id, () => softwareHash(hashNamed(name))]),
  ...HMAC_IDS.map((id): [number, Opener] => [id, (k) => softwareHmac(hmacHashOf(id)!, k)]),
  [C.CRYPTO_KC_AES_CMAC, (k) => softwareCmac(k)],
  [C.CRYPTO_KC_STDRNG, () => softwareRng()],
  [C.CRYPTO_AES_NIST_GCM_16, (k) => softwareAead(aesName('gcm', k), k, false)],
  [C.CRYPTO_AES_CCM_16, (k) => softwareAead(aesName('ccm', k), k, true)],
  [C.CRYPTO_CHACHA20_POLY1305, (k) => softwareAead('chacha20-poly1305', k, false)],
  ...[C.CRYPTO_AES_CCM_CBC_MAC, C.CRYPTO_POLY1305].map((id): [number, Opener] => [id, () => null]),
  // DES, Blowfish, CAST-128, Skipjack, ARC4, KPDK, NULL-HMAC, DEFLATE and GMAC alone.
  ...LEGACY_ALGORITHMS,
]);

/** Whether this process can compute `alg` (probed once with a throwaway key). */
function available(alg: number): boolean {
  const probeKey: Record<number, number> = {
    [C.CRYPTO_AES_XTS]: 32,
    [C.CRYPTO_3DES_CBC]: 24,
    [C.CRYPTO_CHACHA20_POLY1305]: 32,
    [C.CRYPTO_DES_CBC]: 8,
    [C.CRYPTO_SKIPJACK_CBC]: 10,
  };
  try {
    ALGORITHMS.get(alg)!(randomBytes(probeKey[alg] ?? 16));
    return true;
  } catch {
    return false;
  }
}

function keyOf(c: CryptoIni): Uint8Array {
  return c.key ? c.key.subarray(0, Math.ceil(c.klen / 8) || c.key.length) : new Uint8Array(0);
}

class Cryptosoft {
  private readonly sessions = new Map<number, DriverSession>();
  private nextLid = 0;

  constructor(
    private readonly fw: Framework,
    private readonly name: string,
  ) {}

  newSession(_arg: unknown, cri: CryptoIni): number {
    const entries: DriverSession['entries'] = [];
    for (let c: CryptoIni | null = cri; c; c = c.next) {
      const open = ALGORITHMS.get(c.alg);
      if (!open) throw this.fw.error('EINVAL', `cryptosoft: algorithm ${c.alg}`, this.name);
      let transform: Transform | null;
      try {
        transform = open(keyOf(c));
      } catch (err) {
        if (err instanceof KCryptoError) throw err;
        throw this.fw.error('EINVAL', `algorithm ${c.alg}: ${(err as Error).message}`, this.name);
      }
      entries.push({ alg: c.alg, mlen: c.mlen, transform });
    }
    const lid = this.nextLid++;
    this.sessions.set(lid, { entries });
    return lid;
  }

  freeSession(_arg: unknown, sid: bigint): void {
    const lid = Number(sid & 0xffffffffn);
    for (const e of this.sessions.get(lid)?.entries ?? []) void e.transform?.close();
    this.sessions.delete(lid);
  }

  copySession(_arg: unknown, sid: bigint): number {
    const s = this.sessions.get(Number(sid & 0xffffffffn));
    const auth = s?.entries.find((e) => e.transform?.kind === 'auth');
    if (!auth || auth.transform?.kind !== 'auth') throw this.fw.error('EINVAL', 'cryptosoft: only a hash session can be copied', this.name);
    const copy = auth.transform.copy();
    if (copy instanceof Promise) throw this.fw.error('EINVAL', 'cryptosoft: asynchronous copy', this.name);
    const lid = this.nextLid++;
    this.sessions.set(lid, { entries: [{ ...auth, transform: copy }] });
    return lid;
  }

  /** Keying operations, in BigInt: complete when kprocess() returns. */
  kprocess(_arg: unknown, krp: CryptKop): number {
    krp.status = processKeyOp(krp);
    this.fw.kdone(krp);
    return 0;
  }

  /** Synchronous: every request is complete (done() called) when process() returns. */
  process(_arg: unknown, crp: CryptoOp): number {
    const s = this.sessions.get(Number(crp.sid & 0xffffffffn));
    if (!s) {
      crp.etype = errnoOf('EINVAL');
      this.fw.done(crp);
      return 0;
    }
    const rc = execute(crp, s);
    if (typeof rc === 'number') {
      crp.etype = rc;
      this.fw.done(crp);
    } else {
      rc.then(
        (r) => {
          crp.etype = r;
          this.fw.done(crp);
        },
        (err: unknown) => {
          crp.etype = errnoOfFailure(err);
          this.fw.done(crp);
        },
      );
    }
    return 0;
  }
}

/**
 * Registers cryptosoft with `fw`; returns its driver id. Its process() completes every request
 * before returning, so with CRYPTO_F_CBIFSYNC the callback runs inside dispatch().
 */
export function registerCryptosoft(fw: Framework, name = 'cryptosoft0'): number {
  const id = fw.getDriverId(C.CRYPTOCAP_F_SOFTWARE | C.CRYPTOCAP_F_SYNC, name);
  const impl = new Cryptosoft(fw, name);
  const driver = {
    newSession: impl.newSession.bind(impl),
    freeSession: impl.freeSession.bind(impl),
    process: impl.process.bind(impl),
    kprocess: impl.kprocess.bind(impl),
    copySession: impl.copySession.bind(impl),
  };
  for (const alg of ALGORITHMS.keys()) if (available(alg)) fw.register(id, alg, 0, 0, driver);
  for (const op of KEYING_OPS) fw.kregister(id, op, 0, driver);
  return id;
}

/** The CRYPTO_* algorithms cryptosoft serves in this process. */
export function cryptosoftAlgorithms(): number[] {
  return [...ALGORITHMS.keys()].filter(available);
}
