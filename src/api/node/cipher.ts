/**
 * node:crypto's `createCipheriv()` and `createDecipheriv()` on kcrypto's drivers. Each object
 * is node's: node:crypto checks the arguments (so every misuse fails with node's error), and
 * synchronous `update()`/`final()` run node:crypto's cipher on the calling thread. Written to as
 * a stream first, the object instead runs its data through a session on the chosen driver
 * (cipher-stream.ts), off the event loop; once it streams that way, the synchronous calls throw.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';

import type { AeadAlgorithm, CipherAlgorithm } from '../../algorithms/catalog.js';
import { unknownCipher } from '../node-errors.js';
import type { DriverChoice } from '../open-session.js';
import { AeadStream, PlainStream, type CipherStream, type Finish } from './cipher-stream.js';
import { splitDriver, syncServes, type DriverOption } from './driver-choice.js';
import { invalidState, streaming, syncUnavailable } from './failures.js';
import { chunkBytes, syncStep } from './steps.js';
import { cipherByNodeName } from './names.js';

/** node:crypto's cipher options (stream options and `authTagLength`) and `driver`. */
export interface CipherOptions extends TransformOptions, DriverOption {
  authTagLength?: number;
}

type Key = nodeCrypto.CipherKey;
type IV = nodeCrypto.BinaryLike | null;
type NodeCipher = nodeCrypto.Cipher & Partial<nodeCrypto.CipherGCM & nodeCrypto.DecipherGCM>;

function bytesOf(v: Key | IV): Buffer | null {
  if (v === null) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof nodeCrypto.KeyObject) return v.export();
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if ((v as unknown) instanceof ArrayBuffer) return Buffer.from(v as unknown as ArrayBuffer);
  // A CryptoKey: node:crypto accepted it, so it is a secret key it can hand back.
  return nodeCrypto.KeyObject.from(v).export();
}

/** What Cipheriv and Decipheriv share: a node:crypto cipher, or a stream on a driver. */
abstract class CipherBase extends Transform {
  protected readonly node: NodeCipher;
  private readonly alg: CipherAlgorithm | AeadAlgorithm;
  private readonly key: Buffer;
  private readonly iv: Buffer | null;
  /** The driver a stream runs on (the `driver` option). */
  readonly driver: DriverChoice;
  private engine: 'none' | 'sync' | CipherStream = 'none';
  /** Set once a stream's end has begun: the settings end() reads are fixed from then on. */
  protected finishing = false;
  private autoPadding = true;
  private aad = Buffer.alloc(0);
  protected tag: Buffer | null = null;
  private readonly tagLength: number;

  protected constructor(decrypt: boolean, algorithm: string, key: Key, iv: IV, options: CipherOptions | undefined) {
    const { driver, rest } = splitDriver(options);
    super(rest);
    this.node = (decrypt ? nodeCrypto.createDecipheriv : nodeCrypto.createCipheriv)(algorithm, key, iv, rest as never) as NodeCipher;
    const alg = cipherByNodeName(algorithm);
    if (alg === undefined) throw unknownCipher();
    this.alg = alg;
    this.driver = driver;
    this.key = bytesOf(key)!;
    this.iv = bytesOf(iv);
    this.tagLength = rest?.authTagLength ?? 16;
    this.decrypt = decrypt;
  }

  private readonly decrypt: boolean;

  /** Runs node:crypto's cipher for a synchronous call, where the driver choice allows one. */
  protected sync(call: string): NodeCipher {
    if (this.engine !== 'none' && this.engine !== 'sync') throw streaming(call, this.driver);
    if (!syncServes(this.driver)) throw syncUnavailable(call, this.driver);
    this.engine = 'sync';
    return this.node;
  }

