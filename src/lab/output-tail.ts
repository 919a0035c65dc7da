/**
 * Follows a file that another party (here: the guest, through 9p) appends to, and hands
 * each new chunk to a callback. Polling rather than fs.watch: inotify does not see writes
 * that QEMU makes on behalf of the guest any more reliably, and a 50 ms poll is cheap.
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';

/** Follows one growing file. */
export class OutputTail {
  private fd: number | undefined;
  private offset = 0;
  private readonly chunk = Buffer.alloc(64 * 1024);

  constructor(
    private readonly file: string,
    private readonly onChunk: (chunk: Buffer) => void,
  ) {}

  /** Reads whatever was appended since the last call. */
  poll(): void {
    if (this.fd === undefined) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch {
        return; // not created yet
      }
    }
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.chunk, 0, this.chunk.length, this.offset);
      } catch {
        return;
      }
      if (n <= 0) return;
      this.offset += n;
      // Copy: the read buffer is reused on the next call.
      this.onChunk(Buffer.from(this.chunk.subarray(0, n)));
    }
  }

  /** Reads the rest and closes the file. */
  close(): void {
    this.poll();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
