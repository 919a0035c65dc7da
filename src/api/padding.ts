/**
 * PKCS#7 padding, which the kernels' block ciphers do not do: the node:crypto functions and
 * WebCrypto's AES-CBC pad before encrypting and take the padding off after decrypting.
 */
import { Buffer } from 'node:buffer';

const BLOCK = 16;

/** `data` padded to a whole number of 16-byte blocks (a whole block of padding when it is one already). */
export function pkcs7Pad(data: Uint8Array): Buffer {
  const pad = BLOCK - (data.length % BLOCK);
  const out = Buffer.alloc(data.length + pad, pad);
  out.set(data);
  return out;
}

/**
 * The plaintext without its PKCS#7 padding, or null where the padding is not valid. The last
 * block is read whole, whatever the padding byte says, so the time taken does not tell where
 * the padding went wrong.
 */
export function pkcs7Unpad<T extends Uint8Array>(data: T): T | null {
  if (data.length === 0) return null;
  const pad = data[data.length - 1]!;
  let bad = pad === 0 || pad > BLOCK || pad > data.length ? 1 : 0;
  for (let i = 1; i <= Math.min(BLOCK, data.length); i++) bad |= i <= pad && data[data.length - i] !== pad ? 1 : 0;
  return bad === 0 ? (data.subarray(0, data.length - pad) as T) : null;
}
