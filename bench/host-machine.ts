/**
 * The machine the host benchmark ran on, and what kcrypto found there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';

import { drivers, type DriverInfo } from '../src/api/drivers.js';
import type { MachineInfo } from './host-results.js';

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^model name\s*:/.test(l));
    if (line) return line.replace(/^model name\s*:\s*/, '').trim();
  } catch {
    // not Linux: fall back on what Node reports
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** One interface's line: its usable drivers, or why there are none. */
function interfaceLine(list: readonly DriverInfo[], which: 'afalg' | 'devcrypto'): string {
  const mine = list.filter((d) => d.interface === which);
  const usable = mine.filter((d) => d.available);
  if (usable.length > 0) {
    const names = usable.map((d) => d.name);
    return `available (${names.length} drivers: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''})`;
  }
  const reasons = [...new Set(mine.map((d) => d.reason ?? 'unavailable'))];
  return `unavailable — ${reasons.slice(0, 2).join('; ') || 'not reported'}`;
}

/** The machine's description; `defaultDriver` names what the default sessions picked. */
export async function machineInfo(defaultDriver: string): Promise<MachineInfo> {
  let list: DriverInfo[] = [];
  let listError: string | undefined;
  try {
    list = await drivers();
  } catch (err) {
    listError = err instanceof Error ? err.message : String(err);
  }
  const dev = existsSync('/dev/crypto') ? '/dev/crypto exists' : '/dev/crypto does not exist';
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: cpuModel(),
    cores: availableParallelism(),
    kernel: `${process.platform} ${release()}`,
    node: process.versions.node,
    openssl: process.versions.openssl ?? 'unknown',
    afalg: listError ?? interfaceLine(list, 'afalg'),
    devcrypto: `${dev}; kcrypto: ${listError ?? interfaceLine(list, 'devcrypto')}`,
    defaultDriver,
  };
}
