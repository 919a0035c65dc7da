/**
 * A drop-in hash's (or HMAC's) stream on a kcrypto driver: the chunks written feed one hash
 * session's state in order, gathered into one request while the previous one runs; end()
 * finishes it. A copy takes the session's state once the updates before it have run. A driver
 * that keeps no state between requests (the BSDs' /dev/crypto: its sessions have a
 * `maxRequestBytes`) digests the whole message at end() instead, up to that size.
 */
import type { Buffer } from 'node:buffer';

import { openSession, type DriverChoice, type HashSpec, type HmacSpec } from '../open-session.js';
import type { HashSession } from '../session.js';

const noop = (): void => undefined;

const stateless = (s: HashSession): boolean => s.maxRequestBytes !== undefined;

export class HashStream {
  private pending: Buffer[] = [];
  /** The message so far, on a driver that keeps no hash state. */
  private readonly whole: Buffer[] = [];
  /** Settles once the session has taken every update so far; carries the session. */
  private tail: Promise<HashSession>;
  private running = false;
  private closed = false;

  private constructor(
    private readonly spec: HashSpec | HmacSpec,
    private readonly driver: DriverChoice,
    session: Promise<HashSession>,
  ) {
    this.tail = session;
    this.tail.catch(noop);
  }

  /** A stream over a new session. */
  static open(spec: HashSpec | HmacSpec, driver: DriverChoice): HashStream {
    return new HashStream(spec, driver, openSession(spec, { driver }));
  }

  /** Takes a chunk; resolves when the session can take more. */
  write(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    if (this.running) return this.tail.then(noop);
    this.flush();
    return Promise.resolve();
  }

  /** The digest of everything written. */
  async digest(): Promise<Buffer> {
    const s = await this.drained();
    try {
      return await (stateless(s) ? s.digest(this.whole) : s.final());
    } finally {
      this.close();
    }
  }

  /** A stream holding a copy of the state after what was written so far. */
  copy(): HashStream {
    const copy: HashStream = new HashStream(
      this.spec,
      this.driver,
      this.drained().then((s) => {
        if (!stateless(s)) return s.copy();
        // The state of a stateless driver's stream is the message so far.
        copy.whole.push(...this.whole);
        return openSession(this.spec, { driver: this.driver });
      }),
    );
    return copy;
  }

  /** Releases the session (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.tail.then((s) => s.close()).catch(noop);
  }

  /** The session, once every chunk written so far is in its state. */
  private async drained(): Promise<HashSession> {
    for (;;) {
      if (this.pending.length > 0 && !this.running) this.flush();
      const s = await this.tail;
      if (this.pending.length === 0 && !this.running) return s;
    }
  }

  private flush(): void {
    const chunks = this.pending;
    this.pending = [];
    this.running = true;
    this.tail = this.tail.then(async (s) => {
      try {
        if (stateless(s)) this.whole.push(...chunks);
        else await s.update(chunks);
      } finally {
        this.running = false;
      }
      if (this.pending.length > 0) this.flush();
      return s;
    });
    this.tail.catch(noop);
  }
}
