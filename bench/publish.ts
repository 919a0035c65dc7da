/**
 * Where a benchmark's markdown report goes: stdout, and the --out file when given. One results
 * file holds several benchmarks' reports (bench/RESULTS.md: the lab's and the host's), each in
 * a section of its own between markers; a report given a `section` replaces that section of an
 * existing file and leaves the rest, its headings one level down under the file's title.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const TITLE = '# kcrypto benchmark results\n';

/** `md` with every heading one level down. */
function demoted(md: string): string {
  return md.replace(/^(#{1,5}) /gm, '#$1 ');
}

/** `file` (the text of a results file, or '') with `section` holding `md`. */
export function withSection(file: string, section: string, md: string): string {
  const begin = `<!-- section: ${section} -->`;
  const end = `<!-- end of section: ${section} -->`;
  const block = `${begin}\n\n${demoted(md).trimEnd()}\n\n${end}\n`;
  const from = file.indexOf(begin);
  const to = file.indexOf(end);
  if (from >= 0 && to > from) return file.slice(0, from) + block + file.slice(to + end.length + 1);
  const head = file.trim() === '' ? TITLE : `${file.trimEnd()}\n`;
  return `${head}\n${block}`;
}

export function publishReport(md: string, out: string | undefined, log: (msg: string) => void, section?: string): void {
  process.stdout.write(md);
  if (out) writeReport(md, out, log, section);
}

/** Writes `md` to `out`: the whole file, or its `section` (see withSection). */
export function writeReport(md: string, out: string, log: (msg: string) => void, section?: string): void {
  const path = resolve(out);
  mkdirSync(dirname(path), { recursive: true });
  const text = section === undefined ? md : withSection(existsSync(path) ? readFileSync(path, 'utf8') : '', section, md);
  writeFileSync(path, text);
  log(`wrote ${path}${section === undefined ? '' : ` (its ${section} section)`}`);
}
