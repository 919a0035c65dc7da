// Builds the CommonJS entry point (dist/cjs/index.cjs) from the TypeScript sources, so that
// require('kcrypto') works alongside import. esbuild bundles the ESM sources into one CJS file;
// import.meta.url, which CommonJS lacks, is replaced by the bundle's own file URL.
import { build } from 'esbuild';
import { writeFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/cjs', { recursive: true });
await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/cjs/index.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  define: { 'import.meta.url': '__kcrypto_import_meta_url' },
  banner: { js: "const __kcrypto_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// Types for require() users: the ESM declarations describe the same exports.
writeFileSync('dist/cjs/index.d.cts', "export * from '../esm/src/index.js';\n");
