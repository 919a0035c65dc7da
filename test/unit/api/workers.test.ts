// The addon in worker_threads and at teardown, on the host's openssl driver (the lab runs the
// same scenarios on device drivers: test/lab/workers.test.ts): several workers at once, workers
// terminated with requests in flight on the addon's threads, the main thread exiting with
// requests in flight, sessions dropped without close(). Each case runs in a child process, so
// that a crash is a failed exit status here, not the end of the test runner.
import { describe } from 'node:test';

import { openSession } from '../../../src/index.js';
import { workerScenarioTests } from '../../support/worker-suite.js';

/** Why the addon's openssl driver cannot serve here, or undefined when it can. */
async function opensslMissing(): Promise<string | undefined> {
  try {
    await (await openSession({ cipher: 'aes-128-cbc', key: Buffer.alloc(16) }, { driver: 'openssl' })).close();
    return undefined;
  } catch (err) {
    return `the openssl driver does not open here: ${(err as Error).message}`;
  }
}

const missing = await opensslMissing();
describe('workers and teardown (openssl driver)', () => {
  workerScenarioTests({ driver: 'openssl', size: 1 << 20, rounds: 5, sessions: 200 }, missing);
});
