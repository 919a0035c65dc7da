/**
 * The errors node:crypto gives for a cipher's failed `final()`, reproduced by node:crypto itself
 * so that a drop-in fails with the very same error (message, `code`, OpenSSL's `library` and
 * `reason`) whatever the Node and OpenSSL versions.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';

const ZERO_KEY = Buffer.alloc(16);
const ZERO_IV = Buffer.alloc(16);

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return new Error('node:crypto did not fail as expected');
}

/** `final()` of a padded cipher whose input is not a whole number of blocks. */
export function wrongFinalBlockLength(): Error {
  return thrownBy(() => nodeCrypto.createDecipheriv('aes-128-cbc', ZERO_KEY, ZERO_IV).final());
}

/** `final()` of a decipher whose last block does not end in valid PKCS#7 padding. */
export function badDecrypt(): Error {
  return thrownBy(() => {
    const d = nodeCrypto.createDecipheriv('aes-128-ecb', ZERO_KEY, null);
    // Zero bytes encrypted: the padding byte is 0, never valid.
    const block = nodeCrypto.createCipheriv('aes-128-ecb', ZERO_KEY, null).setAutoPadding(false).update(Buffer.alloc(16));
    d.update(block);
    d.final();
  });
}

/** `final()` of an AEAD decipher whose tag does not verify (or was never set). */
export function authenticationFailed(): Error {
  return thrownBy(() => {
    const d = nodeCrypto.createDecipheriv('aes-128-gcm', ZERO_KEY, ZERO_IV.subarray(0, 12));
    d.setAuthTag(Buffer.alloc(16));
    d.final();
  });
}

/** A call in the wrong state (`Invalid state for operation getAuthTag`, …). */
export function invalidState(operation: string): Error {
  return Object.assign(new Error(`Invalid state for operation ${operation}`), { code: 'ERR_CRYPTO_INVALID_STATE' });
}

/** Data the cipher cannot take (an XTS data unit under 16 bytes); node's message has no code. */
export function unsupportedState(): Error {
  return new Error('Trying to add data in unsupported state');
}

/**
 * A synchronous call on a driver whose requests run off the event loop (a kernel driver, a
 * device): kcrypto never blocks the event loop on one.
 */
export function syncUnavailable(call: string, driver: string): Error {
  return Object.assign(
    new Error(
      `${call} cannot run synchronously on driver '${driver}': its requests run off the event loop. ` +
        'Use the object as a stream (write()/end(), or stream.pipeline(source, it, sink)), or a session from openSession().',
    ),
    { code: 'ERR_KCRYPTO_SYNC_UNAVAILABLE' },
  );
}

/** A synchronous call on an object already streaming through a driver. */
export function streaming(call: string, driver: string): Error {
  return Object.assign(
    new Error(`${call} cannot be called on an object streaming through driver '${driver}': go on writing to it, and end() it`),
    { code: 'ERR_KCRYPTO_STREAMING' },
  );
}
