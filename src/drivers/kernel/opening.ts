/**
 * Device sessions whose open runs on the device lane (`KernelSession.open()`): binding and
 * keying a transform on a card is a device round trip, and the JavaScript thread never waits
 * on a device. A backend carries the open's promise as `ready`; a driver awaits it before it
 * hands the session out.
 */
import type { KernelSession } from '../../kernel/bridge/engine/index.js';
import { fromNativeThrow } from '../../kernel/bridge/status.js';

/** A backend whose open may still be running on the device lane. */
export interface Opening {
  readonly ready?: Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the deferred open of `ks` on its lane; the promise rejects with what failed, as a
 * KCryptoError saying `what` (as the synchronous open says it).
 */
export function openOnLane(ks: KernelSession, what: string): Promise<void> {
  const ready = ks.open().catch((err: unknown) => {
    throw fromNativeThrow(err, ks.driver, what);
  });
  // A transform opened for one request's own key is never awaited: its request fails as the
  // open did, and that is where the error is reported.
  ready.catch(() => undefined);
  return ready;
}

/** `b` with its `ready` promise, when its session's open runs on the device lane. */
export function withReady<B extends object>(b: B, ready: Promise<void> | undefined): B {
  return ready ? Object.assign(b, { ready }) : b;
}

/** `b` once its open has run; closed, and the open's error thrown, when it failed. */
export async function awaitOpen<B extends Opening>(b: B): Promise<B> {
  try {
    await b.ready;
  } catch (err) {
    void b.close();
    throw err;
  }
  return b;
}
