/**
 * A drop-in cipher's stream on a kcrypto driver: cuts the bytes written into requests of the
 * driver's size, keeps the mode's chaining between requests (CBC's IV, CTR's counter), runs up
 * to DEPTH requests at once where the mode allows (everything but CBC encryption, whose next
 * IV is the previous request's output) and hands outputs on in order. An AEAD is one request
 * in the kernel (its tag covers the whole message), so its stream gathers the message and runs
 * it at end().
 */
import { Buffer } from 'node:buffer';

import type { AeadAlgorithm, CipherAlgorithm } from '../../algorithms/catalog.js';
import { KCryptoError } from '../../errors.js';
import { openSession, type DriverChoice } from '../open-session.js';
import { pkcs7Pad, pkcs7Unpad } from '../padding.js';
import type { AeadSession, CipherSession } from '../session.js';
import { authenticationFailed, badDecrypt, unsupportedState, wrongFinalBlockLength } from './failures.js';

const BLOCK = 16;
/** Bytes one request carries at most: large enough that a request's fixed cost is small beside its data. */
const REQUEST_BYTES = 64 * 1024;
/** Requests one stream keeps in flight: the stream's back-pressure. */
const DEPTH = 4;

/** What a stream needs of its cipher object. */
export interface StreamParams {
  alg: CipherAlgorithm | AeadAlgorithm;
  key: Buffer;
  iv: Buffer | null;
  decrypt: boolean;
  driver: DriverChoice;
  /** Receives outputs, in order. */
  emit(out: Buffer): void;
}

/** What an object streaming through a driver does with its data. */
export interface CipherStream {
  /** Takes a chunk; resolves when the stream can take more. */
  write(chunk: Buffer): Promise<void>;
  /** Runs what is left; resolves once every output was emitted. */
  end(): Promise<void>;
  /** Releases the session (idempotent); requests in flight complete and are dropped. */
  close(): void;
}

/** The cipher mode's settings, read at end(). */
export interface Finish {
  autoPadding: boolean;
  aad: Buffer;
  /** AEAD decryption: the tag setAuthTag() gave. */
  tag: Buffer | null;
  /** AEAD encryption: the tag length asked for (authTagLength). */
  tagLength: number;
}

const noop = (): void => undefined;

/** `iv` + `blocks` as a 128-bit big-endian counter (CTR's IV for a later request). */
function counterAt(iv: Buffer, blocks: number): Buffer {
  const out = Buffer.from(iv);
  let carry = blocks;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}

function lastBlock(b: Buffer): Buffer {
  return Buffer.from(b.subarray(b.length - BLOCK));
}

/** A stream of an unauthenticated cipher (CBC, CTR, ECB, XTS). */
export class PlainStream implements CipherStream {
  private session: Promise<CipherSession> | null = null;
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  /** CBC decryption: the next request's IV (the last ciphertext block so far). */
  private chain: Buffer | null;
  /** CBC encryption: the next request's IV, once the previous request has given it. */
  private chainOut: Promise<Buffer | null>;
  /** CTR: blocks sent so far. */
  private blocks = 0;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Settles once every output so far was emitted, or with the first failure. */
  private tail: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  constructor(
    private readonly p: StreamParams,
    private readonly finish: () => Finish,
  ) {
    this.chain = p.iv;
    this.chainOut = Promise.resolve(p.iv);
  }

  private get mode(): CipherAlgorithm['mode'] {
    return (this.p.alg as CipherAlgorithm).mode;
  }

  private open(): Promise<CipherSession> {
    this.session ??= openSession({ cipher: this.p.alg.name, key: this.p.key }, { driver: this.p.driver }) as Promise<CipherSession>;
    return this.session;
  }

  async write(chunk: Buffer): Promise<void> {
    this.rethrow();
    const s = await this.open();
    if (this.mode === 'xts') {
      // node:crypto encrypts each update() of XTS as a data unit of its own, under the same tweak.
      if (chunk.length < BLOCK) throw unsupportedState();
      await this.room();
      this.submit(s, chunk, this.p.iv);
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      const max = s.maxRequestBytes ?? REQUEST_BYTES;
      const size = Math.max(BLOCK, Math.min(REQUEST_BYTES, max - (max % BLOCK)));
      // Decryption keeps its last block back: it may hold the padding that end() takes off.
      const hold = this.p.decrypt && this.mode !== 'ctr' ? BLOCK : 0;
      while (this.pendingBytes >= size + hold) {
        await this.room();
        this.submit(s, this.take(size));
      }
    }
    await this.room();
  }

