// The CUSE /dev/crypto fixture, once per ABI it emulates: raw ioctls from its test client
// (AES-CBC, SHA-256/HMAC and GCM known answers, a GCM tag failure, bad keys, bad pointers,
// size limits, the asynchronous paths), then the kcrypto /dev/crypto engine through the same
// device node; the fixture must survive all of it and stop cleanly.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import * as C from '../../src/framework/constants.js';
import { openDeferredDevCryptoSession, openDevCryptoSession } from '../../src/drivers/devcrypto/sessions.js';
import { KernelSession, Op } from '../../src/kernel/bridge/engine/index.js';
import { loadAddon } from '../../src/kernel/bridge/addon.js';
import {
  devCryptoAbis,
  devCryptoInfo,
  devCryptoRunBatch,
  type DevCryptoAbi,
  type DevCryptoSession,
} from '../../src/kernel/bridge/devcrypto.js';
import { decodeError } from '../../src/kernel/bridge/status.js';
import {
  buildFixture,
  fixtureUnavailable,
  FIXTURE_ABIS,
  runClient,
  startFixture,
  type ClientReport,
  type FixtureAbi,
  type FixtureBinaries,
  type RunningFixture,
} from '../support/devcrypto-fixture.js';
import { IN_LAB } from '../support/drivers.js';
import { hex } from '../support/hex.js';

/** The checks the client runs per ABI: a missing line is a failure, not a pass. */
const CLIENT_CHECKS: Readonly<Record<FixtureAbi, readonly string[]>> = {
  linux: [
    'aes-cbc-kat',
    'sha256-kat',
    'hmac-sha256-kat',
    'gcm-kat-and-bad-tag',
    'errors',
    'session-info',
    'large-request',
    'async-and-poll',
  ],
  freebsd: ['aes-cbc-kat', 'hardware-crid', 'sha256-and-hmac-kat', 'gcm-kat-and-bad-tag', 'eta-and-bad-mac', 'errors', 'largest-request'],
  netbsd: ['aes-cbc-kat', 'hmac-sha256-and-sha1-kat', 'gcm-kat-computed-tag', 'multi-request-and-poll', 'multi-session', 'errors'],
};

const ENGINE_ABI: Readonly<Record<FixtureAbi, DevCryptoAbi>> = { linux: 'cryptodev-linux', freebsd: 'freebsd', netbsd: 'netbsd' };

// NIST SP 800-38A F.2.1, the first two blocks.
const KEY = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
const IV = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const PLAIN = Buffer.from('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51', 'hex');
const CIPHER = '7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2';
const OP_ENCRYPT = 0; // native/common/engine.h Op::kEncrypt
const DEVICE_LANE = 1; // native/addon.h kDeviceLane

const skip = IN_LAB ? fixtureUnavailable() : 'runs in the lab guest (kcrypto lab), which has AF_ALG and CUSE';

