// Many requests in flight, on every driver of every algorithm: the conformance kit's
// 'concurrency' check, as `kcrypto conformance` runs it. On one session and across sessions
// with keys of their own, under each execution policy of an engine driver, every request must
// come back as node:crypto computes it (no request gets another's key, IV, data or output,
// whichever pool socket or thread served it), and the AEAD decryptions with a tampered tag
// among them must reject with EBADMSG, and only those. Everything this file checked before
// (64 AES-CBC requests on one session, 64 AEAD decryptions with 8 tampered tags, per
// execution policy) is part of that check.
import { concurrencyCheck } from '../../src/conformance/checks/concurrency.js';
import { itCheck } from '../support/check-case.js';
import { describeDrivers, driverCases } from '../support/drivers.js';
import { FAMILIES } from '../support/families.js';

for (const f of FAMILIES) describeDrivers(f, await driverCases(f), (c, options) => itCheck(concurrencyCheck, f, c, options));