  /** The stream on the driver, made on first write (node:crypto's cipher where only it can serve). */
  private stream(): CipherStream | 'sync' {
    if (this.engine !== 'none') return this.engine;
    const alg = this.alg;
    // The catalog names the IV lengths its drivers take (GCM: 12 bytes); node:crypto takes more.
    const ivServed = alg.kind === 'cipher' || alg.ivLengths.includes(this.iv?.length ?? -1);
    if (!ivServed && syncServes(this.driver)) return (this.engine = 'sync');
    const params = {
      alg,
      key: this.key,
      iv: this.iv,
      decrypt: this.decrypt,
      driver: this.driver,
      emit: (out: Buffer) => {
        if (out.length > 0) this.push(out);
      },
    };
    const finish = (): Finish => ({ autoPadding: this.autoPadding, aad: this.aad, tag: this.tag, tagLength: this.tagLength });
    this.engine = alg.kind === 'aead' ? new AeadStream(params, finish) : new PlainStream(params, finish);
    return this.engine;
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const engine = this.stream();
    const data = chunkBytes(chunk, encoding);
    if (engine === 'sync') return syncStep(this, callback, () => this.node.update(data));
    engine.write(data).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    const engine = this.stream();
    if (engine === 'sync') return syncStep(this, callback, () => this.node.final());
    this.finishing = true;
    engine.end().then(
      () => {
        engine.close();
        if (engine instanceof AeadStream) this.tag = engine.tag;
        callback();
      },
      (err: unknown) => {
        engine.close();
        callback(err as Error);
      },
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (typeof this.engine === 'object') this.engine.close();
    callback(err);
  }

  /** node:crypto's `update()`: on the calling thread (see DriverOption). */
  update(data: nodeCrypto.BinaryLike): Buffer;
  update(data: string, inputEncoding: nodeCrypto.Encoding): Buffer;
  update(data: nodeCrypto.BinaryLike, inputEncoding: undefined, outputEncoding: nodeCrypto.Encoding): string;
  update(data: string, inputEncoding: nodeCrypto.Encoding | undefined, outputEncoding: nodeCrypto.Encoding): string;
  update(data: nodeCrypto.BinaryLike, inputEncoding?: nodeCrypto.Encoding, outputEncoding?: nodeCrypto.Encoding): Buffer | string {
    return this.sync('update()').update(data as string, inputEncoding, outputEncoding!);
  }

  /** node:crypto's `final()`: on the calling thread (see DriverOption). */
  final(): Buffer;
  final(outputEncoding: BufferEncoding): string;
  final(outputEncoding?: BufferEncoding): Buffer | string {
    return this.sync('final()').final(outputEncoding!);
  }

  /** node:crypto's `setAutoPadding()`: PKCS#7 padding (on by default). */
  setAutoPadding(autoPadding = true): this {
    if (this.finishing) throw invalidState('setAutoPadding');
    this.node.setAutoPadding(autoPadding);
    this.autoPadding = autoPadding;
    return this;
  }

  /** node:crypto's `setAAD()` (AEADs; CCM needs `plaintextLength`). */
  setAAD(buffer: NodeJS.ArrayBufferView, options?: { plaintextLength: number }): this {
    if (this.node.setAAD === undefined) throw invalidState('setAAD');
    if (typeof this.engine === 'object') throw invalidState('setAAD');
    this.node.setAAD(buffer, options);
    this.aad = Buffer.from(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength));
    return this;
  }
}

/** node:crypto's Cipher, on kcrypto's drivers (see createCipheriv). */
export class Cipheriv extends CipherBase {
  /** @internal */
  constructor(algorithm: string, key: Key, iv: IV, options?: CipherOptions) {
    super(false, algorithm, key, iv, options);
  }

  /** node:crypto's `getAuthTag()`: after `final()` (or the stream's end) of an AEAD. */
  getAuthTag(): Buffer {
    if (this.tag !== null) return this.tag;
    if (this.node.getAuthTag === undefined) throw invalidState('getAuthTag');
    return this.node.getAuthTag();
  }
}

/** node:crypto's Decipher, on kcrypto's drivers (see createDecipheriv). */
export class Decipheriv extends CipherBase {
  /** @internal */
  constructor(algorithm: string, key: Key, iv: IV, options?: CipherOptions) {
    super(true, algorithm, key, iv, options);
  }

  /** node:crypto's `setAuthTag()`: the tag `final()` (or the stream's end) verifies. */
  setAuthTag(tag: NodeJS.ArrayBufferView | string, encoding?: BufferEncoding): this {
    if (this.node.setAuthTag === undefined || this.finishing) throw invalidState('setAuthTag');
    (this.node.setAuthTag as (tag: unknown, encoding?: BufferEncoding) => void)(tag, encoding);
    this.tag = typeof tag === 'string' ? Buffer.from(tag, encoding) : Buffer.from(Buffer.from(tag.buffer, tag.byteOffset, tag.byteLength));
    return this;
  }
}

/** node:crypto's `createCipheriv()`; `options.driver` picks the driver streams run on. */
export function createCipheriv(algorithm: string, key: Key, iv: IV, options?: CipherOptions): Cipheriv {
  return new Cipheriv(algorithm, key, iv, options);
}

/** node:crypto's `createDecipheriv()`; `options.driver` picks the driver streams run on. */
export function createDecipheriv(algorithm: string, key: Key, iv: IV, options?: CipherOptions): Decipheriv {
  return new Decipheriv(algorithm, key, iv, options);
}
