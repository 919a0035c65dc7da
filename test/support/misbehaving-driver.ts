/**
 * Deliberately wrong drivers, to show that the conformance kit's behaviour checks catch what
 * they are meant to catch. Each is cryptosoft (the software driver's engine) registered on the
 * process-wide `framework` under its own name, with one fault put between it and the
 * framework: openSession(spec, { driver: name }) reaches it like any driver of a program's own.
 */
import { errnoOf } from '../../src/errno.js';
import { framework } from '../../src/index.js';
import { registerCryptosoft } from '../../src/drivers/software/cryptosoft.js';
import { bufLength } from '../../src/framework/driver.js';
import type { DriverImpl, Framework } from '../../src/framework/framework.js';
import type { CryptoIni, CryptoOp } from '../../src/framework/structures.js';
import type { Target } from '../../src/conformance/check.js';

/** The faults. */
export type Misbehaviour =
  /** An AEAD decryption whose tag does not verify succeeds (its EBADMSG is turned into success). */
  | 'forges-tags'
  /** Completes requests a turn later; one that arrives while 16 others are held is never completed. */
  | 'loses-requests'
  /** Completes requests a turn later; freeing a session never finishes, so close() never resolves. */
  | 'hangs-on-close'
  /** copy() gives a fresh state with the session's key instead of a copy of the running one. */
  | 'copies-nothing'
  /** Says its sessions take 4096-byte requests (in 16-byte blocks) and does: no fault, the limits' reference. */
  | 'honest-limits'
  /** Says its sessions take 4096-byte requests, but fails those over 1024 bytes with E2BIG. */
  | 'overstates-limit';

/** Requests held at once beyond which 'loses-requests' drops one. */
const LOSE_PAST = 16;

/** The request size limit the limit drivers state. */
const STATED_MAX = 4096;

const lidOf = (sid: bigint): number => Number(sid & 0xffffffffn);

/** `impl` with the fault in its own calls. */
function faulty(how: Misbehaviour, impl: DriverImpl): DriverImpl {
  const keys = new Map<number, CryptoIni>();
  let held = 0;
  const deferred = how === 'loses-requests' || how === 'hangs-on-close';
  return {
    ...impl,
    newSession(arg, cri, options) {
      const lid = impl.newSession(arg, cri, options);
      if (typeof lid === 'number') keys.set(lid, cri);
      return lid;
    },
    ...(how === 'honest-limits' || how === 'overstates-limit'
      ? { describeSession: () => ({ maxRequestBytes: STATED_MAX, ...(how === 'honest-limits' ? { alignment: 16 } : {}) }) }
      : {}),
    process(arg, crp, hint) {
      if (how === 'overstates-limit' && bufLength(crp.buf) > 1024) return errnoOf('E2BIG');
      if (!deferred) return impl.process(arg, crp, hint);
      if (how === 'loses-requests' && held >= LOSE_PAST) return 0; // taken, never done
      held++;
      setImmediate(() => {
        held--;
        impl.process(arg, crp, hint);
      });
      return 0;
    },
    freeSession: (arg, sid) => (how === 'hangs-on-close' ? new Promise<void>(() => undefined) : impl.freeSession(arg, sid)),
    ...(how === 'copies-nothing' ? { copySession: (arg: unknown, sid: bigint) => impl.newSession(arg, keys.get(lidOf(sid))!) } : {}),
  };
}

/**
 * Registers the driver with fault `how` (once per process) and returns the conformance
 * target that names it.
 */
export function misbehavingTarget(how: Misbehaviour): Target {
  const name = `misbehaving-${how}`;
  const target: Target = { driver: name, label: name, kernel: false, required: false };
  if (framework.findDriver(name) >= 0) return target;
  const EBADMSG = errnoOf('EBADMSG');
  const wrapped = new WeakMap<DriverImpl, DriverImpl>();
  // cryptosoft reaches the framework only through the object it is given: this one hands its
  // implementation over with the fault in place, and forges its completions where asked to.
  const fw = new Proxy(framework, {
    get(t: Framework, p: string | symbol): unknown {
      if (p === 'done')
        return (crp: CryptoOp) => {
          if (how === 'forges-tags' && crp.etype === EBADMSG) crp.etype = 0;
          t.done(crp);
        };
      if (p === 'register')
        return (id: number, alg: number, maxOpLen: number, flags: number, impl?: DriverImpl, arg?: unknown) => {
          let w = impl && wrapped.get(impl);
          if (impl && !w) wrapped.set(impl, (w = faulty(how, impl)));
          return t.register(id, alg, maxOpLen, flags, w, arg);
        };
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  registerCryptosoft(fw, name);
  return target;
}
