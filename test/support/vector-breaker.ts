/**
 * Deliberately broken TypeScript drivers for the known-answer check's own tests: the software
 * driver (cryptosoft) registered in the process-wide framework under another name, with its
 * completions tampered with on their way back. `corrupt` flips the last byte of every
 * request's output (a wrong ciphertext, tag or digest); `forge` reports a failed tag check as
 * a success (a driver that accepts forgeries).
 */
import { framework } from '../../src/api/framework-instance.js';
import { errnoOf } from '../../src/errno.js';
import { registerCryptosoft } from '../../src/drivers/software/cryptosoft.js';
import type { Framework } from '../../src/framework/framework.js';
import type { CryptoOp } from '../../src/framework/structures.js';

/** How a breaker misbehaves. */
export type Breakage = 'corrupt' | 'forge';

const EBADMSG = errnoOf('EBADMSG');

/** The last byte of what a request wrote: its MAC buffer, its output buffer, or its buffer. */
function lastOutput(crp: CryptoOp): Uint8Array | undefined {
  const out = crp.mac ?? crp.obuf ?? crp.buf;
  const last = Array.isArray(out) ? out[out.length - 1] : out;
  return last !== undefined && last.length > 0 ? last : undefined;
}

function tamper(crp: CryptoOp, how: Breakage): void {
  if (how === 'forge') {
    if (crp.etype === EBADMSG) crp.etype = 0;
    return;
  }
  const out = crp.etype === 0 ? lastOutput(crp) : undefined;
  if (out) out[out.length - 1]! ^= 0x01;
}

const registered = new Map<string, Breakage>();

/**
 * Registers (once per name) a broken software driver; returns the name to pass as
 * openSession's `driver`.
 */
export function registerVectorBreaker(how: Breakage, name = `vector-breaker-${how}`): string {
  if (registered.has(name)) return name;
  // Cryptosoft completes each request with fw.done(): a framework whose done() tampers first.
  const fw = new Proxy(framework, {
    get(target, prop: keyof Framework) {
      if (prop === 'done')
        return (crp: CryptoOp): void => {
          tamper(crp, how);
          target.done(crp);
        };
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  registerCryptosoft(fw, name);
  registered.set(name, how);
  return name;
}
