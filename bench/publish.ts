/** Where a benchmark's markdown report goes: stdout, and the --out file when given. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function publishReport(md: string, out: string | undefined, log: (msg: string) => void): void {
  process.stdout.write(md);
  if (!out) return;
  const path = resolve(out);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, md);
  log(`wrote ${path}`);
}
