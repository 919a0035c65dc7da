/**
 * The process-wide framework: the software driver (cryptosoft, under the name `software`) and
 * the splitter are registered at once; AF_ALG drivers register as the kernel is discovered, one
 * per kernel driver.
 */
import { registerAfAlgDriver } from '../drivers/afalg-driver.js';
import { afalgDriverName, type AfAlgTarget } from '../drivers/afalg.js';
import { registerCryptosoft } from '../drivers/cryptosoft.js';
import { SOFTWARE_DRIVER } from '../drivers/software.js';
import { Framework } from '../framework/framework.js';
import { registerRouter } from '../framework/router.js';
import { registerSplitter } from '../framework/splitter.js';
import { idsOfKernelName } from '../algorithms/crypto-ids.js';
import { kernelReport, targetOf } from './kernel-view.js';

/** The process-wide crypto(9) framework. */
export const framework = new Framework();
/** The software driver's id. */
export const softwareDriverId = registerCryptosoft(framework, SOFTWARE_DRIVER);
registerSplitter(framework);
/** Routed sessions (`driver: 'fastest'`) and the measured route table behind them. */
export const router = registerRouter(framework, undefined, 'fastest');

/**
 * The framework driver for a kernel driver reached through AF_ALG, registered on first need.
 * `craName` is the algorithm it implements (`cbc(aes)`).
 */
export function afalgDriverFor(target: AfAlgTarget, craName: string): number {
  const name = afalgDriverName(target.kernelDriver);
  const known = framework.findDriver(name);
  if (known >= 0) return known;
  return registerAfAlgDriver(framework, { craName, target, hardware: !target.synchronous });
}

let registered: Promise<number[]> | undefined;

/**
 * Registers a framework driver for every kernel driver reachable through AF_ALG whose
 * algorithm kcrypto knows; resolves with their ids. Idempotent.
 */
export function registerKernelDrivers(): Promise<number[]> {
  registered ??= (async () => {
    const k = await kernelReport();
    if (!k || !k.afalg.available) return [];
    return k.drivers.filter((d) => !d.internal && d.reachable && idsOfKernelName(d.name).length > 0).map((d) => afalgDriverFor(targetOf(d), d.name));
  })();
  return registered;
}
