// Hand-built conformance reports for the report formats' tests: every status, odd characters
// in names and messages, reproducers short and long.
import type { Check, ConformanceReport } from '../../src/conformance/check.js';

/** A report with pass, fail and n/a, a skipped driver, and text XML and terminals must survive. */
export function sampleReport(): ConformanceReport {
  const long = 'ab'.repeat(5000);
  return {
    format: 1,
    kcrypto: '0.1.0',
    host: { kernel: '6.12.0-test', machine: 'x86_64', node: 'v20.0.0' },
    depth: 'quick',
    started: '2026-12-07T12:00:00.123Z',
    ms: 4321,
    drivers: [
      {
        driver: 'afalg:cbc-aes-<odd>&"drv"',
        kernelDriver: 'cbc-aes-<odd>',
        algorithms: [
          {
            algorithm: 'cbc(aes)',
            checks: [
              { check: 'vectors', status: 'pass', counts: { valid: 12, 'invalid refused': 3 }, failures: [], ms: 15 },
              {
                check: 'differential',
                status: 'fail',
                reason: '2 failure(s): ciphertext differs <at> byte 0 & "more"',
                counts: { sizes: 14 },
                failures: [
                  {
                    message: 'ciphertext differs <at> byte 0 & "more"\u0000\u0007 bell, \ud800 lone surrogate, \uffff',
                    reproducer: {
                      algorithm: 'cbc(aes)',
                      operation: 'encrypt',
                      key: '000102030405060708090a0b0c0d0e0f',
                      iv: 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
                      data: long,
                      expected: '7649abac8119b246cee98e9b12e9197d',
                      got: '00000000000000000000000000000000',
                    },
                  },
                  { message: 'second: no reproducer ]]> <![CDATA[' },
                ],
                ms: 40,
              },
              { check: 'misuse', status: 'n/a', reason: 'no state to copy', counts: {}, failures: [], ms: 0 },
            ],
          },
          {
            algorithm: 'gcm(aes)',
            checks: [
              { check: 'vectors', status: 'pass', counts: { valid: 7 }, failures: [], ms: 9 },
              {
                check: 'differential',
                status: 'fail',
                reason: '1 failure(s): tag mismatch',
                counts: {},
                failures: [
                  {
                    message: 'tag mismatch',
                    reproducer: {
                      algorithm: 'gcm(aes)',
                      operation: 'decrypt',
                      key: '00'.repeat(16),
                      iv: '00'.repeat(12),
                      aad: 'feedface',
                      tag: '11'.repeat(16),
                      tagLength: 16,
                      data: '',
                      got: 'EBADMSG bad message',
                    },
                  },
                ],
                ms: 3,
              },
              { check: 'misuse', status: 'n/a', reason: 'no state to copy', counts: {}, failures: [], ms: 0 },
            ],
          },
        ],
        ms: 2100,
      },
      {
        driver: 'afalg:cbc(aes-generic)',
        kernelDriver: 'cbc(aes-generic)',
        skip: 'AF_ALG unavailable on this machine: no socket',
        algorithms: [
          {
            algorithm: 'cbc(aes)',
            checks: ['vectors', 'differential', 'misuse'].map((check) => ({
              check,
              status: 'n/a' as const,
              reason: 'AF_ALG unavailable on this machine: no socket',
              counts: {},
              failures: [],
              ms: 0,
            })),
          },
        ],
        ms: 0,
      },
    ],
    totals: { pass: 2, fail: 2, 'n/a': 5 },
  };
}

/**
 * A check for the command's tests: passes, except that it fails on `cbc(aes)` when `fail` is
 * set, and does not apply to hashes.
 */
export function testCheck(id = 'probe', fail = false): Check {
  return {
    id,
    title: 'a check for tests',
    notApplicable: (family) => (family.kind === 'hash' ? 'not for hashes in this test' : undefined),
    run: async (ctx) => {
      ctx.count('cases', 2);
      ctx.progress(1, 1);
      if (fail && ctx.family.kernelName === 'cbc(aes)')
        ctx.fail({
          message: 'deliberate',
          reproducer: { algorithm: 'cbc(aes)', operation: 'encrypt', data: '00', expected: '01', got: '02' },
        });
      await Promise.resolve();
    },
  };
}
