/**
 * `kcrypto drivers`: what this host offers, what it does not, and why — per driver and per
 * algorithm, with what an administrator could change (`crypto.af_alg_restrict`).
 */
import { algorithmSupport, type AlgorithmSupport } from '../api/algorithm-support.js';
import { drivers, type DriverInfo } from '../api/drivers.js';
import { forbiddenInterfaces, forbiddenReason } from '../kernel/bridge/forbid.js';
import { kernelReport } from '../api/kernel-view.js';
import { AF_ALG_RESTRICT_SYSCTL } from '../kernel/discovery/afalg-restrict.js';
import type { KernelReport } from '../kernel/discovery/discover.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** First few items, then a count. */
function some(items: readonly string[], n = 4): string {
  return items.length <= n ? items.join(', ') : `${items.slice(0, n).join(', ')}, … (${items.length} in all)`;
}

/** The sysctl's line under the AF_ALG header. */
function restrictionLine(k: KernelReport): string | undefined {
  const r = k.afalg.restriction;
  if (!r) return undefined;
  if (r.value === null) return `  ${AF_ALG_RESTRICT_SYSCTL}: not present (no allowlist on this kernel)`;
  const what: Record<number, string> = {
    0: 'unrestricted',
    1: 'only allowlisted generic names bind, no driver names',
    2: 'AF_ALG disabled',
  };
  return `  ${AF_ALG_RESTRICT_SYSCTL} = ${r.value}: ${what[r.value] ?? 'unknown setting'}; ${r.privilege.reason}`;
}

/** How one algorithm is reached, for the algorithms table. */
function route(a: AlgorithmSupport): string {
  const ways: string[] = [];
  if (a.afalg) ways.push(a.afalg.bindName === a.afalg.kernelDriver ? a.afalg.driver : `${a.afalg.driver} (bound as ${a.afalg.bindName})`);
  ways.push(...a.devcrypto);
  if (a.openssl) ways.push('openssl');
  if (a.software) ways.push('software');
  const why = a.afalg ? '' : ` — AF_ALG: ${a.afalgReason ?? 'unavailable'}`;
  return `${ways.join(', ') || 'nothing'}${why}`;
}

/**
 * The algorithms table: an algorithm reached through its own driver on a line of its own;
 * those that share a route and a reason (the software driver, refused alike) grouped.
 */
function algorithmLines(algorithms: readonly AlgorithmSupport[]): string[] {
  const lines: string[] = [];
  const groups = new Map<string, string[]>();
  for (const a of algorithms) {
    if (a.afalg) {
      lines.push(`  ${pad(a.algorithm, 30)} ${route(a)}`);
      continue;
    }
    const key = route(a);
    groups.set(key, [...(groups.get(key) ?? []), a.algorithm]);
  }
  for (const [key, names] of groups) {
    lines.push(`  ${key}:`);
    lines.push(`      ${names.join(', ')}`);
  }
  return lines;
}

/**
 * The closing lines: what limits this host and what would change it. Never claims the kernel
 * offers nothing while some AF_ALG name binds.
 */
function verdict(k: KernelReport | null, list: DriverInfo[]): string[] {
  const forbidden = forbiddenInterfaces();
  if (forbidden.length === 0) return kernelVerdict(k, list);
  const names = forbidden.map((w) => (w === 'afalg' ? 'AF_ALG' : '/dev/crypto')).join(' and ');
  const line = `${names} ${forbidden.length > 1 ? 'are' : 'is'} ${forbiddenReason(forbidden[0]!)}: this process never reaches ${forbidden.length > 1 ? 'them' : 'it'}.`;
  if (!forbidden.includes('afalg')) return [line, ...kernelVerdict(k, list)];
  const kernelUsable = list.filter((d) => d.available && d.interface !== 'software' && d.interface !== 'openssl');
  return [
    kernelUsable.length > 0
      ? `${line} Usable: ${some(kernelUsable.map((d) => d.name))}.`
      : `${line} Only the in-process drivers are usable here.`,
  ];
}

