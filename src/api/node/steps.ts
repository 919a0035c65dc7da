/** What the drop-ins' stream sides share: a written chunk as bytes, a synchronous step. */
import { Buffer } from 'node:buffer';
import type { Transform, TransformCallback } from 'node:stream';

/** A chunk written to a stream, as bytes (a string in the encoding it was written with). */
export function chunkBytes(chunk: Buffer | string, encoding: BufferEncoding): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
}

/** Runs a step of node:crypto's object for a stream: its output pushed, a throw handed on. */
export function syncStep(t: Transform, callback: TransformCallback, step: () => Buffer | undefined): void {
  let out: Buffer | undefined;
  try {
    out = step();
  } catch (err) {
    callback(err as Error);
    return;
  }
  if (out !== undefined) t.push(out);
  callback();
}
