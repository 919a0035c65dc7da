/**
 * Transforms over session backends (backend.ts): how a kernel driver's sessions, which work
 * on whole messages, serve the descriptor executor. A per-request key (CRD_F_KEY_EXPLICIT)
 * opens a transient backend with that key.
 */
import type { AeadBackend, CipherBackend, HashBackend, RngBackend } from './backend.js';
import { then, type AeadTransform, type AuthTransform, type CipherTransform, type Maybe, type RngTransform } from './transforms.js';

/** With a per-request key: a fresh backend, closed once the request is done. */
async function withKey<B extends { close(): Promise<void> }, T>(
  open: (key: Uint8Array) => B,
  key: Uint8Array,
  fn: (b: B) => Maybe<T>,
): Promise<T> {
  const b = open(key);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

/** `ivOf` turns the request's IV into the backend's (FreeBSD's 8-byte XTS IV into a tweak). */
export function cipherTransform(
  b: CipherBackend,
  reopen: (key: Uint8Array) => CipherBackend,
  ivOf: (iv: Uint8Array) => Uint8Array = (iv) => iv,
): CipherTransform {
  // The engine writes straight into the executor's output region (the request's buffer, in
  // place, or its separate output buffer): no output buffer of its own, no copy back.
  const run = (
    x: CipherBackend,
    encrypt: boolean,
    iv: Uint8Array,
    data: Uint8Array,
    into: Buffer | undefined,
    disposable: boolean | undefined,
  ): Maybe<Uint8Array> =>
    encrypt
      ? then(x.encrypt(data, iv.length > 0 ? ivOf(iv) : null, into, disposable), (r) => r.ciphertext)
      : x.decrypt(data, iv.length > 0 ? ivOf(iv) : null, into, disposable);
  return {
    kind: 'cipher',
    ...(b.guardsOutput ? { guardsOutput: true } : {}),
    run: (encrypt, iv, data, key, into, disposable) =>
      key ? withKey(reopen, key, (x) => run(x, encrypt, iv, data, into, disposable)) : run(b, encrypt, iv, data, into, disposable),
    close: () => b.close(),
  };
}

export function aeadTransform(b: AeadBackend, reopen: (key: Uint8Array) => AeadBackend): AeadTransform {
  const seal = (x: AeadBackend, iv: Uint8Array, aad: Uint8Array, data: Uint8Array): Promise<{ out: Uint8Array; tag: Uint8Array }> =>
    x.encrypt(data, iv, aad).then((r) => ({ out: r.ciphertext, tag: r.tag }));
  return {
    kind: 'aead',
    ...(b.maxRequestBytes !== undefined ? { maxRequest: b.maxRequestBytes } : {}),
    seal: (iv, aad, data, _tagLength, key) => (key ? withKey(reopen, key, (x) => seal(x, iv, aad, data)) : seal(b, iv, aad, data)),
    open: (iv, aad, data, tag, key) => (key ? withKey(reopen, key, (x) => x.decrypt(data, iv, aad, tag)) : b.decrypt(data, iv, aad, tag)),
    close: () => b.close(),
  };
}

export function authTransform(b: HashBackend, digestLength: number, reopen: ((key: Uint8Array) => HashBackend) | null): AuthTransform {
  return {
    kind: 'auth',
    digestLength,
    digest: (data, key, _iv, into) => (key && reopen ? withKey(reopen, key, (x) => x.digest(data, into)) : b.digest(data, into)),
    update: (data) => b.update(data),
    final: () => b.final(),
    copy: () => b.copy().then((c) => authTransform(c, digestLength, reopen)),
    close: () => b.close(),
  };
}

export function rngTransform(b: RngBackend): RngTransform {
  return { kind: 'rng', generate: (n) => b.generate(n), close: () => b.close() };
}
