/**
 * crypto(9) constants with their C names and FreeBSD's numbering (crypto.9 and cryptodev.h;
 * algorithms added after the 2015 man page keep the numbers FreeBSD gave them later). Drivers
 * translate them to their own interface's ids; these numbers never reach a kernel.
 */
import { errnoOf } from '../errno.js';

/* Algorithms (cri_alg / crd_alg). */
export const CRYPTO_DES_CBC = 1;
export const CRYPTO_3DES_CBC = 2;
export const CRYPTO_BLF_CBC = 3;
export const CRYPTO_CAST_CBC = 4;
export const CRYPTO_SKIPJACK_CBC = 5;
export const CRYPTO_MD5_HMAC = 6;
export const CRYPTO_SHA1_HMAC = 7;
export const CRYPTO_RIPEMD160_HMAC = 8;
export const CRYPTO_MD5_KPDK = 9;
export const CRYPTO_SHA1_KPDK = 10;
export const CRYPTO_RIJNDAEL128_CBC = 11;
export const CRYPTO_AES_CBC = 11;
export const CRYPTO_ARC4 = 12;
export const CRYPTO_MD5 = 13;
export const CRYPTO_SHA1 = 14;
export const CRYPTO_NULL_HMAC = 15;
export const CRYPTO_NULL_CBC = 16;
export const CRYPTO_DEFLATE_COMP = 17;
export const CRYPTO_SHA2_256_HMAC = 18;
export const CRYPTO_SHA2_384_HMAC = 19;
export const CRYPTO_SHA2_512_HMAC = 20;
export const CRYPTO_CAMELLIA_CBC = 21;
export const CRYPTO_AES_XTS = 22;
export const CRYPTO_AES_ICM = 23;
export const CRYPTO_AES_NIST_GMAC = 24;
export const CRYPTO_AES_NIST_GCM_16 = 25;
export const CRYPTO_AES_128_NIST_GMAC = 26;
export const CRYPTO_AES_192_NIST_GMAC = 27;
export const CRYPTO_AES_256_NIST_GMAC = 28;
export const CRYPTO_BLAKE2B = 29;
export const CRYPTO_BLAKE2S = 30;
export const CRYPTO_CHACHA20 = 31;
export const CRYPTO_SHA2_224_HMAC = 32;
export const CRYPTO_RIPEMD160 = 33;
export const CRYPTO_SHA2_224 = 34;
export const CRYPTO_SHA2_256 = 35;
export const CRYPTO_SHA2_384 = 36;
export const CRYPTO_SHA2_512 = 37;
export const CRYPTO_POLY1305 = 38;
export const CRYPTO_AES_CCM_CBC_MAC = 39;
export const CRYPTO_AES_CCM_16 = 40;
export const CRYPTO_CHACHA20_POLY1305 = 41;
export const CRYPTO_ALGORITHM_MAX = 41;

/* Descriptor flags (crd_flags). */
export const CRD_F_ENCRYPT = 0x01;
export const CRD_F_IV_PRESENT = 0x02;
export const CRD_F_IV_EXPLICIT = 0x04;
export const CRD_F_DSA_SHA_NEEDED = 0x08;
export const CRD_F_KEY_EXPLICIT = 0x10;
export const CRD_F_COMP = 0x0f;

/* Request flags (crp_flags). */
export const CRYPTO_F_IMBUF = 0x0001;
export const CRYPTO_F_IOV = 0x0002;
export const CRYPTO_F_BATCH = 0x0008;
export const CRYPTO_F_CBIMM = 0x0010;
export const CRYPTO_F_DONE = 0x0020;
export const CRYPTO_F_CBIFSYNC = 0x0040;

/* Driver capability flags (crypto_get_driverid, crid of crypto_newsession). */
export const CRYPTOCAP_F_HARDWARE = 0x01000000;
export const CRYPTOCAP_F_SOFTWARE = 0x02000000;
export const CRYPTOCAP_F_SYNC = 0x04000000;
export const CRYPTOCAP_F_CLEANUP = 0x80000000;

