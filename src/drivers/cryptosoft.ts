/**
 * cryptosoft: the framework's software driver (CRYPTOCAP_F_SOFTWARE | CRYPTOCAP_F_SYNC), on
 * node:crypto. It implements the descriptor semantics of crypto(9): each descriptor transforms
 * or authenticates a region of the request's buffer (`skip`, `len`), with the IV or the MAC at
 * `inject`; IVs are explicit (CRD_F_IV_EXPLICIT), read from the buffer, or made up and written
 * there (unless CRD_F_IV_PRESENT); keys come from the session or the descriptor
 * (CRD_F_KEY_EXPLICIT); MACs are truncated to the session's `mlen`. CRYPTO_F_IOV buffers are
 * treated as one buffer.
 *
 * It registers only the algorithms this process's OpenSSL provides; the legacy ones OpenSSL 3
 * keeps in its legacy provider (DES, Blowfish, CAST, ARC4) are not registered here.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

import { errnoOf } from '../kernel/status.js';
import * as C from '../framework/constants.js';
import type { Framework } from '../framework/framework.js';
import type { CryptoDesc, CryptoIni, CryptoOp } from '../framework/structures.js';

interface CipherInfo {
  kind: 'cipher';
  /** node:crypto name for a key of `bytes` bytes, or undefined when that length is invalid. */
  name: (bytes: number) => string | undefined;
  /** Bytes of IV taken from / written to the request (FreeBSD sizes: XTS takes 8). */
  ivLength: number;
  /** Data must be a multiple of this. */
  block: number;
  /** Builds node's IV from the request's. */
  nodeIv?: (iv: Uint8Array) => Uint8Array;
}

interface AuthInfo {
  kind: 'auth';
  hash: string;
  keyed: boolean;
}

/**
 * An AEAD cipher. As in the BSD API, a request pairs its descriptor (the payload region, the
 * IV at `inject`) with one of the matching auth algorithm (the associated-data region, the tag
 * at `inject`); without that descriptor there is no AAD and the tag goes to/comes from crp.mac.
 */
interface AeadInfo {
  kind: 'aead';
  name: (bytes: number) => string | undefined;
  ivLength: number;
  /** The auth algorithms that pair with it. */
  auth: readonly number[];
  ccm?: boolean;
}

/** The auth half of an AEAD pair: no work of its own. */
interface AeadAuthInfo {
  kind: 'aead-auth';
}

type AlgInfo = CipherInfo | AuthInfo | AeadInfo | AeadAuthInfo;

const aes = (mode: string) => (bytes: number) => ([16, 24, 32].includes(bytes) ? `aes-${bytes * 8}-${mode}` : undefined);

