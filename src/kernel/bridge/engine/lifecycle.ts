/**
 * A session's lifecycle: its {@link SessionState}, why it was abandoned, and who waits to hear.
 */
import { performance } from 'node:perf_hooks';

import type { AbandonCause, SessionDeath, SessionState } from './types.js';

export class Lifecycle {
  state: SessionState = 'open';
  /** Why the session was abandoned, or null while it is not. */
  death: SessionDeath | null = null;
  private listeners: ((death: SessionDeath) => void)[] = [];

  /**
   * Calls `listener` once when the session is abandoned (in a microtask, if it is already).
   * Returns the unsubscribe function.
   */
  onAbandoned(listener: (death: SessionDeath) => void): () => void {
    if (this.death) {
      const death = this.death;
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) listener(death);
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
    if (this.death) return false;
    this.death = { cause, detail, at: performance.now() };
    this.state = 'abandoned';
    return true;
  }

  /** Runs the listeners once, synchronously. */
  notify(): void {
    const death = this.death;
    if (!death) return;
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) {
      try {
        l(death);
      } catch (err) {
        // As an EventEmitter listener's would: the error surfaces, the session is still abandoned.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
