/**
 * The machine a `kcrypto bench` run measured: what its report, table and chart title name.
 */
import { readFileSync } from 'node:fs';
import { cpus, release, type } from 'node:os';

/** CPU, kernel and runtime of this machine. */
export interface MachineInfo {
  /** CPU model as the kernel names it (`AMD EPYC 7B13`). */
  cpu: string;
  /** Logical CPUs. */
  cores: number;
  /** Kernel name and release (`Linux 6.12.118+deb12-amd64`). */
  kernel: string;
  node: string;
  openssl: string;
  /** When the run started (ISO 8601). */
  date: string;
}

/** The CPU model: os.cpus(), or /proc/cpuinfo where that leaves it empty (some ARM kernels). */
function cpuModel(): string {
  const model = cpus()[0]?.model.trim();
  if (model) return model.replace(/\s+/g, ' ');
  try {
    const m = /^(?:model name|Hardware|Processor)\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // No /proc (the BSDs without linprocfs): the model stays unknown.
  }
  return 'unknown CPU';
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    kernel: `${type()} ${release()}`,
    node: process.versions.node,
    openssl: process.versions.openssl ?? 'unknown',
    date: new Date().toISOString(),
  };
}

/** One line: `AMD EPYC (2 CPUs), Linux 6.18.44, Node 20.20.2, OpenSSL 3.0.19`. */
export function machineLine(m: MachineInfo): string {
  return `${m.cpu} (${m.cores} CPU${m.cores === 1 ? '' : 's'}), ${m.kernel}, Node ${m.node}, OpenSSL ${m.openssl}`;
}
