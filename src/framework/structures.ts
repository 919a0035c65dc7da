/**
 * The crypto(9) structures, as TypeScript classes with the man page's fields in camelCase.
 */
import { EALG_MAX_BLOCK_LEN } from './constants.js';
import { newOpState, type OpState } from './op-state.js';

/** Session initialisation for one algorithm (struct cryptoini); chained with `next`. */
export class CryptoIni {
  alg = 0;
  /** Key length in bits. */
  klen = 0;
  /** MAC bytes to copy back; 0 means the whole digest. */
  mlen = 0;
  key: Uint8Array | null = null;
  iv: Uint8Array = new Uint8Array(EALG_MAX_BLOCK_LEN);
  next: CryptoIni | null = null;

  constructor(init: Partial<Omit<CryptoIni, 'clone'>> = {}) {
    Object.assign(this, init);
  }

  /** A deep copy of the chain (the framework keeps one to migrate the session). */
  clone(): CryptoIni {
    const c = new CryptoIni({
      alg: this.alg,
      klen: this.klen,
      mlen: this.mlen,
      key: this.key ? Uint8Array.from(this.key) : null,
      iv: Uint8Array.from(this.iv),
    });
    c.next = this.next ? this.next.clone() : null;
    return c;
  }
}

/** One operation over a region of the request's buffer (struct cryptodesc); chained with `next`. */
export class CryptoDesc {
  /** Offset where processing starts. */
  skip = 0;
  /** Bytes processed from `skip`. */
  len = 0;
  /** Offset of the IV (ciphers) or where the MAC goes (hashes). */
  inject = 0;
  /** CRD_F_* */
  flags = 0;
  alg = 0;
  key: Uint8Array | null = null;
  /** Key length in bits (with CRD_F_KEY_EXPLICIT). */
  klen = 0;
  #iv: Uint8Array | null = null;
  /**
   * The IV (EALG_MAX_BLOCK_LEN bytes unless set to another array). Made on first read: most
   * requests set their own or use none, and an array per descriptor costs as much as the rest
   * of a small request's descriptor.
   */
  get iv(): Uint8Array {
    return (this.#iv ??= new Uint8Array(EALG_MAX_BLOCK_LEN));
  }
  set iv(v: Uint8Array) {
    this.#iv = v;
  }
  /**
   * kcrypto extension: bytes of IV, for algorithms that take several lengths (a CCM nonce of
   * 7–13 bytes; a 16-byte XTS tweak instead of FreeBSD's 8-byte block number). 0: the
   * algorithm's default.
   */
  ivLength = 0;
  next: CryptoDesc | null = null;
}

/** CryptoIni's fields as a plain object gives them: only `alg` is needed; `next` is another link. */
export interface CryptoIniFields {
  alg: number;
  klen?: number;
  mlen?: number;
  key?: Uint8Array | null;
  iv?: Uint8Array;
  next?: CryptoIniFields | CryptoIni | null;
}

/**
 * `cri` as a chain of CryptoIni objects: the chain itself when every link is one, otherwise a
 * copy of it (plain links filled in as CryptoIni's defaults would be). The caller's objects are
 * not changed.
 */
export function iniChain(cri: CryptoIni | CryptoIniFields): CryptoIni {
  let plain = false;
  for (let c: CryptoIni | CryptoIniFields | null | undefined = cri; c; c = c.next) if (!(c instanceof CryptoIni)) plain = true;
  if (!plain) return cri as CryptoIni;
  const links: CryptoIni[] = [];
  for (let c: CryptoIni | CryptoIniFields | null | undefined = cri; c; c = c.next) {
    const ini = new CryptoIni({ alg: c.alg, klen: c.klen ?? 0, mlen: c.mlen ?? 0, key: c.key ?? null });
    if (c.iv) ini.iv = c.iv;
    links.push(ini);
  }
  links.forEach((l, i) => (l.next = links[i + 1] ?? null));
  return links[0]!;
}

/** CryptoDesc's fields as a plain object gives them; `next` is another link. */
export interface CryptoDescFields {
  skip?: number;
  len?: number;
  inject?: number;
  flags?: number;
  alg: number;
  key?: Uint8Array | null;
  klen?: number;
  iv?: Uint8Array;
  ivLength?: number;
  next?: CryptoDescFields | CryptoDesc | null;
}

/**
 * `desc` as a chain of new CryptoDesc objects (plain links filled in as CryptoDesc's defaults
 * would be): what dispatch() makes of a request whose descriptors include plain objects.
 */
export function descChain(desc: CryptoDesc | CryptoDescFields): CryptoDesc {
  const links: CryptoDesc[] = [];
  for (let d: CryptoDesc | CryptoDescFields | null | undefined = desc; d; d = d.next) {
    const copy = new CryptoDesc();
    copy.skip = d.skip ?? 0;
    copy.len = d.len ?? 0;
    copy.inject = d.inject ?? 0;
    copy.flags = d.flags ?? 0;
    copy.alg = d.alg;
    copy.key = d.key ?? null;
    copy.klen = d.klen ?? 0;
    if (d instanceof CryptoDesc || d.iv) copy.iv = d.iv!;
    copy.ivLength = d.ivLength ?? 0;
    links.push(copy);
  }
  links.forEach((l, i) => (l.next = links[i + 1] ?? null));
  return links[0]!;
}

/** What a new request's `buf` is until the consumer sets it: one for all, as it holds nothing. */
const NO_BYTES = new Uint8Array(0);

/** @internal The framework's bookkeeping of a request (op-state.ts), set by CryptoOp's static block. */
export let opStateOf: (crp: CryptoOp) => OpState;

/** A symmetric request (struct cryptop). */
export class CryptoOp {
  sid = 0n;
  /** Bytes to process (the buffer's length). */
  ilen = 0;
  /** Bytes of result. */
  olen = 0;
  /** errno of a failed request, 0 on success; EAGAIN: the session moved to `sid`, resubmit. */
  etype = 0;
  /** CRYPTO_F_* */
  flags = 0;
  /** One buffer, or several (CRYPTO_F_IOV) taken as one in order. */
  buf: Uint8Array | Uint8Array[] = NO_BYTES;
  /** Passed through untouched, for the caller. */
  opaque: unknown = undefined;
  desc: CryptoDesc | null = null;
  callback: ((crp: CryptoOp) => void) | null = null;
  /** Where a MAC goes when no descriptor injects it into the buffer. */
  mac: Uint8Array | null = null;
  /**
   * kcrypto extension, after FreeBSD 13's separate output buffer: for a request of one cipher
   * descriptor over a contiguous `buf`, the output goes to the same region of `obuf` (and a
   * made-up IV to its `inject`), and `buf` is only read. Saves the consumer copying its input
   * into a buffer to be transformed in place. Null: in place, as crypto(9) has it.
   */
  obuf: Uint8Array | null = null;
  /**
   * The framework's bookkeeping while the request is dispatched (op-state.ts): private, so the
   * request prints, spreads and compares as its public fields. A private field rather than a
   * non-enumerable property: defining one per request cost more than the rest of the object.
   */
  readonly #state: OpState = newOpState();

  static {
    opStateOf = (crp) => crp.#state;
  }
}

/** A big-number parameter of a keying operation (struct crparam): little-endian bytes. */
export interface CrParam {
  p: Uint8Array;
  nbits: number;
}

/** A keying operation (struct cryptkop). */
export class CryptKop {
  /** CRK_* */
  op = 0;
  /** errno of a failed operation, 0 on success. */
  status = 0;
  iparams = 0;
  oparams = 0;
  /** The driver that served it. */
  hid = -1;
  params: CrParam[] = [];
  callback: ((krp: CryptKop) => void) | null = null;
}
