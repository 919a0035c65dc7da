/**
 * Buffers in flight: a request's input whose ArrayBuffer JavaScript transfers away (detaching
 * it) while the request runs on one of the addon's threads, then drops and collects -- or hands
 * to a worker that ends, which frees it. The request must never read that memory again: it
 * either completes from its own copy (taken as it reached the addon) with the answer for the
 * bytes it was given, or fails as documented (ERR_INVALID_STATE through the API). Run under the
 * ASan addon, a read of the freed memory is a report; without it, the freed memory is reused
 * at once with other bytes, so a late read gives a wrong answer.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';

/** The collector: global.gc where node runs with --expose-gc, else exposed now. */
export function collector(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** How the input goes away. */
export type Gone = 'transferred' | 'to-worker';

/** When, relative to the request: in the same synchronous code, or once it reached the addon (a later macrotask). */
export type When = 'before-submit' | 'in-flight';

/** Ends `buf`'s life here: detached, its memory handed to a new owner that goes away. */
async function dispose(buf: ArrayBuffer, gone: Gone): Promise<void> {
  if (gone === 'transferred') {
    // The new owner is dropped at once: the memory goes with the next collection.
    structuredClone(buf, { transfer: [buf] });
    return;
  }
  const w = new Worker('require("node:worker_threads").parentPort.once("message", () => process.exit(0));', { eval: true });
  w.postMessage(buf, [buf]);
  await new Promise<void>((resolve) => w.once('exit', () => resolve()));
}

/** One input taken away from a request: its bytes (a copy, for the expected answer) and the outcome. */
export interface InflightRun<T> {
  /** The bytes the request was given, copied before they went. */
  bytes: Buffer;
  outcome: { value: T } | { error: unknown };
}

/**
 * Makes an input of `size` bytes at an odd offset of its own ArrayBuffer, starts `start(view)`,
 * then takes the buffer away (`gone`, `when`), collects garbage and fills fresh memory of the
 * same size (which the allocator hands back from what was freed), and returns how the request
 * settled.
 */
export async function takeAway<T>(size: number, gone: Gone, when: When, start: (input: Uint8Array) => Promise<T>): Promise<InflightRun<T>> {
  const gc = collector();
  const view = new Uint8Array(new ArrayBuffer(size + 3), 3, size);
  for (let i = 0; i < size; i++) view[i] = (i * 7 + 1) & 0xff;
  const bytes = Buffer.from(view);
  const settled = start(view).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (when === 'in-flight') await new Promise((resolve) => setImmediate(resolve));
  await dispose(view.buffer, gone);
  gc();
  const reuse: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) reuse.push(new Uint8Array(size + 3).fill(0xee));
  const outcome = await settled;
  reuse.length = 0;
  return { bytes, outcome };
}
