// Discovery against a real /proc/crypto (captured from a 6.18 kernel built without AF_ALG):
// every record parsed, nothing reachable, and each driver says why.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { discoverKernel } from '../../../../src/kernel/discovery/discover.js';
import { packageRoot } from '../../../support/package-root.js';

const text = readFileSync(`${packageRoot()}/test/fixtures/proc-crypto-6.18-no-afalg.txt`, 'utf8');
const linux = { EAFNOSUPPORT: 97, ENOENT: 2, EINVAL: 22, EPERM: 1, EACCES: 13, ENAMETOOLONG: 36 };
const noAfAlg = { probeAfAlg: () => 97, probeBind: () => 97, errnoTable: () => linux };

describe('discovery on a real 6.18 /proc/crypto without AF_ALG', () => {
  it('parses every record, classifies lskcipher as reachable through skcipher sockets in principle, and reports why not here', async () => {
    const records = text.split(/\n\s*\n/).filter((b) => /^name\s*:/m.test(b)).length;
    const r = await discoverKernel(noAfAlg, { procCryptoText: text, modprobeFiles: [], cmdline: '' });
    assert.equal(r.drivers.length, records);
    assert.equal(r.afalg.available, false);
    assert.match(r.afalg.reason ?? '', /CONFIG_CRYPTO_USER_API|AF_ALG/);
    const cbc = r.drivers.find((d) => d.name === 'cbc(aes)');
    assert.ok(cbc, 'cbc(aes) listed');
    assert.equal(cbc.afalgType, 'skcipher');
    assert.ok(r.drivers.every((d) => !d.reachable && typeof d.reason === 'string' && d.reason.length > 0));
  });
});
