/**
 * The process-wide framework, with the software driver registered. Kernel drivers register
 * themselves on it as they are brought up.
 */
import { registerCryptosoft } from '../drivers/cryptosoft.js';
import { Framework } from '../framework/framework.js';

/** The process-wide crypto(9) framework. */
export const framework = new Framework();
registerCryptosoft(framework);
