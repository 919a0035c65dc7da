/**
 * Classifies each kernel crypto driver listed in `/proc/crypto` as a hardware device, a CPU
 * instruction implementation, or plain software, from the evidence /proc/crypto offers.
 *
 * The kernel has a precise flag for offload devices, `CRYPTO_ALG_KERN_DRIVER_ONLY`, but does not
 * print it, so the classification reads the module and driver names (drivers follow stable naming
 * habits) and the `async` flag. Rules, first match wins:
 *
 * 1. **hardware** — the module or the driver name carries the marker of a crypto device driver:
 *    virtio-crypto, CAAM, QAT, CCP, ccree, Allwinner sun4i/sun8i, OMAP, talitos, Atmel, Marvell
 *    CESA, HiSilicon, IBM NX, Samsung s5p/Exynos, Rockchip, STM32, Inside Secure SafeXcel/EIP,
 *    ARTPEC-6, Amlogic, Keem Bay, Xilinx ZynqMP, Freescale SAHARA/DCP, Chelsio, Cavium/Marvell
 *    OcteonTX/Nitrox, MediaTek, Qualcomm QCE, TI SA2UL/DTHE, Broadcom SPU, Aspeed, Tegra, …
 *    Hardware comes first because device drivers often wrap CPU code too (`cbc-aes-sun8i-ce` must
 *    not be taken for arm64 Crypto Extensions `-ce`, nor Intel QAT for `-intel`).
 * 2. **accelerated** — a name token of a CPU instruction set or architecture-specific assembly:
 *    `aesni`, `ni` (sha-ni), `avx`, `avx2`, `avx512`, `ssse3`, `sse2`, `clmul`/`clmulni`/`pclmul`,
 *    `ce` (arm64 Crypto Extensions), `neon`, `shani`, `simd`, `asm`, `x86_64`, `intel`, `arm64`,
 *    `s390`, `sparc64`, `p8`/`vmx`, RISC-V `zvk*`, VIA `padlock`, … (e.g. `sha256-avx2`,
 *    `ghash-clmulni`, `chacha20-simd`, `aes-asm`, module `chacha_x86_64`). Tokens are whole words
 *    of the name split at punctuation, so `ni` never matches inside `generic`.
 * 3. **hardware** — `async: yes` on a driver that is neither internal nor a cryptd/simd/pcrypt
 *    wrapper: software and CPU implementations are synchronous unless wrapped, so a bare async
 *    driver is almost always an offload device this table does not name yet.
 * 4. **software** — everything else: `*-generic` C code, `*-lib` wrappers over the kernel crypto
 *    library, template instances such as `cbc(aes-generic)`, and names with no marker.
 *
 * `internal: yes` implementations are building blocks of other algorithms (for example the
 * `__cbc-aes-aesni` that `cbc-aes-aesni` wraps); user space cannot allocate them, which
 * {@link DriverClassification.userReachable} reports.
 *
 * @module
 */

import type { ProcCryptoEntry } from './proc-crypto.js';

/** What executes a driver's operations. */
export type DriverKind = 'hardware' | 'accelerated' | 'software';

/** The outcome of {@link classifyDriver}. */
export interface DriverClassification {
  kind: DriverKind;
  /** One sentence naming the evidence, for `kcrypto drivers`. */
  reason: string;
  /** False for `internal: yes` (and transient `larval`) entries, which user space cannot bind. */
  userReachable: boolean;
}

/**
 * Substrings of crypto device drivers' module and driver names (compared lowercase, with `_`
 * turned into `-`). Long enough not to occur by accident inside an algorithm name.
 */
const HARDWARE_SUBSTRINGS: readonly string[] = [
  'virtio', // virtio_crypto, virtio-crypto-rsa, virtio-pkcs1-rsa…
  'caam',
  'qat',
  'ccree',
  'sun4i-ss',
  'sun8i-ce',
  'sun8i-ss',
  'allwinner',
  'omap',
  'talitos',
  'atmel',
  'mv-cesa',
  'marvell',
  'cesa',
  'hisi',
  's5p',
  'exynos',
  'rockchip',
  'stm32',
  'safexcel',
  'inside-secure',
  'eip93',
  'eip197',
  'artpec6',
  'amlogic',
  'meson',
  'keembay',
  'zynqmp',
  'xilinx',
  'sahara',
  'mxs-dcp',
  'chcr',
  'chelsio',
  'n2-crypto',
  'ixp4xx',
  'img-hash',
  'mtk',
  'mediatek',
  'qce',
  'qcom',
  'sa2ul',
  'dthev2',
  'octeontx',
  'otx2',
  'nitrox',
  'cavium',
  'bcm-spu',
  'geode',
  'hifn',
  'tegra',
  'aspeed',
  'crypto4xx',
  'amcc',
  'sl3516',
  'starfive',
  'jh7110',
  'ux500',
];

/** Whole-word markers of crypto devices that are too short to match as substrings. */
const HARDWARE_TOKENS: ReadonlySet<string> = new Set([
  'ccp', // AMD Cryptographic Coprocessor (cbc-aes-ccp)
  'nx', // IBM POWER NX (nx-aes-cbc)
  'rk', // Rockchip (cbc-aes-rk)
  'dcp', // Freescale DCP (cbc-aes-dcp)
  'gxl', // Amlogic GXL (cbc-aes-gxl)
  'ocs', // Keem Bay OCS
  'spu', // Broadcom SPU
  'cpt', // Cavium/Marvell CPT
]);

