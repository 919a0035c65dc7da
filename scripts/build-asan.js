// Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/, for
// running the test suites under the sanitizers (KCRYPTO_ADDON points the loader at it).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, renameSync } from 'node:fs';

const gyp = ['node-gyp', 'rebuild', '--', '-Dkcrypto_sanitize=1'];
// node-gyp always writes build/; build the sanitized addon there, move it aside, then restore
// the normal build so both exist.
const r = spawnSync('npx', gyp, { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
rmSync('build-asan', { recursive: true, force: true });
renameSync('build', 'build-asan');
const n = spawnSync('npx', ['node-gyp', 'rebuild'], { stdio: 'inherit' });
if (n.status !== 0 || !existsSync('build-asan/Release/kcrypto.node')) process.exit(n.status ?? 1);