function kernelVerdict(k: KernelReport | null, list: DriverInfo[]): string[] {
  const usable = list.filter((d) => d.available);
  // The in-process drivers (openssl, software) serve everywhere; the verdict is about the kernel.
  const kernelUsable = usable.filter((d) => d.interface !== 'software' && d.interface !== 'openssl');
  const both = usable.some((d) => d.interface === 'openssl');
  const local = both
    ? 'the in-process drivers (openssl: OpenSSL through the addon; software: node:crypto)'
    : 'the software driver (node:crypto)';
  const is = both ? 'are' : 'is';
  const serves = both ? 'serve' : 'serves';
  const r = k?.afalg.restriction;
  const anyBinds = k?.afalg.available === true && Object.values(k.afalg.types).some((t) => t.available);
  if (r?.value === 2) {
    const rest = kernelUsable.length > 0 ? ` Usable: ${some(kernelUsable.map((d) => d.name))}.` : ` Only ${local} ${is} usable here.`;
    return [
      `AF_ALG is disabled by ${AF_ALG_RESTRICT_SYSCTL}=2.${rest}`,
      `\`sysctl ${AF_ALG_RESTRICT_SYSCTL}=1\` (as root) would admit allowlisted generic names, \`=0\` every name AF_ALG serves; /dev/crypto (cryptodev-linux) is not affected by the sysctl.`,
    ];
  }
  if (r?.value === 1 && k) {
    const refused = k.afalg.generic.filter((g) => !g.bound && g.reason?.includes('not on the allowlist')).map((g) => g.name);
    const privileged = k.afalg.generic.filter((g) => !g.bound && g.reason?.includes('only for privileged')).map((g) => g.name);
    const driverNames = k.drivers.filter(
      (d) => !d.internal && d.afalgType !== null && d.code === 'ENOENT' && d.reason?.includes(AF_ALG_RESTRICT_SYSCTL),
    ).length;
    const lines = [
      `AF_ALG is restricted by ${AF_ALG_RESTRICT_SYSCTL}=1: every driver name is refused (${driverNames} kernel drivers)` +
        (refused.length > 0 ? `, and generic names off the allowlist: ${some(refused)}` : '') +
        (privileged.length > 0 ? `; on the allowlist only for privileged processes: ${some(privileged)} (${r.privilege.reason})` : '') +
        '. kcrypto binds the generic names it may, and serves the rest in software.',
      `\`sysctl ${AF_ALG_RESTRICT_SYSCTL}=0\` (as root) would let every generic name and the driver names of synchronous drivers bind; asynchronous (device) drivers stay refused through AF_ALG (since 7.2): /dev/crypto (cryptodev-linux) reaches them.`,
    ];
    return lines;
  }
  if (kernelUsable.length > 0) return [];
  if (!k)
    return [
      `Only ${local} ${is} usable here: the native addon did not load, so the kernel's drivers cannot be reached (why, and what to do, on the afalg line above).`,
    ];
  if (anyBinds)
    return [
      `Only ${local} ${serves} kcrypto here: AF_ALG binds, but none of the drivers it reaches implements an algorithm kcrypto serves.`,
    ];
  return [`Only ${local} ${is} usable here: the kernel offers no crypto driver to user space.`];
}

/** Prints the driver table (or JSON with `--json`). Returns the exit code. */
export async function driversCommand(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const list = await drivers();
  const algorithms = await algorithmSupport();
  if (argv.includes('--json')) {
    out(JSON.stringify({ drivers: list, algorithms, kernel: await kernelReport() }, null, 2));
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
    const restriction = restrictionLine(k);
    if (restriction) out(restriction);
    if (k.afalg.available) {
      for (const [type, t] of Object.entries(k.afalg.types)) out(`  ${pad(type, 9)} ${t.available ? 'yes' : `no — ${t.reason ?? ''}`}`);
      if (k.afalg.asyncBindRefused)
        out(`  note: ${k.afalg.asyncBindReason ?? 'this kernel refuses asynchronous (hardware) drivers through AF_ALG'}`);
    }
  }
  const row = (d: DriverInfo): string =>
    `  ${pad(d.name, 44)} ${pad(d.kind, 11)} ${pad(d.algorithms.slice(0, 3).join(',') + (d.algorithms.length > 3 ? ',…' : ''), 34)} ${pad(String(d.priority ?? ''), 5)}` +
    (d.bindName !== undefined && d.bindName !== d.kernelDriver ? ` bound as ${d.bindName}` : '');
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
  out('');
  out('algorithms (how kcrypto reaches each one here):');
  for (const line of algorithmLines(algorithms)) out(line);
  const closing = verdict(k, list);
  if (closing.length > 0) {
    out('');
    for (const line of closing) out(line);
  }
  return 0;
}
