/**
 * `kcrypto drivers`: what this host offers, what it does not, and why.
 */
import { drivers, type DriverInfo } from '../api/drivers.js';
import { kernelReport } from '../api/kernel-view.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Prints the driver table (or JSON with `--json`). Returns the exit code. */
export async function driversCommand(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const list = await drivers();
  if (argv.includes('--json')) {
    out(JSON.stringify({ drivers: list, kernel: await kernelReport() }, null, 2));
    return 0;
  }
  const all = argv.includes('--all');
  const k = await kernelReport();
  const usable = list.filter((d) => d.available);
  const unusable = list.filter((d) => !d.available);

  out('kcrypto drivers');
  out('');
  if (k) {
    out(`AF_ALG: ${k.afalg.available ? 'available' : `unavailable — ${k.afalg.reason ?? ''}`}`);
    if (k.afalg.available) {
      for (const [type, t] of Object.entries(k.afalg.types)) out(`  ${pad(type, 9)} ${t.available ? 'yes' : `no — ${t.reason ?? ''}`}`);
      if (k.afalg.asyncBindRefused) out('  note: this kernel refuses asynchronous (hardware) drivers through AF_ALG');
    }
  }
  const row = (d: DriverInfo): string =>
    `  ${pad(d.name, 44)} ${pad(d.kind, 11)} ${pad(d.algorithms.slice(0, 3).join(',') + (d.algorithms.length > 3 ? ',…' : ''), 34)} ${d.priority ?? ''}`;
  out('');
  out(`usable (${usable.length}):`);
  for (const d of usable) out(row(d));
  const kernelOnly = unusable.filter((d) => d.kernelDriver);
  const interfaces = unusable.filter((d) => !d.kernelDriver);
  out('');
  out('not usable:');
  for (const d of interfaces) out(`  ${pad(d.name, 44)} ${d.reason ?? ''}`);
  if (kernelOnly.length > 0) {
    if (all) for (const d of kernelOnly) out(`  ${pad(d.name, 44)} ${d.reason ?? ''}`);
    else out(`  ${kernelOnly.length} kernel drivers listed in /proc/crypto cannot be used (--all lists them with reasons)`);
  }
  if (usable.every((d) => d.interface === 'software')) {
    out('');
    out('Only the software driver (node:crypto) is usable here: the kernel offers no crypto driver to user space.');
  }
  return 0;
}
