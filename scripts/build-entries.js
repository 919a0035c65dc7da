// Builds the package's entry points from the TypeScript sources. require('kcrypto') loads a
// CommonJS bundle (dist/cjs/index.cjs): esbuild bundles the ESM sources into one CJS file, with
// import.meta.url, which CommonJS lacks, replaced by the bundle's own file URL. import 'kcrypto'
// loads dist/esm/index.js, which re-exports that same bundle: a process that loads kcrypto both
// ways then has one copy of it (one framework, one set of drivers, one owner of the addon's
// completion handler), not two copies sharing one native addon.
import { build } from 'esbuild';
import { writeFileSync, mkdirSync } from 'node:fs';

const common = {
  entryPoints: ['src/index.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
};

mkdirSync('dist/cjs', { recursive: true });
await build({
  ...common,
  outfile: 'dist/cjs/index.cjs',
  format: 'cjs',
  sourcemap: true,
  define: { 'import.meta.url': '__kcrypto_import_meta_url' },
  banner: { js: "const __kcrypto_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});
// Types for require() users: the ESM declarations describe the same exports.
writeFileSync('dist/cjs/index.d.cts', "export * from '../esm/src/index.js';\n");

// The names src/index.ts exports at run time, as esbuild sees them (types have none).
const { metafile } = await build({ ...common, format: 'esm', write: false, metafile: true, outdir: 'dist/esm' });
const names = Object.values(metafile.outputs).flatMap((o) => o.exports);
if (names.length === 0) throw new Error('build-entries: src/index.ts exports nothing?');
mkdirSync('dist/esm', { recursive: true });
writeFileSync(
  'dist/esm/index.js',
  [
    '// The ESM entry point: the CommonJS build itself, so that import and require share one copy.',
    "import kcrypto from '../cjs/index.cjs';",
    '',
    `export const { ${[...names].sort().join(', ')} } = kcrypto;`,
    '',
  ].join('\n'),
);
