/**
 * The drivers the property and in-flight lab files run on, as workers.test.ts picks its own:
 * the CPU's AES-CBC driver through AF_ALG (cbc-aes-aesni), the virtio-crypto card through AF_ALG
 * where the kernel lets AF_ALG reach it, the software driver, and the /dev/crypto driver of
 * cbc(aes) (the CUSE fixture in the fixture passes, which set KCRYPTO_TEST_DRIVERS=devcrypto:).
 */
import { drivers, type DriverInfo } from '../../src/index.js';
import { afAlgUnavailable, IN_LAB, selectedDriver } from './drivers.js';

/** One driver of a lab file. */
export interface LabTarget {
  /** openSession's driver option, and the name KCRYPTO_TEST_DRIVERS selects by. */
  driver: string;
  /** A kernel driver (its requests go through the addon). */
  kernel: boolean;
  skip?: string;
}

const CARD = 'virtio_crypto_aes_cbc';

function afalgTarget(list: readonly DriverInfo[], match: (d: DriverInfo) => boolean, what: string): LabTarget {
  const entry = list.find((d) => d.interface === 'afalg' && match(d));
  const noAfAlg = afAlgUnavailable(list);
  const skip =
    noAfAlg ??
    (entry === undefined
      ? `no ${what} is registered here`
      : entry.available
        ? undefined
        : `${entry.name} is out of AF_ALG's reach on this kernel: ${entry.reason ?? 'listed as unavailable'}`);
  return { driver: entry?.name ?? `afalg:${what}`, kernel: true, ...(skip === undefined ? {} : { skip }) };
}

function devCryptoTarget(list: readonly DriverInfo[]): LabTarget {
  const offered = list.filter((d) => d.interface === 'devcrypto' && d.available && d.algorithms.includes('cbc(aes)'));
  const d = offered.find((x) => x.kind === 'hardware') ?? offered[0];
  if (d) return { driver: d.name, kernel: true };
  return {
    driver: 'devcrypto:',
    kernel: true,
    skip: 'no /dev/crypto driver of cbc(aes) here (the fixture passes, or a lab run with a cryptodev module, have one)',
  };
}

/** The targets, or one skipped target outside the lab. */
export async function labTargets(withSoftware: boolean): Promise<LabTarget[]> {
  if (!IN_LAB)
    return [{ driver: 'lab drivers', kernel: true, skip: 'runs in the lab guest (kcrypto lab), which has AF_ALG and the cards' }];
  const list = await drivers();
  const all = [
    afalgTarget(list, (d) => d.kernelDriver === 'cbc-aes-aesni', 'cbc-aes-aesni'),
    afalgTarget(list, (d) => d.kernelDriver === CARD, CARD),
    ...(withSoftware ? [{ driver: 'software', kernel: false }] : []),
    devCryptoTarget(list),
  ];
  return all.filter((t) => selectedDriver(t.driver));
}