/** Whole-word markers of CPU-instruction or architecture-specific assembly implementations. */
const ACCELERATED_TOKENS: ReadonlySet<string> = new Set([
  'aesni',
  'ni', // sha256-ni, sha1-ni, aes-ni
  'shani',
  'vaes',
  'gfni',
  'avx',
  'avx2',
  'avx512',
  'avx10',
  'sse',
  'sse2',
  'ssse3',
  'sse4',
  'clmul',
  'clmulni',
  'pclmul',
  'pclmulqdq',
  'pclmulqdqni',
  'intel', // crc32c-intel, aesni_intel
  'x86',
  'x86-64',
  'asm', // aes-asm, twofish-asm, des3_ede-asm
  'simd', // chacha20-simd, poly1305-simd, and the simd wrappers of FPU code
  'ce', // arm64 Crypto Extensions: cbc-aes-ce, sha2-ce, ghash-ce
  'neon',
  'neonbs',
  'arm',
  'arm64',
  's390', // CPACF
  'sparc64',
  'p8', // POWER8 in-core crypto (p8_vmx)
  'vmx',
  'padlock', // VIA PadLock instructions
  'octeon', // Cavium Octeon COP2 instructions
  'riscv64',
  'zvkned',
  'zvknha',
  'zvknhb',
  'zvkb',
  'zvbc',
  'zvkg',
  'zvksed',
  'zvksh',
]);

/** Lowercase, with `_` as `-`, so `mxs_dcp` and `mxs-dcp` read alike. */
function normalize(s: string): string {
  return s.toLowerCase().replaceAll('_', '-');
}

/**
 * Words of a name split at punctuation, plus the joined `x86-64` that the split separates.
 * `ghash-clmulni` → `ghash`, `clmulni`; `chacha_x86_64` → `chacha`, `x86`, `64`, `x86-64`.
 */
function tokens(s: string): Set<string> {
  const words = normalize(s)
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  const set = new Set(words);
  if (normalize(s).includes('x86-64')) set.add('x86-64');
  return set;
}

interface Marker {
  marker: string;
  where: 'module' | 'driver';
}

function findHardwareMarker(e: Pick<ProcCryptoEntry, 'module' | 'driver'>): Marker | null {
  for (const where of ['module', 'driver'] as const) {
    // `kernel` means built in: only the driver name can tell.
    if (where === 'module' && e.module === 'kernel') continue;
    const value = normalize(e[where]);
    const sub = HARDWARE_SUBSTRINGS.find((m) => value.includes(m));
    if (sub !== undefined) return { marker: sub, where };
    for (const t of tokens(e[where])) if (HARDWARE_TOKENS.has(t)) return { marker: t, where };
  }
  return null;
}

function findAcceleratedMarker(e: Pick<ProcCryptoEntry, 'module' | 'driver'>): Marker | null {
  for (const where of ['driver', 'module'] as const) {
    if (where === 'module' && e.module === 'kernel') continue;
    for (const t of tokens(e[where])) if (ACCELERATED_TOKENS.has(t)) return { marker: t, where };
  }
  return null;
}

/**
 * Asynchronous wrappers around synchronous code: cryptd and pcrypt defer work to a thread, the
 * simd helper defers FPU code when the FPU is unusable, and `__`-prefixed names are the internal
 * inner algorithms those wrappers expose. Their `async: yes` says nothing about hardware.
 */
function isAsyncWrapper(e: Pick<ProcCryptoEntry, 'module' | 'driver'>): boolean {
  const d = e.driver.toLowerCase();
  return (
    e.module === 'cryptd' ||
    e.module === 'pcrypt' ||
    e.module === 'crypto_simd' ||
    /(^|[(,])(m?cryptd|pcrypt)\(/.test(d) ||
    d.startsWith('__') ||
    d.includes('(__')
  );
}

function describe(m: Marker, e: Pick<ProcCryptoEntry, 'module' | 'driver'>): string {
  return m.where === 'module' ? `module ${e.module} (${m.marker})` : `driver name ${e.driver} (${m.marker})`;
}

/** Why a software driver is software, by the naming habit it follows. */
function softwareReason(e: Pick<ProcCryptoEntry, 'driver'>): string {
  const d = e.driver;
  if (d.includes('(')) return `template instance over software implementations: ${d}`;
  if (d.endsWith('-generic')) return 'generic C implementation (-generic)';
  if (d.endsWith('-lib')) {
    // Since 6.16 the library may itself dispatch to CPU instructions; /proc/crypto cannot show it.
    return 'wrapper over the kernel crypto library (-lib); any CPU acceleration inside the library is not visible in /proc/crypto';
  }
  return 'no hardware or CPU-instruction marker in module or driver name';
}

/**
 * Classifies one `/proc/crypto` record by the rules in this module's documentation.
 *
 * @param e - the record (only `driver`, `module`, `internal`, `async` and `type` are read).
 * @returns the kind, a reason naming the evidence, and whether user space can reach it at all.
 */
export function classifyDriver(e: Pick<ProcCryptoEntry, 'driver' | 'module' | 'internal' | 'async' | 'type'>): DriverClassification {
  const userReachable = !e.internal && e.type !== 'larval';

  const hw = findHardwareMarker(e);
  if (hw !== null) {
    return { kind: 'hardware', reason: `crypto device driver: ${describe(hw, e)}`, userReachable };
  }
  const cpu = findAcceleratedMarker(e);
  if (cpu !== null) {
    return { kind: 'accelerated', reason: `CPU-instruction implementation: ${describe(cpu, e)}`, userReachable };
  }
  if (e.async === true && !e.internal && !isAsyncWrapper(e)) {
    return {
      kind: 'hardware',
      reason:
        'asynchronous driver that is not a cryptd/simd/pcrypt wrapper: most likely an offload device (the kernel does not print CRYPTO_ALG_KERN_DRIVER_ONLY)',
      userReachable,
    };
  }
  return { kind: 'software', reason: softwareReason(e), userReachable };
}
