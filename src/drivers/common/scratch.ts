/**
 * Scratch buffers for the copies a device's requests work on, kept by power-of-two size: a
 * fresh large buffer costs a page fault per page, which in an emulated guest is most of the
 * price of the copy. Only a buffer whose request completed comes back (a request that failed
 * may have a thread still inside the kernel with it).
 */
import { Buffer } from 'node:buffer';

const scratchPool = new Map<number, Buffer[]>();
const SCRATCH_MAX = 1 << 20;
const SCRATCH_KEPT = 8;

function scratchClass(n: number): number {
  return n <= 4096 ? 4096 : 2 ** Math.ceil(Math.log2(n));
}

export function borrowScratch(n: number): Buffer {
  if (n > SCRATCH_MAX) return Buffer.allocUnsafeSlow(n);
  const b = scratchPool.get(scratchClass(n))?.pop() ?? Buffer.allocUnsafeSlow(scratchClass(n));
  return b.subarray(0, n);
}

export function returnScratch(b: Buffer): void {
  const whole = b.buffer.byteLength;
  if (whole > SCRATCH_MAX || b.byteOffset !== 0 || whole !== scratchClass(whole)) return;
  let list = scratchPool.get(whole);
  if (!list) scratchPool.set(whole, (list = []));
  if (list.length < SCRATCH_KEPT) list.push(Buffer.from(b.buffer, 0, whole));
}