/* Keying operations (krp_op) and their parameter counts. */
export const CRK_MOD_EXP = 0;
export const CRK_MOD_EXP_CRT = 1;
export const CRK_DSA_SIGN = 2;
export const CRK_DSA_VERIFY = 3;
export const CRK_DH_COMPUTE_KEY = 4;
export const CRK_ALGORITHM_MAX = 4;
export const CRK_MAXPARAM = 8;

/* Queues for crypto_unblock. */
export const CRYPTO_SYMQ = 0x1;
export const CRYPTO_ASYMQ = 0x2;

/* Hint passed to process() when more requests for the same driver follow (batches). */
export const CRYPTO_HINT_MORE = 0x1;

/** Largest IV (cri_iv / crd_iv). */
export const EALG_MAX_BLOCK_LEN = 16;

/*
 * kcrypto extensions. Algorithms the BSD numbering has no id for, and descriptor flags for
 * what the Node-style API needs beyond crypto(9) (incremental hashing as cryptodev-linux's
 * COP_FLAG_UPDATE/FINAL, tag verification as FreeBSD's CRYPTO_OP_VERIFY_DIGEST). Ids start at
 * 0x1000 so that they can never collide with a number a BSD assigns later.
 */
export const CRYPTO_KC_AES_ECB = 0x1000;
export const CRYPTO_KC_AES_CMAC = 0x1001;
export const CRYPTO_KC_SHA3_224 = 0x1002;
export const CRYPTO_KC_SHA3_256 = 0x1003;
export const CRYPTO_KC_SHA3_384 = 0x1004;
export const CRYPTO_KC_SHA3_512 = 0x1005;
export const CRYPTO_KC_SHA3_224_HMAC = 0x1006;
export const CRYPTO_KC_SHA3_256_HMAC = 0x1007;
export const CRYPTO_KC_SHA3_384_HMAC = 0x1008;
export const CRYPTO_KC_SHA3_512_HMAC = 0x1009;
export const CRYPTO_KC_SM3 = 0x100a;
export const CRYPTO_KC_SM3_HMAC = 0x100b;
export const CRYPTO_KC_BLAKE2B_HMAC = 0x100c;
export const CRYPTO_KC_BLAKE2S_HMAC = 0x100d;
/** A DRBG: the descriptor's region is filled with random bytes; the session key is the seed. */
export const CRYPTO_KC_STDRNG = 0x100e;

/** Hash descriptor: feed the region into the session's running state; nothing is written. */
export const CRD_F_KC_UPDATE = 0x1000;
/** Hash descriptor: feed the region, then write the digest and reset the running state. */
export const CRD_F_KC_FINAL = 0x2000;
/** MAC descriptor: compare the MAC with the one at `inject` (or crp.mac); EBADMSG if it differs. */
export const CRD_F_KC_VERIFY = 0x4000;
/**
 * Request flag: the consumer reads `crp.obuf` only after a successful completion, and gives a
 * request it resubmits after a failure (EAGAIN from a migration included) a fresh `obuf`. A
 * device driver may then have the kernel write straight into `obuf`: a late write from a device
 * that went away lands in a buffer nobody reads. Without it, a device request's output reaches
 * `obuf` only while its session lives, through a copy. A layer that resubmits on the
 * consumer's behalf (the router) replaces `crp.obuf` itself.
 */
export const CRYPTO_F_KC_OBUF_DISPOSABLE = 0x1000;

/*
 * errno values a consumer and a driver meet, this host's numbers (they differ between Linux and
 * the BSDs): ERESTART, returned by a driver's process() to push back (the framework holds its
 * requests until crypto_unblock()); EAGAIN, a request's etype when its session moved to another
 * driver (crp.sid names the new session: resubmit there).
 */
export const ERESTART = errnoOf('ERESTART');
export const EAGAIN = errnoOf('EAGAIN');
