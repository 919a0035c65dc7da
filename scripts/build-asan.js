// Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/, for
// running the test suites under the sanitizers (KCRYPTO_ADDON points the loader at it).
import { existsSync, rmSync, renameSync } from 'node:fs';

import { nodeGyp } from './node-gyp.js';

// node-gyp always writes build/; build the sanitized addon there, move it aside, then restore
// the normal build so both exist.
const r = nodeGyp(['rebuild', '--', '-Dkcrypto_sanitize=1']);
if (r !== 0) process.exit(r);
rmSync('build-asan', { recursive: true, force: true });
renameSync('build', 'build-asan');
const n = nodeGyp(['rebuild']);
if (n !== 0 || !existsSync('build-asan/Release/kcrypto.node')) process.exit(n || 1);
