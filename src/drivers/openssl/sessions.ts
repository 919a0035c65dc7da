/**
 * Engine sessions on the OpenSSL that Node.js carries: the addon keys an EVP context once per
 * session (node:crypto keys one per createCipheriv()) and runs requests inline or on the CPU
 * lane's threads, by the engine's measured policy.
 */
import type { CipherAlgorithm, HashAlgorithm, MacAlgorithm } from '../../algorithms/catalog.js';
import { loadAddon } from '../../kernel/bridge/addon.js';
import { KernelSession, type Execution } from '../../kernel/bridge/engine/index.js';
import { fromNativeThrow, invalid } from '../../kernel/bridge/status.js';
import type { CipherBackend, HashBackend } from '../common/backend.js';
import { cipherBackendOf, hashBackendOf } from '../kernel/backends.js';

/** The driver's name. */
export const OPENSSL_DRIVER = 'openssl';

/**
 * Why this process cannot use the engine, or '' when it can: the addon must be loaded and Node
 * must carry OpenSSL 3 (an embedder on BoringSSL, or a Node.js built without crypto, exports
 * other symbols or none).
 */
export function openSslUnavailable(): string {
  const version = process.versions.openssl;
  if (!version) return 'this Node.js carries no OpenSSL';
  if (!version.startsWith('3.')) return `this Node.js carries OpenSSL ${version}; the engine is built for OpenSSL 3`;
  if (process.versions['electron']) return 'Electron carries BoringSSL, not the OpenSSL the engine is built for';
  const { addon, error } = loadAddon();
  if (!addon) return error;
  if (!addon.openOpenSsl) return 'this build of the addon has no OpenSSL engine';
  return '';
}

type Kind = 'cipher' | 'digest' | 'hmac';

/** Whether this OpenSSL opens `name` with `key` (a throwaway session, closed at once). */
export function openSslOpens(kind: Kind, name: string, key: Uint8Array | null): boolean {
  const { addon } = loadAddon();
  try {
    addon?.openOpenSsl?.(kind, name, key).close();
    return addon?.openOpenSsl !== undefined;
  } catch {
    return false;
  }
}

function open(kind: Kind, name: string, key: Uint8Array | null, execution: Execution): KernelSession {
  const { addon } = loadAddon();
  if (!addon?.openOpenSsl) throw invalid('ENOTSUP', `${OPENSSL_DRIVER}: ${openSslUnavailable()}`, OPENSSL_DRIVER);
  let native;
  try {
    native = addon.openOpenSsl(kind, name, key);
  } catch (err) {
    throw fromNativeThrow(err, OPENSSL_DRIVER, `cannot open ${name}`);
  }
  // CPU work: synchronous, so large requests go to the CPU lane's threads and small ones inline.
  return new KernelSession(native, OPENSSL_DRIVER, true, execution);
}

/** A plain cipher (AES-CBC, CTR, ECB, XTS). */
export function openOpenSslCipher(alg: CipherAlgorithm, key: Uint8Array, execution: Execution = 'auto'): CipherBackend {
  return cipherBackendOf(open('cipher', alg.name, key, execution), alg);
}

/** A hash. */
export function openOpenSslHash(alg: HashAlgorithm, execution: Execution = 'auto'): HashBackend {
  return hashBackendOf(open('digest', alg.name, null, execution), alg.digestLength);
}

/** An HMAC, keyed at open. */
export function openOpenSslHmac(alg: MacAlgorithm, key: Uint8Array, execution: Execution = 'auto'): HashBackend {
  if (!alg.hash) throw invalid('EINVAL', `${OPENSSL_DRIVER}: ${alg.name} is not an HMAC`, OPENSSL_DRIVER);
  return hashBackendOf(open('hmac', alg.hash.name, key, execution), alg.digestLength);
}
