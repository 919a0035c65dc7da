/**
 * Session backends over a kernel engine session (KernelSession): how requests of each kind
 * are laid out for the addon's engines. AF_ALG and /dev/crypto share the layout — input
 * gathered in order, the AEAD's associated data first — so both drivers build on these.
 */
import { Buffer } from 'node:buffer';
import type { CipherAlgorithm } from '../../algorithms/catalog.js';
import { errnoOf } from '../../errno.js';
import { closedError, Op, type KernelSession, type KernelSessionStats } from '../../kernel/bridge/engine/index.js';
import { fromNativeThrow, invalid, systemError } from '../../kernel/bridge/status.js';
import type { AeadBackend, CipherBackend, HashBackend, RngBackend } from '../common/backend.js';
import type { Maybe } from '../common/transforms.js';

/**
 * The request size limit for device drivers: virtio-crypto never completes a single request of
 * 124 KiB or more (found in the lab on 6.1; the card then hangs for every later request too),
 * and other offload engines have descriptor limits of their own. 64 KiB requests keep devices
 * at full speed (throughput is flat from 16 KiB up).
 */
export const DEVICE_MAX_REQUEST = 64 * 1024;

/** A plain cipher: output as long as the input; XTS reports the engine's unsplittable limit. */
export function cipherBackendOf(ks: KernelSession, alg: CipherAlgorithm): CipherBackend {
  const run = <T>(
    op: typeof Op.Encrypt | typeof Op.Decrypt,
    data: Uint8Array,
    iv: Uint8Array | null,
    into: Buffer | undefined,
    disposable: boolean,
    wrap: (out: Buffer) => T,
  ): Maybe<T> => {
    const out = into ?? Buffer.allocUnsafe(data.length);
    // A buffer made here is returned only on success: disposable.
    return ks.requestNow(
      op,
      data,
      out,
      alg.ivLength > 0 ? iv : null,
      0,
      -1,
      (n) => wrap(n === out.length ? out : out.subarray(0, n)),
      into === undefined || disposable,
    );
  };
  return {
    driver: ks.driver,
    // Read live: a device session learns its socket buffers once its open has run.
    get maxRequestBytes() {
      const limit = alg.mode === 'xts' ? ks.native.maxRequest() : 0;
      return limit > 0 ? limit : undefined;
    },
    // Requests of a session that is not synchronous run on the device lane, whose threads copy
    // a result out only while the session lives (native/common/give_up.h).
    guardsOutput: !ks.synchronous,
    stats: () => ks.stats(),
    encrypt: (data, iv, into, intoDisposable) => run(Op.Encrypt, data, iv, into, intoDisposable === true, (ciphertext) => ({ ciphertext })),
    decrypt: (data, iv, into, intoDisposable) => run(Op.Decrypt, data, iv, into, intoDisposable === true, (plaintext) => plaintext),
    close: () => ks.close(),
  };
}

/**
 * An AEAD. In: AAD ‖ plaintext (‖ tag to decrypt). Out: AAD ‖ ciphertext ‖ tag (AF_ALG since
 * 4.9), or ciphertext ‖ tag (AF_ALG before 4.9, /dev/crypto), told apart by the length the
 * engine returns. `kernelIv` builds the engine's IV from the caller's nonce.
 */
export function aeadBackendOf(
  ks: KernelSession,
  alg: { name: string },
  tagLength: number,
  kernelIv: (iv: Uint8Array) => Uint8Array,
): AeadBackend {
  return {
    driver: ks.driver,
    get maxRequestBytes() {
      const limit = ks.native.maxRequest();
      return limit > 0 ? limit : undefined;
    },
    stats: () => ks.stats(),
    encrypt(pt, iv, aad) {
      const out = Buffer.allocUnsafe(aad.length + pt.length + tagLength);
      return ks.request(Op.Encrypt, [aad, pt], out, kernelIv(iv), aad.length, -1, (n) => {
        const start = n === out.length ? aad.length : n === pt.length + tagLength ? 0 : -1;
        if (start < 0) throw systemError(errnoOf('EIO'), 'recvmsg', ks.driver, `${alg.name}: unexpected AEAD output length ${n}`);
        return { ciphertext: out.subarray(start, start + pt.length), tag: out.subarray(start + pt.length, start + pt.length + tagLength) };
      });
    },
    // A failed tag is EBADMSG from the engine.
    decrypt(ct, iv, aad, tag) {
      const out = Buffer.allocUnsafe(aad.length + ct.length + tag.length);
      return ks.request(Op.Decrypt, [aad, ct, tag], out, kernelIv(iv), aad.length, -1, (n) => {
        const start = n === aad.length + ct.length ? aad.length : n === ct.length ? 0 : -1;
        if (start < 0) throw systemError(errnoOf('EIO'), 'recvmsg', ks.driver, `${alg.name}: unexpected AEAD output length ${n}`);
        return out.subarray(start, start + ct.length);
      });
    },
    close: () => ks.close(),
  };
}

