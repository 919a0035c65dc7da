/**
 * Locates files of the kcrypto package from compiled test code.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { findPackageRoot } from '../../src/package-root.js';

let root: string | undefined;

/** The directory whose package.json names `kcrypto`, found by walking up from this file. */
export function packageRoot(): string {
  root ??= findPackageRoot(dirname(fileURLToPath(import.meta.url))) ?? undefined;
  if (root === undefined) throw new Error(`no kcrypto package.json above ${fileURLToPath(import.meta.url)}`);
  return root;
}

/** The text of `test/fixtures/<name>`. */
export function readFixture(name: string): string {
  return readFileSync(join(packageRoot(), 'test', 'fixtures', name), 'utf8');
}
