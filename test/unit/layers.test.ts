/**
 * The layers of src/ import only downward: a file may import its own layer and any lower one.
 * Every import of a relative path counts, `import type` and `export ... from` included: a type
 * from an upper layer ties the lower one to it as much as a value does.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';

import ts from 'typescript';

import { packageRoot } from '../support/package-root.js';

/** Rank of each layer under src/: the folders, and the base files at src/'s root. */
const LAYERS: Readonly<Record<string, number>> = {
  'errors.ts': 0,
  'errno.ts': 0,
  'package-root.ts': 0,
  kernel: 1,
  framework: 2,
  algorithms: 3,
  drivers: 4,
  api: 5,
  cli: 6,
  lab: 6,
  conformance: 6,
};
const FOLDERS = Object.keys(LAYERS).filter((name) => !name.endsWith('.ts'));

/** The public entry: it may import anything, and importing it reaches the whole API. */
const ENTRY = 'index.ts';
const ENTRY_RANK = LAYERS['api']!;

/** Imports between layers of one rank that are still forbidden: [from, to]. */
const FORBIDDEN: readonly (readonly [string, string])[] = [
  ['lab', 'cli'],
  ['conformance', 'cli'],
  ['conformance', 'lab'],
  ['lab', 'conformance'],
];

interface Import {
  file: string;
  specifier: string;
}

const srcDir = (): string => join(packageRoot(), 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.isFile() && e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The module specifiers one file names: static imports and exports, import(), import types, require(). */
function specifiersOf(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push(node.moduleReference.expression.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The layer a path under src/ belongs to: its top-level folder, or its own name at src/'s root
 * (as the .ts source: imports name the compiled `errors.js`).
 */
function layerOf(path: string): string | null {
  const rel = relative(srcDir(), path);
  if (rel === '' || rel.startsWith('..')) return null;
  return rel.split(sep)[0]!.replace(/\.js$/, '.ts');
}

function rankOf(layer: string): number | undefined {
  return layer === ENTRY ? ENTRY_RANK : LAYERS[layer];
}

const imports: Import[] = tsFiles(srcDir()).flatMap((file) => specifiersOf(file).map((specifier) => ({ file, specifier })));
const relativeImports = imports.filter((i) => i.specifier.startsWith('./') || i.specifier.startsWith('../'));

describe('layers of src/', () => {
  it('every layer folder and the entry exist (a renamed folder would pass the check below unseen)', () => {
    for (const name of FOLDERS)
      assert.ok(existsSync(join(srcDir(), name)) && statSync(join(srcDir(), name)).isDirectory(), `src/${name}/ is missing: update LAYERS`);
    assert.ok(existsSync(join(srcDir(), ENTRY)), `src/${ENTRY} is missing`);
  });

  it('every file under src/ is in a known layer', () => {
    const unknown = tsFiles(srcDir())
      .map((file) => layerOf(file)!)
      .filter((layer) => layer !== ENTRY && LAYERS[layer] === undefined);
    assert.deepEqual([...new Set(unknown)], [], 'files outside every layer: give them a rank in LAYERS');
  });

  it('reads a plausible number of imports', () => {
    // Counted when written: 68 files, about 250 relative imports. Far fewer means the
    // scan no longer sees them (a syntax it does not read, files moved away).
    assert.ok(tsFiles(srcDir()).length >= 50, `only ${tsFiles(srcDir()).length} files under src/`);
    assert.ok(relativeImports.length >= 200, `only ${relativeImports.length} relative imports found under src/`);
    for (const layer of FOLDERS) {
      const from = relativeImports.filter((i) => layerOf(i.file) === layer);
      assert.ok(from.length > 0, `no import found in src/${layer}/`);
    }
  });

  it('no file imports an upper layer', () => {
    const offences: string[] = [];
    for (const { file, specifier } of relativeImports) {
      const from = layerOf(file)!;
      if (from === ENTRY) continue;
      const target = resolve(dirname(file), specifier);
      const to = layerOf(target);
      const where = `src/${relative(srcDir(), file).split(sep).join('/')} imports '${specifier}'`;
      if (to === null) {
        offences.push(`${where}: outside src/`);
        continue;
      }
      const fromRank = rankOf(from);
      const toRank = rankOf(to);
      if (fromRank === undefined || toRank === undefined) {
        offences.push(`${where}: ${to} has no layer`);
        continue;
      }
      const forbidden = FORBIDDEN.some(([a, b]) => a === from && b === to);
      if (toRank > fromRank || forbidden) offences.push(`${where}: ${from} (layer ${fromRank}) -> ${to} (layer ${toRank})`);
    }
    assert.deepEqual(offences, [], `imports against the layers:\n  ${offences.join('\n  ')}`);
  });

  it('within a layer, each folder imports only the folders it builds on', () => {
    // drivers/: a driver reaches another only through what they share (common/, kernel/).
    // kernel/: the native bridge knows nothing of discovery.
    const within: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
      drivers: {
        common: [],
        kernel: ['common'],
        afalg: ['common', 'kernel'],
        devcrypto: ['common', 'kernel'],
        openssl: ['common', 'kernel'],
        software: ['common'],
      },
      kernel: { bridge: [], discovery: ['bridge'] },
    };
    const offences: string[] = [];
    let checked = 0;
    for (const { file, specifier } of relativeImports) {
      const rel = relative(srcDir(), file).split(sep);
      const rules = within[rel[0]!];
      if (!rules || rel.length < 3) continue;
      const to = relative(srcDir(), resolve(dirname(file), specifier)).split(sep);
      if (to[0] !== rel[0]) continue;
      const [from, target] = [rel[1]!, to[1]!];
      assert.ok(rules[from], `src/${rel[0]}/${from}/ has no rule: add it`);
      checked++;
      if (target !== from && !rules[from].includes(target))
        offences.push(`src/${rel.join('/')} imports '${specifier}': ${from} -> ${target}`);
    }
    assert.ok(checked >= 40, `only ${checked} imports within drivers/ and kernel/ checked`);
    assert.deepEqual(offences, [], `imports across folders of one layer:\n  ${offences.join('\n  ')}`);
  });
});