describe('CUSE /dev/crypto fixture', skip === undefined ? {} : { skip }, () => {
  let binaries: FixtureBinaries;
  before(async () => {
    binaries = await buildFixture();
  });

  for (const abi of FIXTURE_ABIS) {
    describe(`--abi ${abi}`, () => {
      let fixture: RunningFixture | undefined;
      let report: ClientReport;
      before(async () => {
        fixture = await startFixture(binaries, { abi });
        report = await runClient(binaries, abi, fixture.path);
      });
      after(async () => {
        await fixture?.stop();
      });

      for (const name of CLIENT_CHECKS[abi]) {
        it(`raw ioctls: ${name}`, (t) => {
          const check = report.checks.get(name);
          assert.ok(check, `the client reported nothing for ${name}:\n${report.output}`);
          if (check.detail !== '') t.diagnostic(check.detail);
          assert.equal(check.status, 'PASS', `${name}: ${check.detail}`);
        });
      }

      it('raw ioctls: the client exits 0 and reports only the known checks', () => {
        assert.deepEqual([...report.checks.keys()].sort(), [...CLIENT_CHECKS[abi]].sort(), report.output);
        assert.equal(report.exitCode, 0, report.output);
      });

      const engineAbi = ENGINE_ABI[abi];
      const engineSkip = devCryptoAbis().includes(engineAbi) ? undefined : `the addon has no /dev/crypto engine for ${engineAbi}`;

      it('engine: an AES-CBC session answers the known answer', engineSkip === undefined ? {} : { skip: engineSkip }, (t) => {
        assert.ok(fixture);
        const s = openDevCryptoSession({
          path: fixture.path,
          abi: engineAbi,
          mode: 'cipher',
          cipher: C.CRYPTO_AES_CBC,
          key: KEY,
          ivLength: 16,
          blockLength: 16,
          chain: 'cbc',
          crid: 'software',
        });
        try {
          t.diagnostic(`served by ${s.driver}`);
          const out = Buffer.alloc(PLAIN.length);
          const r = s.native.run(OP_ENCRYPT, PLAIN, out, IV, 0, -1);
          assert.ok(r >= 0, `run failed: ${JSON.stringify(r < 0 ? decodeError(r) : r)}`);
          assert.equal(hex(out), CIPHER);
        } finally {
          s.native.close();
        }
      });

      it(
        'engine: a deferred session opens on the device lane; requests sent first wait for it; a failed open keeps nothing',
        engineSkip === undefined ? {} : { skip: engineSkip },
        async () => {
          assert.ok(fixture);
          const options = {
            path: fixture.path,
            abi: engineAbi,
            mode: 'cipher' as const,
            cipher: C.CRYPTO_AES_CBC,
            key: KEY,
            ivLength: 16,
            blockLength: 16,
            chain: 'cbc' as const,
            crid: 'software' as const,
          };
          const lane = (o: typeof options): KernelSession =>
            new KernelSession(openDeferredDevCryptoSession(o), `devcrypto:${engineAbi}:test`, false, 'auto', {
              waitSyscall: () => 'ioctl',
            });
          const s = lane(options);
          assert.equal(s.native.descriptors(), 0, 'opening made no system call on this thread');
          const out = Buffer.alloc(PLAIN.length);
          await Promise.all([s.open(), s.request(Op.Encrypt, PLAIN, out, IV, 0)]);
          assert.equal(hex(out), CIPHER);
          assert.equal(s.native.descriptors(), 1);
          await s.close();
          assert.equal(s.native.descriptors(), 0, 'the close released the device');

          // A 15-byte AES key: the kernel refuses the session, on the lane.
          const bad = lane({ ...options, key: KEY.subarray(0, 15) });
          await assert.rejects(bad.open(), (e: unknown) => {
            const err = e as { code?: string; syscall?: string };
            assert.equal(err.code, 'EINVAL');
            assert.equal(err.syscall, 'ioctl');
            return true;
          });
          await assert.rejects(bad.request(Op.Encrypt, PLAIN, Buffer.alloc(PLAIN.length), IV, 0), { code: 'EINVAL' });
          assert.equal(bad.native.descriptors(), 0, 'a failed open keeps no descriptor');
          await bad.close();
        },
      );

      it(
        "engine: with every device thread busy, a session's waiting requests go to the ABI's queue together",
        engineSkip === undefined ? {} : { skip: engineSkip },
        async (t) => {
          assert.ok(fixture);
          const { addon } = loadAddon();
          const key = randomBytes(16);
          const s = new KernelSession(
            openDeferredDevCryptoSession({
              path: fixture.path,
              abi: engineAbi,
              mode: 'cipher',
              cipher: C.CRYPTO_AES_CBC,
              key,
              ivLength: 16,
              blockLength: 16,
              chain: 'cbc',
              crid: 'software',
            }),
            `devcrypto:${engineAbi}:test`,
            false,
            'auto',
            { waitSyscall: () => 'ioctl' },
          );
          const queue = devCryptoInfo({ path: fixture.path, abi: engineAbi }).async === true;
          await s.open();
          // One device thread: what waits behind it is a backlog.
          addon!.setMaxThreads(DEVICE_LANE, 1);
          try {
            const before = addon!.dispatcherStats().device;
            const data = Array.from({ length: 64 }, () => randomBytes(64));
            const ivs = data.map(() => randomBytes(16));
            const outs = data.map(() => Buffer.alloc(64));
            // Disposable outputs, as the public API's (batched like any other device job).
            await Promise.all(data.map((d, i) => s.request(Op.Encrypt, d, outs[i]!, ivs[i]!, 0, -1, undefined, true)));
            data.forEach((d, i) => {
              const c = createCipheriv('aes-128-cbc', key, ivs[i]!).setAutoPadding(false);
              assert.equal(hex(outs[i]!), hex(Buffer.concat([c.update(d), c.final()])), `request ${i}`);
            });
            const after = addon!.dispatcherStats().device;
            t.diagnostic(
              `queue: ${queue}; ${after.batched - before.batched} of 64 requests in ${after.batches - before.batches} submissions to it`,
            );
            if (queue) assert.ok(after.batches > before.batches, `no batch in ${after.batched - before.batched} requests`);
            else assert.equal(after.batches, before.batches, 'batched without a queue');
          } finally {
            addon!.setMaxThreads(DEVICE_LANE, 16);
            await s.close();
          }
        },
      );

      it(
        "engine: a batch of requests (the ABI's queue where it has one)",
        engineSkip === undefined ? {} : { skip: engineSkip },
        async () => {
          assert.ok(fixture);
          let s: DevCryptoSession | undefined;
          try {
            s = openDevCryptoSession({
              path: fixture.path,
              abi: engineAbi,
              mode: 'cipher',
              cipher: C.CRYPTO_AES_CBC,
              key: KEY,
              ivLength: 16,
              blockLength: 16,
              chain: 'cbc',
              crid: 'software',
            });
            // Each block with its own IV (the previous ciphertext block): two independent requests.
            const outs = [Buffer.alloc(16), Buffer.alloc(16)];
            const ivs = [IV, Buffer.from(CIPHER.slice(0, 32), 'hex')];
            const results = await devCryptoRunBatch(s, [
              [OP_ENCRYPT, PLAIN.subarray(0, 16), outs[0] ?? null, ivs[0] ?? null, 0],
              [OP_ENCRYPT, PLAIN.subarray(16, 32), outs[1] ?? null, ivs[1] ?? null, 0],
            ]);
            for (const r of results) assert.equal(typeof r, 'number', `a request failed: ${String(r)}`);
            assert.equal(hex(Buffer.concat(outs)), CIPHER);
          } finally {
            s?.native.close();
          }
        },
      );

      it('the fixture survived every request and stops cleanly', async () => {
        assert.ok(fixture);
        assert.ok(fixture.alive(), `the fixture died:\n${fixture.stderr()}`);
        const path = fixture.path;
        const code = await fixture.stop();
        fixture = undefined;
        assert.equal(code, 0);
        assert.ok(!existsSync(path), `${path} outlived the fixture`);
      });
    });
  }
});
