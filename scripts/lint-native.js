// Checks that the C++ (native/, the CUSE fixture test/fixtures/cuse-devcrypto/ and the fuzz
// harnesses test/fuzz/) is formatted as .clang-format says: `npm run lint:native`. Skips,
// saying so, where clang-format is missing (scripts/install-lab-packages installs it).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['native', 'test/fixtures/cuse-devcrypto', 'test/fuzz'];
const binary = process.env.CLANG_FORMAT ?? 'clang-format';

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(cc|h)$/.test(e.name) ? [path] : [];
  });
}

const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) {
  console.log(`lint:native: skipped, ${binary} is not installed (Debian: apt-get install clang-format)`);
  process.exit(0);
}
const files = roots.flatMap(sources).sort();
const r = spawnSync(binary, ['--dry-run', '--Werror', ...files], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    `lint:native: ${binary} would reformat the files above; run: ${binary} -i ${roots.map((d) => `$(find ${d} -name '*.cc' -o -name '*.h')`).join(' ')}`,
  );
  process.exit(r.status ?? 1);
}
console.log(`lint:native: ${files.length} files formatted as .clang-format says`);
