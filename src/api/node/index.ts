/** node:crypto's cipher and hash functions, on kcrypto's drivers. */
export { Cipheriv, createCipheriv, createDecipheriv, Decipheriv, type CipherOptions } from './cipher.js';
export { createHash, createHmac, Hash, hash, Hmac, type HashOptions } from './hash.js';
export { getCiphers, getHashes } from './names.js';
export type { DriverOption } from './driver-choice.js';
