/**
 * A small client for QEMU's QMP monitor, for host-side tests that change the guest's
 * hardware while it runs (e.g. `device_del card1` to pull a virtio-crypto card).
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';

/** An asynchronous QMP event (`DEVICE_DELETED`, `SHUTDOWN`, ...). */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** A QMP command that QEMU answered with an error. */
export class QmpError extends Error {
  constructor(
    readonly errorClass: string,
    description: string,
  ) {
    super(`QMP ${errorClass}: ${description}`);
    this.name = 'QmpError';
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * A connected, capability-negotiated QMP session. Events are emitted as `'event'`
 * ({@link QmpEvent}) and can be awaited with {@link QmpClient.waitForEvent}.
 */
export class QmpClient extends EventEmitter {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private closedError?: Error;
  private greet!: { resolve(): void; reject(err: Error): void };
  /** Settles when QEMU's greeting arrives (or the connection fails first). */
  private readonly greeting = new Promise<void>((resolve, reject) => {
    this.greet = { resolve, reject };
  });

  private constructor(private readonly socket: net.Socket) {
    super();
    // The greeting may fail before anyone awaits it; that is reported by connect().
    this.greeting.catch(() => undefined);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('QMP connection closed')));
  }

  /**
   * Connects to a QMP unix socket and negotiates capabilities. QEMU creates the socket a
   * moment after it starts, so connecting is retried until `timeoutMs`.
   */
  static async connect(socketPath: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(socketPath);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const client = new QmpClient(socket);
        const timer = setTimeout(() => client.fail(new Error('no QMP greeting')), Math.max(1000, deadline - Date.now()));
        try {
          await client.greeting;
          await client.execute('qmp_capabilities');
        } catch (err) {
          socket.destroy();
          throw err;
        } finally {
          clearTimeout(timer);
        }
        return client;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Runs a QMP command and resolves with its `return` value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = String(this.nextId++);
    const message = JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve, reject });
      this.socket.write(`${message}\n`);
    });
  }

  /** Resolves with the next event named `name` (and matching `filter`), or rejects after `timeoutMs`. */
  waitForEvent(name: string, timeoutMs = 30_000, filter: (e: QmpEvent) => boolean = () => true): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const onEvent = (e: QmpEvent): void => {
        if (e.event !== name || !filter(e)) return;
        clearTimeout(timer);
        this.off('event', onEvent);
        resolve(e);
      };
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        reject(new Error(`no QMP event ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('event', onEvent);
    });
  }

  /** Closes the connection (QEMU keeps running). */
  close(): void {
    this.socket.end();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== '') this.onMessage(JSON.parse(line) as Record<string, unknown>);
    }
  }

  private onMessage(msg: Record<string, unknown>): void {
    if ('QMP' in msg) {
      this.greet.resolve();
      return;
    }
    if (typeof msg['event'] === 'string') {
      this.emit('event', msg);
      return;
    }
    const id = typeof msg['id'] === 'string' ? msg['id'] : undefined;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!pending || id === undefined) return;
    this.pending.delete(id);
    const error = msg['error'] as { class?: string; desc?: string } | undefined;
    if (error) pending.reject(new QmpError(error.class ?? 'GenericError', error.desc ?? 'unknown error'));
    else pending.resolve(msg['return']);
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    this.greet.reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
