// Every /dev/crypto ABI is compiled on every Linux run, so that a broken BSD path fails here and
// not first on a BSD: each ABI header, and each ABI table of the engine, is compiled on its own
// with strict flags; then the sizes and request numbers the addon was compiled with are compared
// with the values of the ABI reference, hard-coded below with their sections.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { loadAddon } from '../../../../src/kernel/bridge/addon.js';
import type { DevCryptoAbi, DevCryptoAbiTable } from '../../../../src/kernel/bridge/devcrypto.js';
import { packageRoot } from '../../../support/package-root.js';

const STRICT = ['-std=c++17', '-Wall', '-Wextra', '-Werror', '-Wpedantic', '-fsyntax-only'];

function findCompiler(): string | null {
  const candidates = [process.env['CXX'], 'c++', 'g++', 'clang++'].filter((c): c is string => typeof c === 'string' && c.length > 0);
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return null;
}

const compiler = process.platform === 'linux' ? findCompiler() : null;
const noCompiler =
  process.platform !== 'linux' ? 'the all-ABI build is the Linux one' : compiler === null ? 'no C++ compiler (set CXX)' : false;
const devcryptoDir = (): string => join(packageRoot(), 'native', 'devcrypto');

/** Compiles C++ source text (read from stdin) with the strict flags; returns the diagnostics on failure. */
function compileText(source: string, extra: string[] = []): { ok: boolean; diagnostics: string } {
  const r = spawnSync(compiler!, [...STRICT, ...extra, '-I', devcryptoDir(), '-x', 'c++', '-'], { input: source, encoding: 'utf8' });
  return { ok: r.status === 0, diagnostics: `${r.stdout}${r.stderr}` };
}

function compileFile(relative: string): { ok: boolean; diagnostics: string } {
  const r = spawnSync(compiler!, [...STRICT, join(devcryptoDir(), relative)], { encoding: 'utf8' });
  return { ok: r.status === 0, diagnostics: `${r.stdout}${r.stderr}` };
}

describe('/dev/crypto ABIs compile on Linux', { skip: noCompiler }, () => {
  for (const header of ['abi/ioc.h', 'abi/cryptodev_linux.h', 'abi/freebsd.h', 'abi/netbsd.h']) {
    it(`${header} compiles alone, its static_asserts included`, () => {
      const r = compileText(`#include "${header}"\n`);
      assert.ok(r.ok, r.diagnostics);
    });
  }

  it('the three ABI headers compile together (no clashing names)', () => {
    const r = compileText('#include "abi/cryptodev_linux.h"\n#include "abi/freebsd.h"\n#include "abi/netbsd.h"\n');
    assert.ok(r.ok, r.diagnostics);
  });

  for (const file of [
    'devcrypto_abi.cc',
    'devcrypto_syscalls.cc',
    'devcrypto_abi_linux.cc',
    'devcrypto_abi_freebsd.cc',
    'devcrypto_abi_netbsd.cc',
    'abi/system_check.cc',
  ]) {
    it(`${file} compiles on its own`, () => {
      const r = compileFile(file);
      assert.ok(r.ok, r.diagnostics);
    });
  }

  it('the check reports a wrong number: reusing a FreeBSD request on cryptodev-linux does not compile', () => {
    const r = compileText(
      '#include "abi/cryptodev_linux.h"\n#include "abi/freebsd.h"\n' +
        'namespace k = kcrypto::devcrypto;\n' +
        'static_assert(k::linux_abi::CIOCGSESSION == k::freebsd_abi::CIOCGSESSION, "same request");\n',
    );
    assert.equal(r.ok, false);
    assert.match(r.diagnostics, /same request|static assert/i);
  });
});

// The reference values, for LP64 with the generic Linux ioctl encoding (x86_64, arm64, riscv64).
const EXPECTED: Record<
  DevCryptoAbi,
  { sizes: Record<string, number>; requests: Record<string, number>; constants: Record<string, number> }
