// How the host reads the guest's report of the command's end, and ends a guest that reported
// but did not power off.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { readGuestReport, ReportWatch, type GuestReport } from '../../../src/lab/guest-report.js';
import { EXIT_MARKER, SHARE_FILES } from '../../../src/lab/scripts.js';

describe('lab guest report', () => {
  let share: string;
  beforeEach(() => {
    share = fs.mkdtempSync(path.join(os.tmpdir(), 'kcrypto-share-'));
  });
  afterEach(() => {
    fs.rmSync(share, { recursive: true, force: true });
  });
  const write = (name: string, text: string): void => fs.writeFileSync(path.join(share, name), text);

  it('has no report before the guest writes one', () => {
    assert.equal(readGuestReport(share, 'booting\n'), undefined);
  });

  it('prefers the status file, then the command verdict, then the console marker', () => {
    assert.deepEqual(readGuestReport(share, `${EXIT_MARKER} 7\n`), { status: 7, source: 'console' });
    write(SHARE_FILES.verdict, '1\n');
    assert.deepEqual(readGuestReport(share, `${EXIT_MARKER} 7\n`), { status: 1, source: 'verdict' });
    write(SHARE_FILES.status, '0\n');
    assert.deepEqual(readGuestReport(share, `${EXIT_MARKER} 7\n`), { status: 0, source: 'status' });
  });

  it('ignores a status file that is empty or holds anything but a status', () => {
    write(SHARE_FILES.status, '');
    write(SHARE_FILES.verdict, 'oops');
    assert.equal(readGuestReport(share, ''), undefined);
  });

  it('ends a guest that reported but did not power off, once, after the grace', async () => {
    const overdue: GuestReport[] = [];
    const watch = new ReportWatch(
      share,
      () => '',
      (r) => overdue.push(r),
      50,
    );
    watch.poll();
    assert.equal(watch.reportedAtMs, undefined);
    write(SHARE_FILES.verdict, '0\n');
    watch.poll();
    assert.ok(watch.reportedAtMs !== undefined);
    // Stage 2's status arriving within the grace is what the host reports.
    write(SHARE_FILES.status, '3\n');
    await new Promise((r) => setTimeout(r, 120));
    watch.poll();
    assert.deepEqual(overdue, [{ status: 3, source: 'status' }]);
    watch.stop();
  });

  it('does nothing once QEMU ended by itself', async () => {
    const overdue: GuestReport[] = [];
    const watch = new ReportWatch(
      share,
      () => `${EXIT_MARKER} 0\n`,
      (r) => overdue.push(r),
      30,
    );
    watch.poll();
    watch.stop();
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(overdue, []);
  });
});
