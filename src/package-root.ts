/**
 * Finds the kcrypto package directory: compiled code runs from dist/esm/… (or dist/cjs/), so
 * paths relative to a source file do not reach build/, test/ or bench/.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function isPackageRoot(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'kcrypto';
  } catch {
    return false;
  }
}

/** The nearest directory at or above `start` whose package.json names `kcrypto`, or null. */
export function findPackageRoot(start: string): string | null {
  let dir = start;
  while (!isPackageRoot(dir)) {
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
  return dir;
}
