// The route table's file is this user's alone, written whole, and set aside (the table then
// measured again) when it is not plainly what kcrypto wrote: each way a file can be corrupt or
// planted, one case.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { MAX_FILE_BYTES } from '../../../src/framework/route-cache-file.js';
import { RouteTable, ROUTE_SIZES } from '../../../src/framework/route-table.js';

const root = mkdtempSync(join(tmpdir(), 'kcrypto-route-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const dir = join(root, `d${n++}`, 'kcrypto');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, 'routes.json');
};

const bySize = (v: number): Record<string, number> => Object.fromEntries(ROUTE_SIZES.map((s) => [String(s), v]));
/** A table as kcrypto writes it, with one entry for `driver`. */
function good(driver = 'software'): Record<string, unknown> {
  return { [`${release()}|${driver}|11/128`]: { time: bySize(1000), cpu: bySize(900), measuredAt: Date.now(), method: 4 } };
}

/** Writes `content` (an object: JSON; a string: as it is) and says what the table made of it. */
function load(content: unknown, mode = 0o600, file = fresh()): { table: RouteTable; file: string } {
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content), { mode });
  chmodSync(file, mode);
  return { table: new RouteTable(file), file };
}

function assertSetAside(table: RouteTable, reason: RegExp): void {
  assert.equal(table.get('software', '11/128'), undefined, 'nothing of the file is used');
  assert.match(table.rejected ?? '', reason);
  // Measured again: what is set now is what get() answers, and the file is replaced whole.
  table.set('software', '11/128', { time: ROUTE_SIZES.map(() => 5), cpu: ROUTE_SIZES.map(() => 6) });
  assert.deepEqual(
    table.get('software', '11/128')?.time,
    ROUTE_SIZES.map(() => 5),
  );
}

describe('route table file: written for this user only', () => {
  it('creates the directory 0700 and the file 0600, through a temporary file renamed over it', () => {
    const dir = join(root, 'new', 'kcrypto');
    const file = join(dir, 'routes.json');
    new RouteTable(file).set('software', '5/0', { time: ROUTE_SIZES.map(() => 1), cpu: ROUTE_SIZES.map(() => 1) });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['routes.json'], 'no temporary file left behind');
    assert.deepEqual(
      new RouteTable(file).get('software', '5/0')?.cpu,
      ROUTE_SIZES.map(() => 1),
    );
  });

  it('tightens a kcrypto directory of its own that is open to others', () => {
    const dir = join(root, 'loose', 'kcrypto');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    new RouteTable(join(dir, 'routes.json')).set('software', '2/0', { time: ROUTE_SIZES.map(() => 1), cpu: ROUTE_SIZES.map(() => 1) });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it('uses a file it wrote', () => {
    const { table } = load(good());
    assert.deepEqual(
      table.get('software', '11/128')?.time,
      ROUTE_SIZES.map(() => 1000),
    );
    assert.equal(table.rejected, undefined);
  });
});

describe('route table file: set aside and measured again when it cannot be trusted', () => {
  it('not JSON', () => assertSetAside(load('{"truncated": ').table, /not valid JSON/));
  it('JSON of the wrong shape', () => assertSetAside(load([1, 2, 3]).table, /not a JSON object/));
  it('an entry of the wrong type', () => assertSetAside(load({ [`${release()}|software|11/128`]: 'fast' }).table, /not an object/));
  it('figures of the wrong type', () => {
    const t = good();
    (Object.values(t)[0] as { time: unknown }).time = { ...bySize(1), 64: '1' };
    assertSetAside(load(t).table, /bad time/);
  });
  for (const [what, v] of [
    ['negative', -1],
    ['NaN (as null)', null],
    ['huge', 1e300],
  ] as const) {
    it(`a ${what} cost`, () => {
      const t = good();
      (Object.values(t)[0] as { cpu: Record<string, unknown> }).cpu['4096'] = v;
      assertSetAside(load(t).table, /bad cpu/);
    });
  }
  it('a size it does not measure', () => {
    const t = good();
    (Object.values(t)[0] as { time: Record<string, unknown> }).time['1'] = 1;
    assertSetAside(load(t).table, /bad time/);
  });
  it('a time in the future', () => {
    const t = good();
    (Object.values(t)[0] as { measuredAt: number }).measuredAt = Date.now() + 365 * 24 * 3600 * 1000;
    assertSetAside(load(t).table, /measuredAt/);
  });
  it('a driver name no kcrypto driver has', () => assertSetAside(load(good('../../etc/passwd\n')).table, /unknown driver/));
  it('a malformed key', () => assertSetAside(load({ nonsense: Object.values(good())[0] }).table, /malformed key/));
  it('a file writable by group or others', () => assertSetAside(load(good(), 0o666).table, /writable by group or others/));
  it('a symbolic link (to a file that would otherwise pass)', () => {
    const target = fresh();
    writeFileSync(target, JSON.stringify(good()), { mode: 0o600 });
    const file = fresh();
    symlinkSync(target, file);
    assertSetAside(new RouteTable(file), /symbolic link/);
  });
  it('an oversized file', () => {
    const t = good();
    const padded = JSON.stringify(t).replace(/^\{/, `{${' '.repeat(MAX_FILE_BYTES)}`);
    assertSetAside(load(padded).table, /more than/);
  });
  it('a file owned by another user', { skip: process.getuid?.() !== 0 ? 'needs root to give a file to another user' : false }, async () => {
    const { chownSync } = await import('node:fs');
    const file = fresh();
    writeFileSync(file, JSON.stringify(good()), { mode: 0o600 });
    chownSync(file, 65534, 65534);
    assertSetAside(new RouteTable(file), /owned by uid 65534/);
  });
  it('a directory others can write without the sticky bit', () => {
    const file = fresh();
    writeFileSync(file, JSON.stringify(good()), { mode: 0o600 });
    chmodSync(join(file, '..'), 0o777);
    const table = new RouteTable(file);
    assert.equal(table.get('software', '11/128'), undefined);
    assert.match(table.rejected ?? '', /without the sticky bit/);
  });
});