> = {
  // cryptodev-linux crypto/cryptodev.h (sizes, requests, op codes); NetBSD sys/opencrypto/cryptodev.h.
  'cryptodev-linux': {
    sizes: { session_op: 48, session_info_op: 268, crypt_op: 48, crypt_auth_op: 72, cphash_op: 8, crypt_kop: 144 },
    requests: {
      CRIOGET: 0xc0046365,
      CIOCGSESSION: 0xc0306366,
      CIOCFSESSION: 0x40046367,
      CIOCCRYPT: 0xc0306368,
      CIOCKEY: 0xc0906369,
      CIOCASYMFEAT: 0x8004636a,
      CIOCGSESSINFO: 0xc10c636b,
      CIOCAUTHCRYPT: 0xc048636d,
      CIOCASYNCCRYPT: 0x4030636e,
      CIOCASYNCFETCH: 0x8030636f,
      CIOCCPHASH: 0x40086370,
    },
    constants: {
      COP_ENCRYPT: 0,
      COP_DECRYPT: 1,
      COP_FLAG_UPDATE: 1,
      COP_FLAG_FINAL: 2,
      COP_FLAG_RESET: 64,
      SIOP_FLAG_KERNEL_DRIVER_ONLY: 1,
    },
  },
  // FreeBSD sys/opencrypto/cryptodev.h (sizes; requests; the removed CIOCKEY/CIOCASYMFEAT/CIOCKEY2 row; the CRK_* op codes).
  freebsd: {
    sizes: { session_op: 48, session2_op: 64, crypt_op: 48, crypt_aead: 64, crypt_find_op: 36, crypt_kop: 144 },
    requests: {
      CRIOGET: 0xc0046364,
      CIOCGSESSION: 0xc0306365,
      CIOCFSESSION: 0x80046366,
      CIOCCRYPT: 0xc0306367,
      CIOCKEY: 0xc0906368,
      CIOCASYMFEAT: 0x40046369,
      CIOCGSESSION2: 0xc040636a,
      CIOCKEY2: 0xc090636b,
      CIOCFINDDEV: 0xc024636c,
      CIOCCRYPTAEAD: 0xc040636d,
    },
    constants: {
      COP_ENCRYPT: 1,
      COP_DECRYPT: 2,
      COP_F_CIPHER_FIRST: 1,
      COP_F_BATCH: 8,
      CRYPTO_FLAG_HARDWARE: 0x01000000,
      CRYPTO_FLAG_SOFTWARE: 0x02000000,
      MAX_REQUEST: 256 * 1024 - 4,
    },
  },
  // NetBSD sys/opencrypto/cryptodev.h (requests with their struct sizes; crypt_n_op 104 bytes).
  netbsd: {
    sizes: {
      session_op: 48,
      session_n_op: 48,
      crypt_op: 56,
      crypt_n_op: 104,
      crypt_mop: 16,
      crypt_sgop: 16,
      crypt_sfop: 16,
      crypt_kop: 144,
      crypt_mkop: 16,
      crypt_result: 16,
      cryptret: 16,
    },
    requests: {
      CRIOGET: 0xc0046364,
      CIOCFSESSION: 0x80046366,
      CIOCKEY: 0xc0906368,
      CIOCASYMFEAT: 0x40046369,
      CIOCNFKEYM: 0xc010636c,
      CIOCNFSESSION: 0x8010636d,
      CIOCNCRYPTRETM: 0xc010636e,
      CIOCNCRYPTRET: 0xc010636f,
      CIOCGSESSION: 0xc0306370,
      CIOCNGSESSION: 0xc0106371,
      CIOCCRYPT: 0xc0386372,
      CIOCNCRYPTM: 0xc0106373,
    },
    constants: { COP_ENCRYPT: 1, COP_DECRYPT: 2, COP_COMP: 3, COP_DECOMP: 4, COP_F_BATCH: 8, COP_F_MORE: 16, MAX_REQUEST: 256 * 1024 - 4 },
  },
};

const { addon } = loadAddon();
const lp64Generic = ['x64', 'arm64', 'riscv64', 's390x', 'loong64'].includes(process.arch);
const noTable = !addon?.devCryptoAbiTable
  ? 'addon without the /dev/crypto engine'
  : !lp64Generic
    ? `reference values are for LP64 with the generic ioctl encoding, not ${process.arch}`
    : false;

describe('the addon was compiled with the reference ABI values', { skip: noTable }, () => {
  const expectedAbis: DevCryptoAbi[] =
    process.platform === 'linux' ? ['cryptodev-linux', 'freebsd', 'netbsd'] : process.platform === 'freebsd' ? ['freebsd'] : ['netbsd'];

  it('carries every ABI of this system (all three on Linux)', () => {
    assert.deepEqual(addon!.devCryptoAbis!(), expectedAbis);
  });

  for (const abi of expectedAbis) {
    it(`${abi}: struct sizes, request numbers and op codes`, () => {
      const table: DevCryptoAbiTable | null = addon!.devCryptoAbiTable!(abi);
      assert.ok(table);
      assert.equal(table.abi, abi);
      assert.equal(table.pointerBytes, 8);
      const want = EXPECTED[abi];
      for (const [name, size] of Object.entries(want.sizes)) assert.equal(table.sizes[name], size, `sizeof(${name})`);
      for (const [name, value] of Object.entries(want.requests)) {
        assert.equal(table.requests[name], value, `${name}: 0x${(table.requests[name] ?? 0).toString(16)} != 0x${value.toString(16)}`);
      }
      for (const [name, value] of Object.entries(want.constants)) assert.equal(table.constants[name], value, name);
    });
  }

  it('the encrypt op code is 0 on cryptodev-linux and 1 on the BSDs', () => {
    const codes = expectedAbis.map((abi) => addon!.devCryptoAbiTable!(abi)!.constants['COP_ENCRYPT']);
    assert.deepEqual(
      codes,
      expectedAbis.map((abi) => (abi === 'cryptodev-linux' ? 0 : 1)),
    );
  });

  it('only cryptodev-linux hashes in several parts; the BSDs limit a request to 256 KiB - 4', () => {
    for (const abi of expectedAbis) {
      const t = addon!.devCryptoAbiTable!(abi)!;
      assert.equal(t.multipart, abi === 'cryptodev-linux', `${abi} multipart`);
      assert.equal(t.maxRequest, abi === 'cryptodev-linux' ? 0 : 256 * 1024 - 4, `${abi} maxRequest`);
    }
  });
});
