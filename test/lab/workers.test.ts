// The addon in worker_threads and at teardown on the lab's drivers: the scenarios of the unit
// test (test/unit/api/workers.test.ts: several workers at once, workers terminated with
// requests in flight, the main thread exiting with requests in flight, sessions dropped and
// collected) on a virtio-crypto card through AF_ALG, on a /dev/crypto driver (the real
// cryptodev-linux module where the lab loads one, the CUSE fixture in its passes), and on the
// kernel's CPU driver. Device requests park the addon's threads in the kernel for a card's
// whole latency: what a worker's end does to them is what this file is for.
import { describe } from 'node:test';

import { drivers, type DriverInfo } from '../../src/index.js';
import { afAlgUnavailable, IN_LAB, selectedDriver } from '../support/drivers.js';
import type { ScenarioTarget } from '../support/worker-scenarios.js';
import { workerScenarioTests } from '../support/worker-suite.js';

const CARD = 'virtio_crypto_aes_cbc';
/** Small enough for emulated CPUs, large enough that a card's requests are still in flight when a worker ends. */
const SIZES = { size: 64 * 1024, rounds: 1, sessions: 8 } as const;

interface LabCase {
  /** The driver's kcrypto name, as KCRYPTO_TEST_DRIVERS selects it. */
  label: string;
  target: ScenarioTarget;
  skip?: string;
}

function cardCase(list: readonly DriverInfo[]): LabCase {
  const label = `afalg:${CARD}`;
  const entry = list.find((d) => d.interface === 'afalg' && d.kernelDriver === CARD);
  const noAfAlg = afAlgUnavailable(list);
  // Since 7.2 AF_ALG refuses asynchronous drivers, and 7.3's af_alg_restrict refuses driver names:
  // the listing says which, and that is the reason given.
  const skip =
    noAfAlg ??
    (entry === undefined
      ? `no virtio-crypto card: ${CARD} is not registered`
      : entry.available
        ? undefined
        : `${entry.name} is out of AF_ALG's reach on this kernel: ${entry.reason ?? 'listed as unavailable'}`);
  return { label, target: { driver: entry?.name ?? label, ...SIZES }, ...(skip === undefined ? {} : { skip }) };
}

/**
 * The /dev/crypto driver of cbc(aes): a hardware one where the listing has one. Against the
 * fixture, only its cryptodev-linux ABI: what a worker's end does to a request is the addon's
 * threads and sessions, the same whichever ABI the requests speak, and the fixture passes
 * already run the rest of the suite per ABI.
 */
function devCryptoCase(list: readonly DriverInfo[]): LabCase {
  const abi = process.env['KCRYPTO_DEVCRYPTO_ABI'];
  if (abi !== undefined && abi !== 'cryptodev-linux')
    return {
      label: 'devcrypto:',
      target: { driver: 'devcrypto', ...SIZES },
      skip: `run against the cryptodev-linux ABI only: the ${abi} ABI changes the ioctls, not the threads or the teardown`,
    };
  const offered = list.filter((d) => d.interface === 'devcrypto' && d.available && d.algorithms.includes('cbc(aes)'));
  const d = offered.find((x) => x.kind === 'hardware') ?? offered[0];
  if (d) return { label: d.name, target: { driver: d.name, ...SIZES } };
  const why = list.find((x) => x.interface === 'devcrypto' && !x.available)?.reason;
  return {
    label: 'devcrypto:',
    target: { driver: 'devcrypto', ...SIZES },
    skip: `no /dev/crypto driver of cbc(aes) here (a lab run with a cryptodev module, or the fixture passes, has one)${why ? `: ${why}` : ''}`,
  };
}

function kernelCase(list: readonly DriverInfo[]): LabCase {
  const skip = afAlgUnavailable(list);
  return { label: 'kernel', target: { driver: 'kernel', ...SIZES }, ...(skip === undefined ? {} : { skip }) };
}

const list = IN_LAB ? await drivers() : [];
const cases = IN_LAB
  ? [cardCase(list), devCryptoCase(list), kernelCase(list)].filter((c) => selectedDriver(c.label))
  : [
      {
        label: 'lab drivers',
        target: { driver: 'kernel', ...SIZES },
        skip: 'runs in the lab guest (kcrypto lab), which has AF_ALG and the cards',
      },
    ];

for (const c of cases) {
  describe(`workers and teardown on ${c.label}`, () => {
    workerScenarioTests(c.target, c.skip);
  });
}
