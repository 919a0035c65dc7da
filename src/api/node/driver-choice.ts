/**
 * The `driver` option of the drop-ins, and which choices can serve a synchronous call: only
 * those whose work runs on the calling thread in this process (node:crypto, OpenSSL), never a
 * kernel driver or a device, which would block the event loop.
 */
import { OPENSSL_DRIVER } from '../../drivers/openssl/sessions.js';
import { SOFTWARE_DRIVER } from '../../drivers/software/node-crypto.js';
import { invalidArgType } from '../node-errors.js';
import type { DriverChoice } from '../open-session.js';

/** The extension the drop-ins' options take beside node:crypto's. */
export interface DriverOption {
  /**
   * The driver that serves the object's streams (openSession()'s values); default `'fastest'`.
   * Synchronous `update()`/`final()`/`digest()` run in this process (node:crypto) where the
   * choice allows it (`'fastest'`, `'software'`, `'openssl'`), and throw
   * `ERR_KCRYPTO_SYNC_UNAVAILABLE` on any other.
   */
  driver?: DriverChoice;
}

/** `options.driver`, checked; and the options without it, for node:crypto. */
export function splitDriver<T extends object>(options: T | undefined): { driver: DriverChoice; rest: T | undefined } {
  if (options === undefined || options === null || typeof options !== 'object' || !('driver' in options)) {
    return { driver: 'fastest', rest: options };
  }
  const { driver, ...rest } = options as T & DriverOption;
  if (driver !== undefined && typeof driver !== 'string') throw invalidArgType('options.driver', 'string', driver);
  return { driver: driver ?? 'fastest', rest: rest as T };
}

/** Whether a synchronous call may run for this choice. */
export function syncServes(driver: DriverChoice): boolean {
  return driver === 'fastest' || driver === SOFTWARE_DRIVER || driver === OPENSSL_DRIVER;
}