/**
 * Why an interface keeps no hash state between requests (the BSDs' /dev/crypto hash whole
 * messages only: no update flag, no state copy): update(), final() and copy() then reject with
 * ENOTSUP, saying so. Undefined where there is a state.
 */
export type NoHashState = string | undefined;

function lengthOf(data: Uint8Array | Uint8Array[]): number {
  return Array.isArray(data) ? data.reduce((n, d) => n + d.length, 0) : data.length;
}

function noState(driver: string, why: string): Promise<never> {
  return Promise.reject(invalid('ENOTSUP', `${driver}: no incremental hashing: ${why}`, driver));
}

/**
 * A hash/MAC backend: one-shot digests use the engine's pooled contexts; the incremental state is
 * a kernel context of its own (a "stream": an AF_ALG op socket copied with accept(), a
 * cryptodev-linux session copied with CIOCCPHASH), opened on first update.
 */
class KernelHash implements HashBackend {
  private stream = -1;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ks: KernelSession,
    private readonly digestLength: number,
    private readonly shared: { refs: number },
    stream = -1,
    private readonly stateless?: NoHashState,
  ) {
    this.stream = stream;
  }

  get driver(): string {
    return this.ks.driver;
  }

  digest(data: Uint8Array | Uint8Array[], into?: Buffer): Maybe<Buffer> {
    const out = into?.length === this.digestLength ? into : Buffer.allocUnsafe(this.digestLength);
    return this.ks.requestNow(Op.Digest, data, out, null, 0, -1, (n) => (n === out.length ? out : out.subarray(0, n)));
  }

  stats(): KernelSessionStats {
    return this.ks.stats();
  }

  // Stream operations are chained: one kernel context, strictly in order.
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private ensureStream(): number {
    if (this.stream < 0) {
      try {
        this.stream = this.ks.native.openStream();
      } catch (err) {
        throw fromNativeThrow(err, this.ks.driver, 'cannot open hash state');
      }
    }
    return this.stream;
  }

  update(data: Uint8Array | Uint8Array[]): Promise<void> {
    if (this.stateless !== undefined) return noState(this.ks.driver, this.stateless);
    const length = lengthOf(data);
    return this.serial(async () => {
      // It waited for the state's earlier calls: its data may have been detached (its
      // ArrayBuffer transferred) meanwhile, and would feed the state nothing.
      if (lengthOf(data) !== length)
        throw invalid('EINVAL', 'hash update: the data was detached before it reached the driver', this.ks.driver);
      await this.ks.request(Op.HashUpdate, data, null, null, 0, this.ensureStream());
    });
  }

  final(): Promise<Buffer> {
    if (this.stateless !== undefined) return noState(this.ks.driver, this.stateless);
    return this.serial(async () => {
      const out = Buffer.allocUnsafe(this.digestLength);
      const n = await this.ks.request(Op.HashFinal, null, out, null, 0, this.ensureStream());
      return out.subarray(0, n);
    });
  }

  copy(): Promise<HashBackend> {
    if (this.stateless !== undefined) return noState(this.ks.driver, this.stateless);
    return this.serial(() => {
      let handle = -1;
      if (this.stream >= 0) {
        try {
          handle = this.ks.native.copyStream(this.stream);
        } catch (err) {
          throw fromNativeThrow(err, this.ks.driver, 'cannot copy hash state');
        }
      }
      this.shared.refs++;
      return Promise.resolve(new KernelHash(this.ks, this.digestLength, this.shared, handle));
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      if (this.stream >= 0 && !this.ks.isClosed) this.ks.native.closeStream(this.stream);
      this.stream = -1;
      if (--this.shared.refs === 0) await this.ks.close();
    });
  }
}

