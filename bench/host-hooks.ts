// The environment the host benchmark needs before anything loads the addon or the framework:
// host.ts imports this module first.
//
// The addon exports its loopback engine only when KCRYPTO_TEST_HOOKS=1 is in the environment as
// it loads. The hooks add exports only; the drivers the default session uses are the same with
// or without them.
//
// The default session routes each request by the route table, which is measured once and kept
// on disk: a table measured by another build, or on a busier day, would decide this run's
// figures. Unless KCRYPTO_ROUTE_CACHE names a table, the run measures its own, in a fresh file.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env['KCRYPTO_TEST_HOOKS'] = '1';
export const freshRoutes = !process.env['KCRYPTO_ROUTE_CACHE'];
if (freshRoutes) process.env['KCRYPTO_ROUTE_CACHE'] = join(mkdtempSync(join(tmpdir(), 'kcrypto-routes-')), 'routes.json');
