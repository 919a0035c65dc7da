/**
 * node:crypto's `createHash()`, `createHmac()` and `hash()` on kcrypto's drivers, on the same
 * plan as the ciphers (cipher.ts): node:crypto checks the arguments and serves the synchronous
 * calls on the calling thread; an object written to as a stream first runs its data through a
 * session on the chosen driver instead (hash-stream.ts), and gives its digest as the stream's
 * output.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';

import type { DriverChoice, HashSpec, HmacSpec } from '../open-session.js';
import { splitDriver, syncServes, type DriverOption } from './driver-choice.js';
import { streaming, syncUnavailable } from './failures.js';
import { HashStream } from './hash-stream.js';
import { chunkBytes, syncStep } from './steps.js';
import { hashByNodeName } from './names.js';

/** node:crypto's hash options (stream options, `outputLength`) and `driver`. */
export interface HashOptions extends TransformOptions, DriverOption {
  outputLength?: number;
}

/** node:crypto's Hmac (its class is not meant to be named directly). */
type NodeHmac = ReturnType<typeof nodeCrypto.createHmac>;
type NodeHash = nodeCrypto.Hash | NodeHmac;

function unsupportedDigest(): Error {
  return new Error('Digest method not supported');
}

function finalized(): Error {
  return Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
}

/** What Hash and Hmac share: node:crypto's object, or a stream on a driver. */
abstract class HashBase<N extends NodeHash> extends Transform {
  /** The driver a stream runs on (the `driver` option). */
  readonly driver: DriverChoice;
  protected engine: 'none' | 'sync' | HashStream = 'none';
  private ended = false;

  protected constructor(
    protected readonly node: N,
    private readonly spec: HashSpec | HmacSpec,
    driver: DriverChoice,
    options: TransformOptions | undefined,
  ) {
    super(options);
    this.driver = driver;
  }

  protected sync(call: string): N {
    if (this.engine !== 'none' && this.engine !== 'sync') throw streaming(call, this.driver);
    if (!syncServes(this.driver)) throw syncUnavailable(call, this.driver);
    this.engine = 'sync';
    return this.node;
  }

  /** The stream on the driver, made on first write (node:crypto where only it can serve). */
  protected stream(): HashStream | 'sync' {
    if (this.engine === 'none') this.engine = HashStream.open(this.spec, this.driver);
    return this.engine;
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const engine = this.stream();
    const data = chunkBytes(chunk, encoding);
    if (engine === 'sync') {
      return syncStep(this, callback, () => {
        this.node.update(data);
        return undefined;
      });
    }
    engine.write(data).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    const engine = this.stream();
    if (this.ended) {
      callback(finalized());
      return;
    }
    this.ended = true;
    if (engine === 'sync') return syncStep(this, callback, () => this.node.digest());
    engine.digest().then((d) => callback(null, d), callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (typeof this.engine === 'object') this.engine.close();
    callback(err);
  }

  /** node:crypto's `update()`: on the calling thread (see DriverOption). */
  update(data: nodeCrypto.BinaryLike): this;
  update(data: string, inputEncoding: nodeCrypto.Encoding): this;
  update(data: nodeCrypto.BinaryLike, inputEncoding?: nodeCrypto.Encoding): this {
    this.sync('update()').update(data as string, inputEncoding!);
    return this;
  }

  /** node:crypto's `digest()`: on the calling thread (see DriverOption). */
  digest(): Buffer;
  digest(encoding: nodeCrypto.BinaryToTextEncoding): string;
  digest(encoding?: nodeCrypto.BinaryToTextEncoding): Buffer | string {
    const node = this.sync('digest()');
    this.ended = true;
    return encoding === undefined ? node.digest() : node.digest(encoding);
  }
}

/** node:crypto's Hash, on kcrypto's drivers (see createHash). */
export class Hash extends HashBase<nodeCrypto.Hash> {
  /** @internal */
  constructor(algorithm: string, options?: HashOptions, from?: { node: nodeCrypto.Hash; engine: HashStream | null; driver: DriverChoice }) {
    const { driver, rest } = from ? { driver: from.driver, rest: options } : splitDriver(options);
    const node = from?.node ?? nodeCrypto.createHash(algorithm, rest);
    const alg = hashByNodeName(algorithm);
    if (alg === undefined) throw unsupportedDigest();
    super(node, { hash: alg.name }, driver, rest);
    if (from?.engine) this.engine = from.engine;
    this.algorithm = algorithm;
  }

  private readonly algorithm: string;

  /**
   * node:crypto's `copy()`: a Hash with this one's state. On a stream, the copy takes the
   * driver's state once the chunks written before it have run (the kernel clones it).
   */
  copy(options?: HashOptions): Hash {
    if (typeof this.engine === 'object') {
      return new Hash(this.algorithm, options, { node: this.node.copy(), engine: this.engine.copy(), driver: this.driver });
    }
    return new Hash(this.algorithm, options, { node: this.node.copy(options), engine: null, driver: this.driver });
  }
}

/** node:crypto's Hmac, on kcrypto's drivers (see createHmac). */
export class Hmac extends HashBase<NodeHmac> {
  /** @internal */
  constructor(algorithm: string, key: nodeCrypto.BinaryLike | nodeCrypto.KeyObject, options?: HashOptions) {
    const { driver, rest } = splitDriver(options);
    const node = nodeCrypto.createHmac(algorithm, key, rest);
    const alg = hashByNodeName(algorithm);
    if (alg === undefined) throw unsupportedDigest();
    const bytes =
      key instanceof nodeCrypto.KeyObject
        ? key.export()
        : typeof key === 'string'
          ? Buffer.from(key, 'utf8')
          : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    super(node, { hmac: alg.name, key: Buffer.from(bytes) }, driver, rest);
  }
}

/** node:crypto's `createHash()`; `options.driver` picks the driver streams run on. */
export function createHash(algorithm: string, options?: HashOptions): Hash {
  return new Hash(algorithm, options);
}

/** node:crypto's `createHmac()`; `options.driver` picks the driver streams run on. */
export function createHmac(algorithm: string, key: nodeCrypto.BinaryLike | nodeCrypto.KeyObject, options?: HashOptions): Hmac {
  return new Hmac(algorithm, key, options);
}

/**
 * node:crypto's one-shot `hash(algorithm, data[, outputEncoding])` (hex by default), on the
 * calling thread: the names kcrypto serves, node:crypto's result and errors.
 */
export function hash(
  algorithm: string,
  data: nodeCrypto.BinaryLike,
  outputEncoding: nodeCrypto.BinaryToTextEncoding | 'buffer' = 'hex',
): string | Buffer {
  const node = nodeCrypto as typeof nodeCrypto & { hash?: (a: string, d: nodeCrypto.BinaryLike, e: string) => string | Buffer };
  if (typeof algorithm === 'string' && hashByNodeName(algorithm) === undefined && nodeCrypto.getHashes().includes(algorithm))
    throw unsupportedDigest();
  if (node.hash) return node.hash(algorithm, data, outputEncoding);
  const h = nodeCrypto.createHash(algorithm).update(data as string);
  return outputEncoding === 'buffer' ? h.digest() : h.digest(outputEncoding);
}
