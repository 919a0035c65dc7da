// kcrypto's subtle on the kernel's drivers against node's crypto.subtle (the differential core
// of test/support/webcrypto.ts): `driver: 'kernel'` (the kernel's own pick through AF_ALG) for
// every algorithm it reaches, and the virtio-crypto card's AES-CBC where the kernel lists it.
// Each run asserts its requests were counted on an AF_ALG driver, not served elsewhere.
import { algorithmSupport, createSubtle } from '../../src/index.js';
import { afAlgUnavailable, kernelListing, listedKernelDrivers } from '../support/drivers.js';
import { describeAes, describeDifferential, type AesName } from '../support/webcrypto.js';

const list = await kernelListing();
const noAfAlg = afAlgUnavailable(list);
const support = await algorithmSupport();

/** The WebCrypto algorithms whose kernel algorithms AF_ALG does not reach here (asserted NotSupportedError). */
const KERNEL_NAMES: Record<AesName, string> = { 'AES-CBC': 'cbc(aes)', 'AES-CTR': 'ctr(aes)', 'AES-GCM': 'gcm(aes)' };
const unreached = (Object.keys(KERNEL_NAMES) as AesName[]).filter(
  (n) => support.find((a) => a.algorithm === KERNEL_NAMES[n])?.afalg === null,
);
/** Hashes and HMACs the kernel path must reach for the digest and HMAC suites to run on it. */
const hashReason = ['sha1', 'sha256', 'sha384', 'sha512', 'hmac(sha1)', 'hmac(sha256)', 'hmac(sha384)', 'hmac(sha512)']
  .map((name) => support.find((a) => a.algorithm === name))
  .find((a) => a?.afalg === null);

describeDifferential({
  label: "driver 'kernel'",
  subtle: createSubtle({ driver: 'kernel' }),
  skip:
    noAfAlg ?? (hashReason ? `AF_ALG does not reach ${hashReason.algorithm}: ${hashReason.afalgReason ?? 'no reason given'}` : undefined),
  unserved: unreached,
  countedOn: 'afalg:',
});

const VIRTIO_CBC = 'virtio_crypto_aes_cbc';
const virtio = listedKernelDrivers(list, 'cbc(aes)').find((d) => d.kernelDriver === VIRTIO_CBC);
describeAes(
  {
    label: VIRTIO_CBC,
    subtle: createSubtle({ driver: VIRTIO_CBC }),
    skip:
      noAfAlg ??
      (virtio === undefined
        ? `this kernel lists no ${VIRTIO_CBC} (no virtio-crypto card, or its driver does not register AES-CBC)`
        : virtio.refusal !== undefined
          ? `AF_ALG refuses ${virtio.name}: ${virtio.refusal}`
          : virtio.available
            ? undefined
            : (virtio.reason ?? 'listed as unavailable')),
    countedOn: `afalg:${VIRTIO_CBC}`,
  },
  ['AES-CBC'],
);