/** The algorithms cryptosoft knows, by CRYPTO_* id. */
const ALGORITHMS: ReadonlyMap<number, AlgInfo> = new Map<number, AlgInfo>([
  [C.CRYPTO_AES_CBC, { kind: 'cipher', name: aes('cbc'), ivLength: 16, block: 16 }],
  [C.CRYPTO_AES_ICM, { kind: 'cipher', name: aes('ctr'), ivLength: 16, block: 1 }],
  // FreeBSD's XTS IV is the 64-bit block number; bytes 8–15 of the tweak are zero.
  [C.CRYPTO_AES_XTS, { kind: 'cipher', name: (b) => (b === 32 || b === 64 ? `aes-${b * 4}-xts` : undefined), ivLength: 8, block: 16, nodeIv: (iv) => Buffer.concat([iv, Buffer.alloc(8)]) }],
  [C.CRYPTO_3DES_CBC, { kind: 'cipher', name: (b) => (b === 24 ? 'des-ede3-cbc' : undefined), ivLength: 8, block: 8 }],
  [C.CRYPTO_CAMELLIA_CBC, { kind: 'cipher', name: (b) => ([16, 24, 32].includes(b) ? `camellia-${b * 8}-cbc` : undefined), ivLength: 16, block: 16 }],
  [C.CRYPTO_NULL_CBC, { kind: 'cipher', name: () => 'null', ivLength: 0, block: 4 }],
  [C.CRYPTO_MD5, { kind: 'auth', hash: 'md5', keyed: false }],
  [C.CRYPTO_SHA1, { kind: 'auth', hash: 'sha1', keyed: false }],
  [C.CRYPTO_SHA2_224, { kind: 'auth', hash: 'sha224', keyed: false }],
  [C.CRYPTO_SHA2_256, { kind: 'auth', hash: 'sha256', keyed: false }],
  [C.CRYPTO_SHA2_384, { kind: 'auth', hash: 'sha384', keyed: false }],
  [C.CRYPTO_SHA2_512, { kind: 'auth', hash: 'sha512', keyed: false }],
  [C.CRYPTO_RIPEMD160, { kind: 'auth', hash: 'ripemd160', keyed: false }],
  [C.CRYPTO_MD5_HMAC, { kind: 'auth', hash: 'md5', keyed: true }],
  [C.CRYPTO_SHA1_HMAC, { kind: 'auth', hash: 'sha1', keyed: true }],
  [C.CRYPTO_SHA2_224_HMAC, { kind: 'auth', hash: 'sha224', keyed: true }],
  [C.CRYPTO_SHA2_256_HMAC, { kind: 'auth', hash: 'sha256', keyed: true }],
  [C.CRYPTO_SHA2_384_HMAC, { kind: 'auth', hash: 'sha384', keyed: true }],
  [C.CRYPTO_SHA2_512_HMAC, { kind: 'auth', hash: 'sha512', keyed: true }],
  [C.CRYPTO_RIPEMD160_HMAC, { kind: 'auth', hash: 'ripemd160', keyed: true }],
  [C.CRYPTO_BLAKE2B, { kind: 'auth', hash: 'blake2b512', keyed: false }],
  [C.CRYPTO_BLAKE2S, { kind: 'auth', hash: 'blake2s256', keyed: false }],
  [C.CRYPTO_AES_NIST_GCM_16, { kind: 'aead', name: aes('gcm'), ivLength: 12, auth: [C.CRYPTO_AES_NIST_GMAC, C.CRYPTO_AES_128_NIST_GMAC, C.CRYPTO_AES_192_NIST_GMAC, C.CRYPTO_AES_256_NIST_GMAC] }],
  [C.CRYPTO_AES_CCM_16, { kind: 'aead', name: aes('ccm'), ivLength: 12, auth: [C.CRYPTO_AES_CCM_CBC_MAC], ccm: true }],
  [C.CRYPTO_CHACHA20_POLY1305, { kind: 'aead', name: (b) => (b === 32 ? 'chacha20-poly1305' : undefined), ivLength: 12, auth: [C.CRYPTO_POLY1305] }],
  [C.CRYPTO_AES_NIST_GMAC, { kind: 'aead-auth' }],
  [C.CRYPTO_AES_128_NIST_GMAC, { kind: 'aead-auth' }],
  [C.CRYPTO_AES_192_NIST_GMAC, { kind: 'aead-auth' }],
  [C.CRYPTO_AES_256_NIST_GMAC, { kind: 'aead-auth' }],
  [C.CRYPTO_AES_CCM_CBC_MAC, { kind: 'aead-auth' }],
  [C.CRYPTO_POLY1305, { kind: 'aead-auth' }],
]);

/** Whether this process's OpenSSL has what the algorithm needs. */
function available(info: AlgInfo): boolean {
  try {
    if (info.kind === 'aead-auth') return true;
    if (info.kind === 'aead') createCipheriv(info.name(32)! as 'aes-256-gcm', randomBytes(32), Buffer.alloc(info.ivLength), { authTagLength: 16 });
    else if (info.kind === 'auth') createHash(info.hash);
    else {
      const name = info.name(info.name(16) ? 16 : info.name(24) ? 24 : 32);
      // A random key: OpenSSL refuses an XTS key whose halves are equal (all zeroes).
      if (name && name !== 'null') createCipheriv(name, randomBytes(name.endsWith('xts') ? 32 : name.startsWith('des') ? 24 : 16), Buffer.alloc(info.nodeIv ? 16 : info.ivLength || 16));
    }
    return true;
  } catch {
    return false;
  }
}

interface SessionEntry {
  alg: number;
  key: Buffer | null;
  mlen: number;
}

/** The descriptor's own key with CRD_F_KEY_EXPLICIT (`klen` bits of it), else the session's. */
function descriptorKey(d: CryptoDesc, entry: SessionEntry): Buffer | null {
  if (d.flags & C.CRD_F_KEY_EXPLICIT && d.key) return Buffer.from(d.key.subarray(0, Math.ceil(d.klen / 8) || d.key.length));
  return entry.key;
}

/**
 * The IV of a cipher descriptor: the explicit one (CRD_F_IV_EXPLICIT); else, decrypting, the
 * one at `inject`; else a fresh one. Encrypting, it is written at `inject` unless
 * CRD_F_IV_PRESENT says the packet already carries it. Null when `inject` is out of range.
 */
