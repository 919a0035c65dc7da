/**
 * `configure()`: process-wide settings, given before first use. Its one setting today is the
 * forbid of kernel interfaces, the API twin of `KCRYPTO_FORBID` (src/kernel/bridge/forbid.ts).
 */
import { addForbid, forbiddenInterfaces, type KernelInterface } from '../kernel/bridge/forbid.js';
import { invalidArgType, invalidArgValue, invalidState } from './node-errors.js';

/** What {@link configure} takes. */
export interface KCryptoConfig {
  /**
   * Kernel interfaces this process must never reach: `'afalg'` (no AF_ALG socket is made) and
   * `'devcrypto'` (no /dev/crypto node is opened). Added to any `KCRYPTO_FORBID` gave; a forbid
   * cannot be lifted.
   */
  forbid?: readonly KernelInterface[];
}

/** What is in force after a {@link configure} call. */
export interface KCryptoSettings {
  /** Every forbidden interface, whoever forbade it (environment or configure). */
  forbid: KernelInterface[];
}

const INTERFACES: readonly KernelInterface[] = ['afalg', 'devcrypto'];

/**
 * Applies process-wide settings. Call it before anything else of kcrypto: forbidding an
 * interface this process has already reached (discovery probed it, a session opened on it)
 * throws ERR_INVALID_STATE and changes nothing, since what it promises (no socket, no open
 * by this process) could no longer hold. Forbidding an interface already forbidden is a no-op.
 */
export function configure(options: KCryptoConfig): KCryptoSettings {
  return configureAs(options, 'configure({ forbid })');
}

/** {@link configure}, naming what gave the settings in drivers() and errors (the CLI's `--forbid`). */
export function configureAs(options: KCryptoConfig, by: string): KCryptoSettings {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'object', options);
  const { forbid } = options;
  if (forbid !== undefined) {
    if (!Array.isArray(forbid)) throw invalidArgType('options.forbid', 'Array', forbid);
    for (const w of forbid as unknown[]) {
      if (!INTERFACES.includes(w as KernelInterface))
        throw invalidArgValue('options.forbid', forbid, `must hold only ${INTERFACES.map((i) => `'${i}'`).join(' and ')}`);
    }
    const reached = addForbid(forbid, by);
    if (reached.length > 0)
      throw invalidState(
        `cannot forbid ${reached.join(', ')}: this process has already reached it; call configure() before first use, or set KCRYPTO_FORBID`,
      );
  }
  return { forbid: forbiddenInterfaces() };
}
