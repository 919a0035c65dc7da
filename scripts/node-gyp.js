// Runs node-gyp (npm's install step, build:native, build:asan) with the headers of the Node.js
// that runs it when they are installed beside it (<prefix>/include/node, where Debian's and
// NodeSource's packages put them), so that building needs no download of headers: on a machine
// that reaches only package registries, node-gyp's own download fails for every user whose npm
// configuration names no nodedir. Elsewhere, or with a nodedir configured, node-gyp decides.
//
//     node scripts/node-gyp.js rebuild [-- -Dvariable=value ...]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The node-gyp arguments for `args`, with the local headers named where they exist. */
export function nodeGypArgs(args, env = process.env, execPath = process.execPath) {
  const prefix = dirname(dirname(execPath));
  const headers = join(prefix, 'include', 'node');
  const local = existsSync(join(headers, 'node_api.h')) && existsSync(join(headers, 'node_version.h'));
  if (env.npm_config_nodedir || !local || args.some((a) => a.startsWith('--nodedir'))) return args;
  const at = args.indexOf('--');
  return at < 0 ? [...args, `--nodedir=${prefix}`] : [...args.slice(0, at), `--nodedir=${prefix}`, ...args.slice(at)];
}

/** Runs node-gyp with `args`; returns its exit status. */
export function nodeGyp(args) {
  const bin = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  const r = spawnSync(process.execPath, [bin, ...nodeGypArgs(args)], { stdio: 'inherit' });
  return r.status ?? 1;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) process.exit(nodeGyp(process.argv.slice(2)));