function resolveIv(buf: Buffer, d: CryptoDesc, ivLength: number, encrypt: boolean): Buffer | null {
  if (ivLength === 0) return Buffer.alloc(0);
  const fits = d.inject >= 0 && d.inject + ivLength <= buf.length;
  let iv: Buffer;
  if (d.flags & C.CRD_F_IV_EXPLICIT) iv = Buffer.from(d.iv.subarray(0, ivLength));
  else if (encrypt) iv = randomBytes(ivLength);
  else if (fits) iv = Buffer.from(buf.subarray(d.inject, d.inject + ivLength));
  else return null;
  if (encrypt && !(d.flags & C.CRD_F_IV_PRESENT)) {
    if (!fits) return null;
    iv.copy(buf, d.inject);
  }
  return iv;
}

class Cryptosoft {
  private readonly sessions = new Map<number, SessionEntry[]>();
  private nextLid = 0;
  private readonly EINVAL = errnoOf('EINVAL');

  constructor(private readonly fw: Framework) {}

  newSession(_arg: unknown, cri: CryptoIni): number {
    const entries: SessionEntry[] = [];
    for (let c: CryptoIni | null = cri; c; c = c.next) {
      if (!ALGORITHMS.has(c.alg)) throw new RangeError(`cryptosoft: algorithm ${c.alg}`);
      entries.push({ alg: c.alg, key: c.key ? Buffer.from(c.key.subarray(0, Math.ceil(c.klen / 8) || c.key.length)) : null, mlen: c.mlen });
    }
    const lid = this.nextLid++;
    this.sessions.set(lid, entries);
    return lid;
  }

  freeSession(_arg: unknown, sid: bigint): void {
    const lid = Number(sid & 0xffffffffn);
    for (const e of this.sessions.get(lid) ?? []) e.key?.fill(0);
    this.sessions.delete(lid);
  }

  /** Synchronous: every request is complete (done() called) when process() returns. */
  process(_arg: unknown, crp: CryptoOp): number {
    const entries = this.sessions.get(Number(crp.sid & 0xffffffffn));
    crp.etype = entries ? this.run(crp, entries) : this.EINVAL;
    this.fw.done(crp);
    return 0;
  }

  private run(crp: CryptoOp, entries: SessionEntry[]): number {
    // One contiguous view of the buffer; an iovec is gathered, then scattered back.
    const raw = crp.buf;
    const iov = Array.isArray(raw) ? raw : null;
    const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const descs: CryptoDesc[] = [];
    for (let d: CryptoDesc | null = crp.desc; d; d = d.next) descs.push(d);
    for (const d of descs) {
      const entry = entries.find((e) => e.alg === d.alg);
      const info = ALGORITHMS.get(d.alg);
      if (!entry || !info) return this.EINVAL;
      if (d.skip < 0 || d.len < 0 || d.skip + d.len > buf.length) return this.EINVAL;
      let rc = 0;
      if (info.kind === 'cipher') rc = this.cipher(buf, d, entry, info);
      else if (info.kind === 'auth') rc = this.auth(crp, buf, d, entry, info);
      else if (info.kind === 'aead') {
        const authDesc = descs.find((x) => info.auth.includes(x.alg));
        const authEntry = authDesc ? entries.find((e) => e.alg === authDesc.alg) : undefined;
        rc = this.aead(crp, buf, d, entry, info, authDesc, authEntry);
      }
      // aead-auth descriptors are consumed by their cipher's.
      if (rc !== 0) return rc;
    }
    if (iov) {
      let off = 0;
      for (const seg of iov) {
        buf.copy(seg, 0, off, off + seg.length);
        off += seg.length;
      }
    }
    crp.olen = buf.length;
    return 0;
  }

  private cipher(buf: Buffer, d: CryptoDesc, entry: SessionEntry, info: CipherInfo): number {
    const key = descriptorKey(d, entry);
    if (d.len % info.block !== 0) return this.EINVAL;
    const encrypt = (d.flags & C.CRD_F_ENCRYPT) !== 0;
    const iv = resolveIv(buf, d, info.ivLength, encrypt);
    if (!iv) return this.EINVAL;
    const name = info.name(key?.length ?? 0);
    if (!name || !key) return this.EINVAL;
    if (name === 'null') return 0;
    const region = buf.subarray(d.skip, d.skip + d.len);
    const nodeIv = info.nodeIv ? info.nodeIv(iv) : iv;
    const c = encrypt ? createCipheriv(name, key, nodeIv) : createDecipheriv(name, key, nodeIv);
    c.setAutoPadding(false);
    const out = Buffer.concat([c.update(region), c.final()]);
    out.copy(region);
    return 0;
  }