/** A hash or MAC over a kernel engine session; `stateless` says why it has no incremental state. */
export function hashBackendOf(ks: KernelSession, digestLength: number, stateless?: NoHashState): HashBackend {
  return new KernelHash(ks, digestLength, { refs: 1 }, -1, stateless);
}

/**
 * HMAC written out over the kernel's plain hash (RFC 2104: H((K ^ opad) ‖ H((K ^ ipad) ‖ m))),
 * two one-shot digests per message, for a key the kernel's own HMAC cannot be given (NetBSD's
 * /dev/crypto takes exactly a digest-long HMAC key, and a key between that and the block has no
 * digest-long equivalent). `key` is at most one block: a longer one is hashed by the caller, as
 * HMAC defines. Both pads are key material: kept for the session's life, wiped at close.
 */
class KernelHmacOverHash implements HashBackend {
  private readonly ipad: Buffer;
  private readonly opad: Buffer;
  private readonly running = new Set<Promise<Buffer>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly ks: KernelSession,
    private readonly hash: { digestLength: number; blockLength: number },
    key: Uint8Array,
    private readonly stateless: string,
  ) {
    const k0 = Buffer.alloc(hash.blockLength);
    k0.set(key);
    this.ipad = Buffer.from(k0.map((b) => b ^ 0x36));
    this.opad = Buffer.from(k0.map((b) => b ^ 0x5c));
    k0.fill(0);
  }

  get driver(): string {
    return this.ks.driver;
  }

  stats(): KernelSessionStats {
    return this.ks.stats();
  }

  /**
   * A digest is two kernel requests, the outer made when the inner completes: close() waits for
   * every digest made before it (not only the request in flight), so that the outer is not
   * refused by a closing session nor hashed over pads already wiped.
   */
  digest(data: Uint8Array | Uint8Array[]): Promise<Buffer> {
    if (this.closing) return Promise.reject(closedError(this.ks.driver));
    const run = this.run(data);
    this.running.add(run);
    const done = (): void => void this.running.delete(run);
    run.then(done, done);
    return run;
  }

  private async run(data: Uint8Array | Uint8Array[]): Promise<Buffer> {
    const inner = Buffer.allocUnsafe(this.hash.digestLength);
    await this.ks.request(Op.Digest, [this.ipad, ...(Array.isArray(data) ? data : [data])], inner, null, 0);
    const out = Buffer.allocUnsafe(this.hash.digestLength);
    await this.ks.request(Op.Digest, [this.opad, inner], out, null, 0);
    return out;
  }

  update(): Promise<void> {
    return noState(this.ks.driver, this.stateless);
  }

  final(): Promise<Buffer> {
    return noState(this.ks.driver, this.stateless);
  }

  copy(): Promise<HashBackend> {
    return noState(this.ks.driver, this.stateless);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.running]);
      this.ipad.fill(0);
      this.opad.fill(0);
      await this.ks.close();
    })();
    return this.closing;
  }
}

/**
 * An HMAC from the plain hash `ks` computes (see KernelHmacOverHash); only for interfaces
 * without hash state, which is where it is needed.
 */
export function hmacOverHashBackendOf(
  ks: KernelSession,
  hash: { digestLength: number; blockLength: number },
  key: Uint8Array,
  stateless: string,
): HashBackend {
  return new KernelHmacOverHash(ks, hash, key, stateless);
}

/** A random bit generator over a kernel engine session. */
export function rngBackendOf(ks: KernelSession): RngBackend {
  return {
    driver: ks.driver,
    stats: () => ks.stats(),
    generate(length) {
      const out = Buffer.allocUnsafe(length);
      return ks.request(Op.Random, null, out, null, 0, -1, (n) => out.subarray(0, n));
    },
    close: () => ks.close(),
  };
}

/**
 * The kernel's ccm(aes) takes the 16-byte counter block prefix, not the nonce: flags byte
 * L' = L − 1 (L = 15 − nonce length), then the nonce, then zeroes (RFC 3610 A_i with i = 0).
 */
export function ccmKernelIv(nonce: Uint8Array): Buffer {
  const iv = Buffer.alloc(16);
  iv[0] = 15 - nonce.length - 1;
  iv.set(nonce, 1);
  return iv;
}
