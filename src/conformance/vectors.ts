/**
 * Loader of the Wycheproof vectors the package ships (vectors/wycheproof/testvectors_v1). Field
 * names are those of the upstream JSON schemas the files name in their `schema` field.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { findPackageRoot } from '../package-root.js';

/** `valid`: must be accepted; `invalid`: must be rejected; `acceptable`: either. */
export type WycheproofResult = 'valid' | 'invalid' | 'acceptable';

interface TestBase {
  tcId: number;
  comment: string;
  flags: string[];
  result: WycheproofResult;
}

/** aead_test_schema_v1.json: one AEAD encryption (hex fields). */
export interface AeadTest extends TestBase {
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
}
export interface AeadGroup {
  /** Sizes in bits. */
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: AeadTest[];
}

/** ind_cpa_test_schema_v1.json: one unauthenticated encryption. */
export interface IndCpaTest extends TestBase {
  key: string;
  iv: string;
  msg: string;
  ct: string;
}
export interface IndCpaGroup {
  keySize: number;
  ivSize: number;
  tests: IndCpaTest[];
}

/** mac_test_schema_v1.json: one MAC; `tag` is the first tagSize/8 bytes of the full MAC. */
export interface MacTest extends TestBase {
  key: string;
  msg: string;
  tag: string;
}
export interface MacGroup {
  keySize: number;
  tagSize: number;
  tests: MacTest[];
}

interface Schemas {
  'aead_test_schema_v1.json': AeadGroup;
  'ind_cpa_test_schema_v1.json': IndCpaGroup;
  'mac_test_schema_v1.json': MacGroup;
}
export type WycheproofSchema = keyof Schemas;

/** A vector file. */
export interface WycheproofFile<G> {
  file: string;
  algorithm: string;
  schema: string;
  numberOfTests: number;
  notes: Record<string, { bugType?: string; description?: string }>;
  testGroups: G[];
}

/** Directory of the vector files the package ships. */
export function vectorsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = findPackageRoot(here);
  if (root === null) throw new Error(`no kcrypto package.json above ${here}`);
  return join(root, 'vectors', 'wycheproof', 'testvectors_v1');
}

/**
 * Reads a vector file and checks it is the schema the caller handles and holds as many tests
 * as it declares, so a truncated or swapped file cannot pass by testing nothing.
 */
export function loadWycheproof<S extends WycheproofSchema>(file: string, schema: S): WycheproofFile<Schemas[S]> {
  const data = JSON.parse(readFileSync(join(vectorsDir(), file), 'utf8')) as Omit<WycheproofFile<Schemas[S]>, 'file'>;
  if (data.schema !== schema) throw new Error(`${file}: schema ${data.schema}, expected ${schema}`);
  const count = data.testGroups.reduce((n, g) => n + g.tests.length, 0);
  if (count !== data.numberOfTests) throw new Error(`${file}: ${count} tests, header says ${data.numberOfTests}`);
  return { ...data, file };
}

/** Every test of a file with its group, in file order. */
export function* eachTest<G extends { tests: unknown[] }>(f: WycheproofFile<G>): Generator<{ group: G; test: G['tests'][number] }> {
  for (const group of f.testGroups) for (const test of group.tests) yield { group, test };
}