  /** Resolves once fewer than DEPTH requests are in flight; rejects with a request's failure. */
  private async room(): Promise<void> {
    while (this.inFlight >= DEPTH && this.failure === null) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.rethrow();
  }

  /** The first failure of a request, given to the caller's next write() or end(). */
  private rethrow(): void {
    if (this.failure !== null) throw this.failure;
  }

  async end(): Promise<void> {
    this.rethrow();
    const s = await this.open();
    const { autoPadding } = this.finish();
    const mode = this.mode;
    let rest = this.take(this.pendingBytes);
    if (mode === 'ctr') {
      if (rest.length > 0) this.submit(s, rest);
    } else if (mode !== 'xts') {
      if (!this.p.decrypt && autoPadding) rest = pkcs7Pad(rest);
      else if (rest.length % BLOCK !== 0 || (this.p.decrypt && autoPadding && rest.length === 0)) {
        await this.settled();
        throw wrongFinalBlockLength();
      }
      if (rest.length > 0) {
        const strip = this.p.decrypt && autoPadding;
        this.submit(s, rest, undefined, strip ? pkcs7Unpad : undefined);
      }
    }
    await this.tail;
  }

  close(): void {
    const s = this.session;
    this.session = null;
    void s?.then((x) => x.close()).catch(noop);
  }

  /** Waits for what is in flight, ignoring its outcome (a failure found first wins). */
  private async settled(): Promise<void> {
    await this.tail.catch(noop);
  }

  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const head = this.pending[0]!;
      const k = Math.min(head.length, n - at);
      head.copy(out, at, 0, k);
      at += k;
      if (k === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(k);
    }
    this.pendingBytes -= n;
    return out;
  }

  private submit(s: CipherSession, data: Buffer, fixedIv?: Buffer | null, post?: (b: Buffer) => Buffer | null): void {
    const run = (iv: Buffer | null): Promise<Buffer> =>
      this.p.decrypt ? s.decrypt(data, iv === null ? {} : { iv }) : s.encrypt(data, iv === null ? {} : { iv }).then((r) => r.ciphertext);
    let out: Promise<Buffer>;
    const mode = this.mode;
    if (fixedIv !== undefined) out = run(fixedIv);
    else if (mode === 'ecb') out = run(null);
    else if (mode === 'ctr') {
      out = run(counterAt(this.p.iv!, this.blocks));
      this.blocks += Math.ceil(data.length / BLOCK);
    } else if (this.p.decrypt) {
      out = run(this.chain);
      this.chain = lastBlock(data);
    } else {
      out = this.chainOut.then(run);
      this.chainOut = out.then(lastBlock);
      this.chainOut.catch(noop);
    }
    this.inFlight++;
    const counted = out.finally(() => {
      this.inFlight--;
      for (const wake of this.waiting.splice(0)) wake();
    });
    this.tail = Promise.all([this.tail, counted]).then(([, o]) => {
      if (!post) return this.p.emit(o);
      const kept = post(o);
      if (kept === null) throw badDecrypt();
      this.p.emit(kept);
    });
    this.tail.catch((err: unknown) => {
      this.failure ??= err as Error;
      for (const wake of this.waiting.splice(0)) wake();
    });
  }
}

/** A stream of an AEAD: the message is gathered and runs as one request at end(). */
export class AeadStream implements CipherStream {
  private readonly chunks: Buffer[] = [];
  private session: AeadSession | null = null;
  /** The tag of the encryption, once end() has run. */
  tag: Buffer | null = null;

  constructor(
    private readonly p: StreamParams,
    private readonly finish: () => Finish,
  ) {}

  write(chunk: Buffer): Promise<void> {
    this.chunks.push(chunk);
    return Promise.resolve();
  }

  async end(): Promise<void> {
    const { aad, tag, tagLength } = this.finish();
    const data = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    if (this.p.decrypt && tag === null) throw authenticationFailed();
    const length = this.p.decrypt ? tag!.length : tagLength;
    const spec = { cipher: this.p.alg.name, key: this.p.key, tagLength: length };
    this.session = (await openSession(spec, { driver: this.p.driver })) as AeadSession;
    const iv = this.p.iv!;
    if (!this.p.decrypt) {
      const out = await this.session.encrypt(data, { iv, aad });
      this.tag = out.tag;
      this.p.emit(out.ciphertext);
      return;
    }
    try {
      this.p.emit(await this.session.decrypt(data, { iv, aad, tag: tag! }));
    } catch (err) {
      if (err instanceof KCryptoError && err.code === 'EBADMSG') throw authenticationFailed();
      throw err;
    }
  }

  close(): void {
    const s = this.session;
    this.session = null;
    void s?.close().catch(noop);
  }
}
