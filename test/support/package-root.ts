/**
 * Locates files of the kcrypto package from compiled test code, which runs from
 * dist/esm/test/... and so cannot use paths relative to its own source.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function isPackageRoot(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'kcrypto';
  } catch {
    return false;
  }
}

let root: string | undefined;

/** The directory whose package.json names `kcrypto`, found by walking up from this file. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!isPackageRoot(dir)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no kcrypto package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  root = dir;
  return dir;
}
