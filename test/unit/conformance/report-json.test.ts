// The JSON report: fields in a fixed order, and a document read back equals the report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatJson, parseReport } from '../../../src/conformance/report-json.js';
import { sampleReport } from '../../support/conformance-report.js';

describe('conformance JSON report', () => {
  it('round-trips: parse(format(report)) equals the report, and formats the same again', () => {
    const report = sampleReport();
    const text = formatJson(report);
    const back = parseReport(text);
    assert.deepEqual(back, report);
    assert.equal(formatJson(back), text);
    assert.ok(text.endsWith('}\n'));
  });

  it('writes fields in the same order whatever order they were built in', () => {
    const report = sampleReport();
    const shuffled = JSON.parse(JSON.stringify(report), function (this: unknown, _k, v: unknown) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
      return Object.fromEntries(Object.entries(v).reverse());
    }) as typeof report;
    assert.equal(formatJson(shuffled), formatJson(report));
    assert.deepEqual(Object.keys(JSON.parse(formatJson(shuffled)) as object), [
      'format',
      'kcrypto',
      'host',
      'depth',
      'started',
      'ms',
      'drivers',
      'totals',
    ]);
  });

  it('refuses a document of the wrong shape, naming the field', () => {
    const bad = (mutate: (r: Record<string, unknown>) => void, field: RegExp): void => {
      const r = JSON.parse(formatJson(sampleReport())) as Record<string, unknown>;
      mutate(r);
      assert.throws(
        () => parseReport(JSON.stringify(r)),
        (err: Error) => err instanceof TypeError && field.test(err.message),
      );
    };
    bad((r) => (r['format'] = 2), /report\.format/);
    bad((r) => delete r['host'], /report\.host/);
    bad(
      (r) => ((r['drivers'] as { algorithms: { checks: { status: string }[] }[] }[])[0]!.algorithms[0]!.checks[0]!.status = 'ok'),
      /drivers\[0\]\.algorithms\[0\]\.checks\[0\]\.status/,
    );
    bad(
      (r) =>
        ((
          r['drivers'] as { algorithms: { checks: { failures: { reproducer: { operation: string } }[] }[] }[] }[]
        )[0]!.algorithms[0]!.checks[1]!.failures[0]!.reproducer.operation = 'sign'),
      /reproducer\.operation/,
    );
    bad((r) => ((r['totals'] as Record<string, unknown>)['n/a'] = -1), /totals\.n\/a/);
    assert.throws(() => parseReport('{'), SyntaxError);
  });
});
