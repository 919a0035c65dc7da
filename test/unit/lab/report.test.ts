// How the host reads the guest's report of the command's end, and ends a guest that reported
// but did not power off.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { guestKernelFaults, readGuestReport, ReportWatch, type GuestReport } from '../../../src/lab/guest-report.js';
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

  it('finds the faults the guest kernel reported, and where the first hit', () => {
    // As a 6.12 guest printed them when a request went to a removed virtio-crypto card.
    const console = [
      'kcrypto-lab [13.30 s]: running the command',
      '[   45.989582] Oops: general protection fault, probably for non-canonical address 0xc0989d64b3fcb14: 0000 [#1] PREEMPT SMP NOPTI',
      '[   45.990378] CPU: 1 UID: 0 PID: 387 Comm: node Tainted: G        W          6.12.118+deb12-amd64 #1  Debian 6.12.118-1~deb12u1',
      '[   45.995360] RIP: 0010:_raw_spin_lock_irqsave+0x27/0x50',
      '[   46.004871] Call Trace:',
      '[   46.004949]  <TASK>',
      '[   46.005038]  ? die_addr+0x33/0x90',
      '[   46.005038]  crypto_transfer_request.constprop.0+0x1d/0x80 [crypto_engine]',
      '[   46.005338]  skcipher_recvmsg+0x179/0x400 [algif_skcipher]',
      '[   46.031139] Oops: general protection fault, probably for non-canonical address 0xc0989d64b3fcb14: 0000 [#2] PREEMPT SMP NOPTI',
      '[   83.959591] Fixing recursive fault but reboot is needed!',
      '[  120.100000] INFO: task node:307 blocked for more than 120 seconds.',
      '[  121.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [node:307]',
    ].join('\r\n');
    assert.deepEqual(guestKernelFaults(console), {
      count: 3,
      first:
        'Oops: general protection fault, probably for non-canonical address 0xc0989d64b3fcb14: 0000 [#1] PREEMPT SMP NOPTI ' +
        'at _raw_spin_lock_irqsave+0x27/0x50 from crypto_transfer_request.constprop.0+0x1d/0x80 [crypto_engine]',
    });
    assert.equal(
      guestKernelFaults('[    0.000000] Linux version 6.12\nKCRYPTO-LAB-EXIT 0\nBUG: not at line start of a kernel message\n'),
      undefined,
    );
  });
});
