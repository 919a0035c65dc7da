/**
 * CRYPTO_DEFLATE_COMP as FreeBSD's sys/opencrypto/deflate.c does it (IPComp's DEFLATE, RFC
 * 2394): raw deflate streams (no zlib header), compressed with window_deflate = -12 (a 4 KiB
 * window), Z_DEFAULT_COMPRESSION, memory level 8 and the default strategy, in one Z_FINISH
 * pass; decompressed with window_inflate = -MAX_WBITS, and only a complete stream that uses
 * all its input is accepted.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';

import { invalid } from '../../kernel/bridge/status.js';

/** What inflateRawSync() returns with `info: true`: the engine tells how much input it used. */
interface InflateInfo {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

/** deflate.c's window_deflate, as a raw-deflate window size in bits. */
export const DEFLATE_WINDOW_BITS = 12;
/** deflate.c's window_inflate (MAX_WBITS). */
export const INFLATE_WINDOW_BITS = 15;

/** Compresses `data` into a raw deflate stream. */
export function deflateCompress(data: Uint8Array): Buffer {
  return deflateRawSync(data, {
    level: constants.Z_DEFAULT_COMPRESSION,
    windowBits: DEFLATE_WINDOW_BITS,
    memLevel: 8,
    strategy: constants.Z_DEFAULT_STRATEGY,
  });
}

/**
 * Decompresses the raw deflate stream `data`. A damaged or truncated stream, or bytes after
 * its end, is EINVAL; output over `maxOutput` bytes is ENOSPC.
 */
export function deflateDecompress(data: Uint8Array, maxOutput: number): Buffer {
  let result: InflateInfo;
  try {
    // maxOutputLength must be at least 1; a longer result than maxOutput is checked below.
    const raw: unknown = inflateRawSync(data, { windowBits: INFLATE_WINDOW_BITS, maxOutputLength: Math.max(1, maxOutput), info: true });
    // With `info`, node returns the engine too (its typings only know the Buffer form).
    result = raw as InflateInfo;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw invalid('ENOSPC', `DEFLATE: the output exceeds ${maxOutput} bytes`, 'cryptosoft');
    throw invalid('EINVAL', `DEFLATE: ${(err as Error).message}`, 'cryptosoft');
  }
  if (result.engine.bytesWritten !== data.length)
    throw invalid('EINVAL', `DEFLATE: ${data.length - result.engine.bytesWritten} bytes after the end of the stream`, 'cryptosoft');
  if (result.buffer.length > maxOutput) throw invalid('ENOSPC', `DEFLATE: the output exceeds ${maxOutput} bytes`, 'cryptosoft');
  return result.buffer;
}
