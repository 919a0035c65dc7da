/**
 * The session registry: the kernel sessions open now, for policies over all of them such as the
 * device-removal watch. Weakly held: a session its program forgot to close is still collected
 * (its native half then closes itself).
 */
import { EventEmitter } from 'node:events';

import type { KernelSession } from './session.js';

const live = new Set<WeakRef<KernelSession>>();
const liveRefs = new FinalizationRegistry<WeakRef<KernelSession>>((ref) => live.delete(ref));
const lifecycle = new EventEmitter<{ open: [KernelSession] }>();

/** Registers a session just opened and tells the listeners; returns the handle {@link unregister} takes. */
export function register(s: KernelSession): WeakRef<KernelSession> {
  const ref = new WeakRef(s);
  live.add(ref);
  liveRefs.register(s, ref, ref);
  lifecycle.emit('open', s);
  return ref;
}

/** Forgets a session that is closing. */
export function unregister(ref: WeakRef<KernelSession>): void {
  live.delete(ref);
  liveRefs.unregister(ref);
}

/** The kernel sessions open now (not closed), for policies over all of them such as the device-removal watch. */
export function kernelSessions(): KernelSession[] {
  const out: KernelSession[] = [];
  for (const ref of live) {
    const s = ref.deref();
    if (s && !s.isClosed) out.push(s);
  }
  return out;
}

/** Calls `listener` with every kernel session opened from now on. Returns the unsubscribe function. */
export function onKernelSessionOpen(listener: (s: KernelSession) => void): () => void {
  lifecycle.on('open', listener);
  return () => lifecycle.off('open', listener);
}
