/**
 * The crypto(9) framework's public surface: the class, its structures and constants.
 */
export * from './constants.js';
export { Framework } from './framework.js';
export type { DriverImpl, DriverStats, SessionInfo, SessionOptions } from './framework.js';
export { CryptKop, CryptoDesc, CryptoIni, CryptoOp } from './structures.js';
export type { CrParam, CryptoDescFields, CryptoIniFields } from './structures.js';
