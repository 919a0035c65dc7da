/**
 * kcrypto: the kernel's crypto drivers — hardware accelerators first of all — for Node.js.
 *
 * @packageDocumentation
 */
export { AbortError, KCryptoError } from './errors.js';
export {
  Cipheriv,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  Decipheriv,
  getCiphers,
  getHashes,
  Hash,
  hash,
  Hmac,
} from './api/node/index.js';
export type { CipherOptions, DriverOption, HashOptions } from './api/node/index.js';
export { openSession } from './api/open-session.js';
export type { CipherSpec, CmacSpec, DriverChoice, HashSpec, HmacSpec, OpenOptions, RngSpec, SessionSpec } from './api/open-session.js';
export { AeadSession, CipherSession, HashSession, RngSession } from './api/session.js';
export type {
  AeadDecryptOptions,
  AeadOutput,
  AeadRequestOptions,
  Bytes,
  CipherOutput,
  CipherRequestOptions,
  Data,
  DataOptions,
  RequestOptions,
  Session,
} from './api/session.js';
export { drivers } from './api/drivers.js';
export { configure } from './api/configure.js';
export type { KCryptoConfig, KCryptoSettings } from './api/configure.js';
export type { KernelInterface } from './kernel/bridge/forbid.js';
export type { DriverInfo, DriverInterface } from './api/drivers.js';
export { algorithmSupport } from './api/algorithm-support.js';
export type { AfAlgRoute, AlgorithmSupport } from './api/algorithm-support.js';
export { kernelReport } from './api/kernel-view.js';
export type { Execution } from './kernel/bridge/engine/index.js';
export { ciphers, hashes } from './algorithms/catalog.js';
export { framework, registerKernelDrivers } from './api/framework-instance.js';
import { router } from './api/framework-instance.js';
/** The measured per-driver, per-size costs behind `driver: 'fastest'` (`clear()` to measure again). */
export const routeTable = router.table;
export * as crypto9 from './framework/index.js';
export { Framework, CryptKop, CryptoDesc, CryptoIni, CryptoOp } from './framework/index.js';
export type {
  CrParam,
  CryptoDescFields,
  CryptoIniFields,
  DriverImpl,
  DriverStats,
  SessionInfo,
  SessionOptions,
} from './framework/index.js';
export {
  createSubtle,
  getRandomValues,
  KCryptoKey,
  KSubtle,
  randomUUID,
  randomValuesSource,
  subtle,
  webcrypto,
} from './api/webcrypto/index.js';
export type {
  AesKeyAlgorithm,
  AlgorithmArgument,
  DigestData,
  HmacKeyAlgorithm,
  RandomSource,
  RandomSourceInfo,
  SecretJwk,
  SecretKeyAlgorithm,
  SubtleOptions,
} from './api/webcrypto/index.js';
/**
 * The conformance kit (`kcrypto conformance`): checks a driver — a kernel driver reached
 * through AF_ALG or /dev/crypto, or a driver registered in {@link framework} — against
 * node:crypto and published vectors, and reports each check's verdict per algorithm
 * (`pass`, `fail` with the bytes that reproduce it, `n/a` with the reason).
 */
export { runConformance } from './conformance/runner.js';
export type { ConformanceOptions } from './conformance/runner.js';
export type {
  AlgorithmReport,
  Check,
  CheckContext,
  CheckResult,
  ConformanceReport,
  Depth,
  DriverReport,
  Failure,
  Progress,
  Reproducer,
  SessionClass,
  Status,
  Target,
} from './conformance/check.js';
export type { Family } from './conformance/families.js';
