/**
 * A session's lifecycle: its {@link SessionState}, why it was abandoned, and who waits to hear.
 */
import { performance } from 'node:perf_hooks';

import type { AbandonCause, Abandonment, SessionState } from './types.js';

export class Lifecycle {
  state: SessionState = 'open';
  /** Why the session was abandoned, or null while it is not. */
  abandonment: Abandonment | null = null;
  private listeners: ((abandonment: Abandonment) => void)[] = [];

  /**
   * Calls `listener` once when the session is abandoned (in a microtask, if it is already).
   * Returns the unsubscribe function.
   */
  onAbandoned(listener: (abandonment: Abandonment) => void): () => void {
    if (this.abandonment) {
      const abandonment = this.abandonment;
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) listener(abandonment);
      });
      return () => {
        cancelled = true;
      };
    }
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Records the abandonment; false when the session was abandoned already (the first cause stands). */
  abandon(cause: AbandonCause, detail: string): boolean {
    if (this.abandonment) return false;
    this.abandonment = { cause, detail, at: performance.now() };
    this.state = 'abandoned';
    return true;
  }

  /** Runs the listeners once, synchronously. */
  notify(): void {
    const abandonment = this.abandonment;
    if (!abandonment) return;
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) {
      try {
        l(abandonment);
      } catch (err) {
        // As an EventEmitter listener's would: the error surfaces, the session is still abandoned.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
