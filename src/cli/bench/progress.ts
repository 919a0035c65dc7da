/**
 * The progress bar of `kcrypto bench`: one line on stderr, redrawn in place, only where stderr
 * is a terminal (a log or a pipe gets nothing).
 */

/** The stream the bar draws on: process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Advances and clears the bar. */
export interface Progress {
  /** Whether it draws anything. */
  readonly enabled: boolean;
  /** Sets how many points the run has. */
  start(total: number): void;
  /** One more point begins: `label` says which. */
  step(label: string): void;
  /** Erases the bar (before the results are printed). */
  done(): void;
}

const BAR_WIDTH = 24;

/** A bar on `stream`; does nothing unless the stream is a TTY. */
export function createProgress(stream: ProgressStream = process.stderr): Progress {
  const enabled = stream.isTTY === true;
  let total = 0;
  let count = 0;
  let drawn = false;
  return {
    enabled,
    start(points) {
      total = points;
      count = 0;
    },
    step(label) {
      if (!enabled) return;
      const filled = total > 0 ? Math.round((BAR_WIDTH * count) / total) : BAR_WIDTH;
      const head = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${count + 1}/${total} `;
      // A terminal that reports no width (0, as under script(1)) gets the classic 80 columns.
      const width = Math.max(20, (stream.columns || 80) - 1);
      const line = (head + label).slice(0, width);
      stream.write(`\r${line}\x1b[K`);
      drawn = true;
      count++;
    },
    done() {
      if (enabled && drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
