// kcrypto's subtle against Node's crypto.subtle (see test/support/webcrypto.ts) on the default
// driver choice, the software driver and the addon's openssl driver.
import { createSubtle, openSession, subtle } from '../../../src/index.js';
import { describeDifferential } from '../../support/webcrypto.js';

/** Why the openssl driver cannot serve here, or undefined when it can. */
async function opensslMissing(): Promise<string | undefined> {
  try {
    await (await openSession({ hash: 'sha256' }, { driver: 'openssl' })).close();
    return undefined;
  } catch (err) {
    return `the openssl driver does not open here: ${(err as Error).message}`;
  }
}

describeDifferential({ label: 'the default driver (fastest)', subtle: subtle });
describeDifferential({ label: 'software', subtle: createSubtle({ driver: 'software' }), countedOn: 'software' });
describeDifferential({
  label: 'openssl',
  subtle: createSubtle({ driver: 'openssl' }),
  skip: await opensslMissing(),
  // The openssl driver serves AES-CBC/CTR/ECB/XTS, the hashes and HMAC: no GCM.
  unserved: ['AES-GCM'],
  countedOn: 'openssl',
});