  private aead(crp: CryptoOp, buf: Buffer, d: CryptoDesc, entry: SessionEntry, info: AeadInfo, authDesc: CryptoDesc | undefined, authEntry: SessionEntry | undefined): number {
    const key = descriptorKey(d, entry);
    const name = info.name(key?.length ?? 0);
    if (!name || !key) return this.EINVAL;
    const encrypt = (d.flags & C.CRD_F_ENCRYPT) !== 0;
    const iv = resolveIv(buf, d, info.ivLength, encrypt);
    if (!iv) return this.EINVAL;
    const tagLength = authEntry && authEntry.mlen > 0 ? authEntry.mlen : 16;
    const aad = authDesc ? buf.subarray(authDesc.skip, authDesc.skip + authDesc.len) : Buffer.alloc(0);
    if (authDesc && (authDesc.skip < 0 || authDesc.skip + authDesc.len > buf.length)) return this.EINVAL;
    const tagAt = authDesc ? authDesc.inject : -1;
    if (tagAt >= 0 ? tagAt + tagLength > buf.length : !crp.mac || crp.mac.length < tagLength) return this.EINVAL;
    const region = buf.subarray(d.skip, d.skip + d.len);
    const opts = { authTagLength: tagLength };
    // A zero-length view can carry a null data pointer, which OpenSSL's CCM mistakes for "no
    // update call" (see software.ts); give it a real empty buffer.
    const payload = region.length === 0 ? Buffer.alloc(0) : region;
    try {
      if (encrypt) {
        const c = createCipheriv(name as 'aes-128-gcm', key, iv, opts);
        if (aad.length > 0 || info.ccm) c.setAAD(aad, { plaintextLength: region.length });
        const out = Buffer.concat([c.update(payload), c.final()]);
        out.copy(region);
        const tag = c.getAuthTag();
        if (tagAt >= 0) tag.copy(buf, tagAt);
        else crp.mac!.set(tag);
        return 0;
      }
      const tag = tagAt >= 0 ? Buffer.from(buf.subarray(tagAt, tagAt + tagLength)) : Buffer.from(crp.mac!.subarray(0, tagLength));
      const c = createDecipheriv(name as 'aes-128-gcm', key, iv, opts);
      c.setAuthTag(tag);
      if (aad.length > 0 || info.ccm) c.setAAD(aad, { plaintextLength: region.length });
      const out = c.update(payload);
      try {
        Buffer.concat([out, c.final()]).copy(region);
      } catch {
        out.fill(0);
        return errnoOf('EBADMSG');
      }
      return 0;
    } catch {
      return this.EINVAL;
    }
  }

  private auth(crp: CryptoOp, buf: Buffer, d: CryptoDesc, entry: SessionEntry, info: AuthInfo): number {
    const region = buf.subarray(d.skip, d.skip + d.len);
    let digest: Buffer;
    if (info.keyed) {
      const key = descriptorKey(d, entry);
      if (!key) return this.EINVAL;
      digest = createHmac(info.hash, key).update(region).digest();
    } else digest = createHash(info.hash).update(region).digest();
    const mac = entry.mlen > 0 ? digest.subarray(0, entry.mlen) : digest;
    if (crp.mac) {
      if (crp.mac.length < mac.length) return this.EINVAL;
      crp.mac.set(mac);
      return 0;
    }
    if (d.inject + mac.length > buf.length) return this.EINVAL;
    mac.copy(buf, d.inject);
    return 0;
  }
}

/**
 * Registers cryptosoft with `fw`; returns its driver id. Its process() completes every request
 * before returning, so with CRYPTO_F_CBIFSYNC the callback runs inside dispatch().
 */
export function registerCryptosoft(fw: Framework, name = 'cryptosoft0'): number {
  const id = fw.getDriverId(C.CRYPTOCAP_F_SOFTWARE | C.CRYPTOCAP_F_SYNC, name);
  const impl = new Cryptosoft(fw);
  const driver = { newSession: impl.newSession.bind(impl), freeSession: impl.freeSession.bind(impl), process: impl.process.bind(impl) };
  for (const [alg, info] of ALGORITHMS) if (available(info)) fw.register(id, alg, 0, 0, driver);
  return id;
}

/** The CRYPTO_* algorithms cryptosoft serves in this process. */
export function cryptosoftAlgorithms(): number[] {
  return [...ALGORITHMS].filter(([, info]) => available(info)).map(([alg]) => alg);
}
