// npm's install step: nothing to do when an addon for this host already loads (the prebuilt
// binary shipped in prebuilds/ for this platform, architecture and C library, or an earlier
// build); otherwise the addon is compiled, through scripts/node-gyp.js so that the local
// Node.js headers are used. This is node-gyp-build's install mode, except that its own
// fallback runs plain node-gyp, which downloads headers.
//
// `npm install kcrypto --build-from-source` (or npm_config_build_from_source=true) compiles
// even where a prebuilt binary fits.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nodeGyp } from './node-gyp.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Whether an addon for this host loads, tried in a child process (a crash there is a no). */
function addonLoads() {
  const script = `require(require.resolve('node-gyp-build', { paths: [process.argv[1]] }))(process.argv[1])`;
  const r = spawnSync(process.execPath, ['-e', script, root], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    // node prints the source line first, then "Error: No native build was found for …".
    const why = (r.stderr || '').split('\n').find((l) => /^[A-Za-z]*Error: /.test(l)) ?? `exit ${r.status ?? r.signal}`;
    console.error(`kcrypto: no prebuilt addon loads here (${why.trim()}); building it from source`);
  }
  return r.status === 0;
}

const fromSource = process.env.npm_config_build_from_source === 'true';
if (fromSource || !addonLoads()) process.exit(nodeGyp(['rebuild']));
