// The text report: a table per driver within 100 columns, n/a reasons once, failures with
// the bytes that replay them, and the closing totals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatTable, summaryLine } from '../../../src/conformance/report-table.js';
import { sampleReport } from '../../support/conformance-report.js';

describe('conformance text report', () => {
  const text = formatTable(sampleReport());
  const lines = text.split('\n');

  it('a table of algorithms by checks, pass / FAIL / n/a', () => {
    assert.match(text, /^ {2}algorithm +vectors +differential +misuse$/m);
    assert.match(text, /^ {2}cbc\(aes\) +pass +FAIL +n\/a$/m);
    assert.match(text, /^ {2}gcm\(aes\) +pass +FAIL +n\/a$/m);
  });

  it('each n/a reason once, with the cells it covers', () => {
    assert.equal(text.match(/n\/a: no state to copy/g)?.length, 1);
    assert.match(text, /^ {6}misuse: every algorithm$/m);
  });

  it('failures with their reproducers, hex wrapped at 64 bytes and capped at 4 KiB', () => {
    assert.match(text, /^ {2}FAIL cbc\(aes\) differential: 2 failure\(s\)/m);
    assert.match(text, /^ {6}algorithm=cbc\(aes\) operation=encrypt$/m);
    assert.match(text, /^ {6}key=000102030405060708090a0b0c0d0e0f$/m);
    assert.match(text, /^ {6}data=(ab){64}$/m);
    assert.match(text, /^ {11}(ab){64}$/m);
    assert.equal(lines.filter((l) => /^ {6}(data=| {5})(ab)+$/.test(l)).length, 4096 / 64);
    assert.match(text, /5000 bytes in all, the first 4096 shown; --json keeps every byte/);
    assert.match(text, /^ {6}aad=feedface$/m);
    assert.match(text, /^ {6}algorithm=gcm\(aes\) operation=decrypt tagLength=16$/m);
    assert.match(text, /^ {6}data=$/m);
    assert.match(text, /^ {6}got=EBADMSG bad message$/m);
  });

  it('a driver not tested says why instead of a table of n/a', () => {
    assert.match(text, /^afalg:cbc\(aes-generic\)$/m);
    assert.match(text, /^ {2}not tested: AF_ALG unavailable on this machine: no socket$/m);
  });

  it('counts and time per driver, and the closing line', () => {
    assert.match(text, /^ {2}cases: valid 19, invalid refused 3, sizes 14$/m);
    assert.match(text, /^ {2}2 algorithms: 2 pass, 2 fail, 2 n\/a in 2\.1 s$/m);
    assert.equal(lines.at(-2), '2 drivers, 2 algorithms: 2 pass, 2 fail, 5 n/a in 4.3 s');
    assert.equal(summaryLine(sampleReport()), lines.at(-2));
  });

  it('readable at 100 columns: only hex lines of a reproducer run longer', () => {
    for (const l of lines) if (!/^ {6}(\w+=| +)[0-9a-f]*$/.test(l)) assert.ok(l.length <= 100, l);
  });

  it('splits the check columns over several tables when they do not fit', () => {
    const report = sampleReport();
    const ids = Array.from({ length: 9 }, (_, i) => `a-rather-long-check-${i}`);
    report.drivers = [
      {
        driver: 'software',
        algorithms: [
          { algorithm: 'cbc(aes)', checks: ids.map((check) => ({ check, status: 'pass' as const, counts: {}, failures: [], ms: 1 })) },
        ],
        ms: 9,
      },
    ];
    const t = formatTable(report);
    for (const l of t.split('\n')) assert.ok(l.length <= 100, l);
    assert.ok((t.match(/^ {2}algorithm /gm)?.length ?? 0) >= 2);
    for (const id of ids) assert.ok(t.includes(id));
  });
});

describe('conformance text report: terminal safety', () => {
  it('writes control characters of messages as \\xNN', () => {
    const text = formatTable(sampleReport());
    assert.match(text, /differs <at> byte 0 & "more"\\x00\\x07 bell/);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f]/);
  });
});
