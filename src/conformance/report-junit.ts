/**
 * The conformance report as JUnit XML, for CI: a <testsuite> per driver, a <testcase> per
 * algorithm and check. By default the document validates against both schemas CI tools
 * document the format with, Apache Ant's (JUnit.xsd) and Jenkins' (jenkins-junit.xsd): Ant's
 * has no <skipped>, so an `n/a` is not a test case there but a line in the suite's
 * <system-out> with its reason, and a property counts them. `skipped: true` writes them as
 * <skipped message="…">, which GitLab, Jenkins' plugin and most readers count, at the cost of
 * that strict validity.
 */
import { hostname as osHostname } from 'node:os';

import type { CheckResult, ConformanceReport, DriverReport, Failure } from './check.js';
import { reproducerLines } from './report-table.js';

/** How to write the document. */
export interface JunitOptions {
  /** The <testsuite hostname>; default: this machine's name (`localhost` when it has none). */
  hostname?: string;
  /** Write each `n/a` as a skipped test case (not valid under Ant's schema); default false. */
  skipped?: boolean;
}

/**
 * Text made safe for XML 1.0: the characters it cannot carry at all (C0 controls other than
 * tab, newline and carriage return, lone surrogates, U+FFFE/U+FFFF) are written as `\xNN` /
 * `\uNNNN` so the message still says what was there, and markup characters are escaped.
 */
export function xmlText(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) {
      out += c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (c === 0x26) out += '&amp;';
    else if (c === 0x3c) out += '&lt;';
    else if (c === 0x3e) out += '&gt;';
    else out += s[i]!;
  }
  return out;
}

/** An attribute value: also quotes escaped, and whitespace kept as character references (a parser would fold it). */
function attr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

/** A token attribute (names): one line, not empty (both schemas want a name). */
function token(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return attr(t === '' ? '(unnamed)' : t);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** Ant's timestamp: ISO 8601 without zone or fraction (the report's `started` is UTC). */
function timestamp(iso: string): string {
  return iso.replace(/\.\d+/, '').replace(/(Z|[+-]\d\d:\d\d)$/, '');
}

function failureBody(failures: readonly Failure[], reason: string | undefined): string {
  const lines: string[] = [];
  if (failures.length === 0 && reason !== undefined) lines.push(reason);
  for (const f of failures) {
    lines.push(f.message);
    if (f.reproducer) lines.push(...reproducerLines(f.reproducer, '  '));
  }
  return xmlText(lines.join('\n'));
}

function testcase(d: DriverReport, algorithm: string, c: CheckResult, skipped: boolean): string | undefined {
  const open = `    <testcase classname="${token(d.driver)}" name="${token(`${algorithm} ${c.check}`)}" time="${seconds(c.ms)}"`;
  if (c.status === 'pass') return `${open}/>`;
  if (c.status === 'n/a') return skipped ? `${open}>\n      <skipped message="${attr(c.reason ?? '')}"/>\n    </testcase>` : undefined;
  const message = attr(c.reason ?? c.failures[0]?.message ?? 'failed');
  return `${open}>\n      <failure message="${message}" type="conformance">${failureBody(c.failures, c.reason)}</failure>\n    </testcase>`;
}

function property(name: string, value: string): string {
  return `      <property name="${token(name)}" value="${attr(value)}"/>`;
}

function testsuite(report: ConformanceReport, d: DriverReport, id: number, host: string, skipped: boolean): string {
  const cases: string[] = [];
  const na: string[] = d.skip === undefined ? [] : [`not tested: ${d.skip}`];
  let tests = 0;
  let failures = 0;
  let skips = 0;
  for (const a of d.algorithms)
    for (const c of a.checks) {
      const t = testcase(d, a.algorithm, c, skipped);
      if (c.status === 'n/a') {
        skips++;
        na.push(`n/a ${a.algorithm} ${c.check}: ${c.reason ?? ''}`);
      }
      if (t === undefined) continue;
      cases.push(t);
      tests++;
      if (c.status === 'fail') failures++;
    }
  const props = [
    property('kcrypto', report.kcrypto),
    property('depth', report.depth),
    property('kernel', report.host.kernel),
    property('machine', report.host.machine),
    property('node', report.host.node),
    property('not-applicable', String(skips)),
    ...(d.kernelDriver !== undefined ? [property('kernelDriver', d.kernelDriver)] : []),
    ...(d.skip !== undefined ? [property('skip', d.skip)] : []),
  ];
  const out = [...(d.skip !== undefined ? [`not tested: ${d.skip}`] : []), ...na].join('\n');
  return [
    `  <testsuite name="${token(d.driver)}" tests="${tests}" failures="${failures}" errors="0"${skipped ? ` skipped="${skips}"` : ''}` +
      ` time="${seconds(d.ms)}" timestamp="${timestamp(report.started)}" hostname="${token(host)}" id="${id}" package="kcrypto.conformance">`,
    '    <properties>',
    ...props,
    '    </properties>',
    ...cases,
    `    <system-out>${xmlText(out)}</system-out>`,
    '    <system-err></system-err>',
    '  </testsuite>',
  ].join('\n');
}

/** The report as a JUnit XML document (UTF-8, newline-terminated). */
export function formatJunit(report: ConformanceReport, options: JunitOptions = {}): string {
  const host = options.hostname ?? (osHostname() || 'localhost');
  const suites = report.drivers.map((d, i) => testsuite(report, d, i, host, options.skipped === true));
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites>', ...suites, '</testsuites>', ''].join('\n');
}
