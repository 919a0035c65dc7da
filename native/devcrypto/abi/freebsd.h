// FreeBSD /dev/crypto ABI (13.x-15.x; sys/opencrypto/cryptodev.h, installed as
// <crypto/cryptodev.h>). Structs keep FreeBSD's names and field names; request
// numbers are computed with the BSD _IOC encoding (ioc.h).
//
// Traps:
//  - COP_ENCRYPT is 1 and COP_DECRYPT 2 (cryptodev-linux: 0 and 1).
//  - Request numbers are one below cryptodev-linux's ('c',101 is CIOCGSESSION here), and BSD
//    direction bits make _IOW 0x8... (Linux: 0x4...).
//  - Algorithm ids: 21 is CAMELLIA_CBC (cryptodev-linux AES-CTR), 23 is AES_ICM = CTR
//    (cryptodev-linux AES-ECB), GCM is 25, SHA2_256 is 35 (cryptodev-linux 104); NetBSD diverges
//    from 15 on. These are the numbers src/framework/constants.ts uses.
//  - CIOCGSESSION (v1) forces crid = CRYPTO_FLAG_HARDWARE, so it never reaches aesni, ossl,
//    armv8crypto or cryptosoft (all register as software). Use CIOCGSESSION2 with a crid; the
//    software flag also needs the sysctl kern.crypto.allow_soft=1 (default 0), else EINVAL. No
//    suitable driver is EOPNOTSUPP.
//  - No CRIOGET (compat only, and it opens a new fd), no multi-part hashing, no async, poll or
//    batch API: every request is one synchronous ioctl on the fd that opened the device;
//    sessions are per open file and numbered from 0.
//  - A payload over 256 KiB - 4 is E2BIG (AAD likewise); cipher lengths must be block multiples
//    (EINVAL); a bad AEAD/ETA tag is EBADMSG.
//  - Asymmetric CIOCKEY/CIOCKEY2/CIOCASYMFEAT and struct crypt_kop were removed before 13.0;
//    they are kept below as `legacy12` for FreeBSD 12 kernels (ENOTTY on newer ones).
//
// Sizes and numbers are asserted for LP64 (amd64, arm64) and i386 against the
// values FreeBSD's headers give, which FreeBSD's tests/sys/opencrypto/cryptodev.py also uses.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ioc.h"

namespace kcrypto::devcrypto::freebsd_abi {

using ioc::request_t;

// ---- Lengths (cryptodev.h) ----
inline constexpr uint32_t HASH_MAX_LEN = 64;        // SHA2_512_HASH_LEN
inline constexpr uint32_t EALG_MAX_BLOCK_LEN = 64;  // CHACHA20_NATIVE_BLOCK_LEN (not 16 as elsewhere)
inline constexpr uint32_t AALG_MAX_RESULT_LEN = 64;
inline constexpr uint32_t AES_GCM_IV_LEN = 12;
inline constexpr uint32_t AES_CCM_IV_LEN = 12;
inline constexpr uint32_t AES_XTS_IV_LEN = 8;
inline constexpr uint32_t CHACHA20_POLY1305_IV_LEN = 12;
// cryptodev.c rejects a payload (and AAD) longer than this with E2BIG.
inline constexpr uint32_t kMaxRequest = 256 * 1024 - 4;

// ---- Algorithms ----
inline constexpr uint32_t CRYPTO_DES_CBC = 1;  // 1-6, 9, 10, 12, 13: defined, not on /dev/crypto
inline constexpr uint32_t CRYPTO_3DES_CBC = 2;
inline constexpr uint32_t CRYPTO_BLF_CBC = 3;
inline constexpr uint32_t CRYPTO_CAST_CBC = 4;
inline constexpr uint32_t CRYPTO_SKIPJACK_CBC = 5;
inline constexpr uint32_t CRYPTO_MD5_HMAC = 6;
inline constexpr uint32_t CRYPTO_SHA1_HMAC = 7;
inline constexpr uint32_t CRYPTO_RIPEMD160_HMAC = 8;
inline constexpr uint32_t CRYPTO_MD5_KPDK = 9;
inline constexpr uint32_t CRYPTO_SHA1_KPDK = 10;
inline constexpr uint32_t CRYPTO_RIJNDAEL128_CBC = 11;
inline constexpr uint32_t CRYPTO_AES_CBC = 11;
inline constexpr uint32_t CRYPTO_ARC4 = 12;
inline constexpr uint32_t CRYPTO_MD5 = 13;
inline constexpr uint32_t CRYPTO_SHA1 = 14;
inline constexpr uint32_t CRYPTO_NULL_HMAC = 15;
inline constexpr uint32_t CRYPTO_NULL_CBC = 16;
inline constexpr uint32_t CRYPTO_DEFLATE_COMP = 17;  // kernel only
inline constexpr uint32_t CRYPTO_SHA2_256_HMAC = 18;
inline constexpr uint32_t CRYPTO_SHA2_384_HMAC = 19;
inline constexpr uint32_t CRYPTO_SHA2_512_HMAC = 20;
inline constexpr uint32_t CRYPTO_CAMELLIA_CBC = 21;
inline constexpr uint32_t CRYPTO_AES_XTS = 22;
inline constexpr uint32_t CRYPTO_AES_ICM = 23;  // CTR: the whole 16-byte IV is a big-endian counter
inline constexpr uint32_t CRYPTO_AES_NIST_GMAC = 24;
inline constexpr uint32_t CRYPTO_AES_NIST_GCM_16 = 25;
// 26-28 (AES_{128,192,256}_NIST_GMAC) are #ifdef _KERNEL only.
inline constexpr uint32_t CRYPTO_BLAKE2B = 29;
inline constexpr uint32_t CRYPTO_BLAKE2S = 30;
inline constexpr uint32_t CRYPTO_CHACHA20 = 31;
inline constexpr uint32_t CRYPTO_SHA2_224_HMAC = 32;
inline constexpr uint32_t CRYPTO_RIPEMD160 = 33;
inline constexpr uint32_t CRYPTO_SHA2_224 = 34;
inline constexpr uint32_t CRYPTO_SHA2_256 = 35;
inline constexpr uint32_t CRYPTO_SHA2_384 = 36;
inline constexpr uint32_t CRYPTO_SHA2_512 = 37;
inline constexpr uint32_t CRYPTO_POLY1305 = 38;
inline constexpr uint32_t CRYPTO_AES_CCM_CBC_MAC = 39;
inline constexpr uint32_t CRYPTO_AES_CCM_16 = 40;
inline constexpr uint32_t CRYPTO_CHACHA20_POLY1305 = 41;
inline constexpr uint32_t CRYPTO_XCHACHA20_POLY1305 = 42;  // newer trees; not mapped by cryptodev.c

// ---- Operations, flags and driver ids ----
inline constexpr uint16_t COP_ENCRYPT = 1;              // cryptodev-linux: 0
inline constexpr uint16_t COP_DECRYPT = 2;              // cryptodev-linux: 1
inline constexpr uint16_t COP_F_CIPHER_FIRST = 0x0001;  // ETA, COP_ENCRYPT only
inline constexpr uint16_t COP_F_BATCH = 0x0008;         // accepted, a no-op today

inline constexpr uint32_t CRYPTO_FLAG_HARDWARE = 0x01000000;
inline constexpr uint32_t CRYPTO_FLAG_SOFTWARE = 0x02000000;
// The kernel-side names of the same bits, plus the ones user space only sees through crids.
inline constexpr uint32_t CRYPTOCAP_F_HARDWARE = CRYPTO_FLAG_HARDWARE;
inline constexpr uint32_t CRYPTOCAP_F_SOFTWARE = CRYPTO_FLAG_SOFTWARE;
inline constexpr uint32_t CRYPTOCAP_F_SYNC = 0x04000000;
inline constexpr uint32_t CRYPTOCAP_F_ACCEL_SOFTWARE = 0x08000000;

// ---- Structures ----
struct session_op {  // "NB: deprecated": CIOCGSESSION forces the hardware crid
  uint32_t cipher;
  uint32_t mac;
  uint32_t keylen;
  const void* key;
  int mackeylen;
  const void* mackey;
  uint32_t ses;  // out: per-fd session number, from 0
};

struct session2_op {
  uint32_t cipher;
  uint32_t mac;
  uint32_t keylen;
  const void* key;
  int mackeylen;
  const void* mackey;
  uint32_t ses;
  int crid;    // in: driver id or CRYPTO_FLAG_* mask; out: the chosen driver's id
  int ivlen;   // 0: the transform's default
  int maclen;  // 0: the full digest
  int pad[2];
};

struct crypt_op {
  uint32_t ses;
  uint16_t op;     // COP_ENCRYPT (1) / COP_DECRYPT (2); digest sessions accept 0 too
  uint16_t flags;  // COP_F_*
  unsigned int len;
  const void* src;
  void* dst;
  void* mac;       // digest out, or the tag in/out of an ETA session
  const void* iv;  // NULL: the IV is the head of src and the output starts at dst + ivlen
};

struct crypt_aead {
  uint32_t ses;
  uint16_t op;
  uint16_t flags;
  unsigned int len;
  unsigned int aadlen;
  unsigned int ivlen;  // must equal the session's IV length
  const void* src;
  void* dst;
  const void* aad;
  void* tag;
  const void* iv;
};

struct crypt_find_op {
  int crid;       // -1: look up `name`; otherwise return the name of crid
  char name[32];  // prefix-matched against the device nameunit or name
};

// ---- Requests ----
inline constexpr request_t CRIOGET = ioc::bsd_iowr<uint32_t>('c', 100);  // COMPAT_FREEBSD12 only
inline constexpr request_t CIOCGSESSION = ioc::bsd_iowr<session_op>('c', 101);
inline constexpr request_t CIOCFSESSION = ioc::bsd_iow<uint32_t>('c', 102);
inline constexpr request_t CIOCCRYPT = ioc::bsd_iowr<crypt_op>('c', 103);
inline constexpr request_t CIOCGSESSION2 = ioc::bsd_iowr<session2_op>('c', 106);
inline constexpr request_t CIOCFINDDEV = ioc::bsd_iowr<crypt_find_op>('c', 108);
inline constexpr request_t CIOCCRYPTAEAD = ioc::bsd_iowr<crypt_aead>('c', 109);

// ---- FreeBSD 12 and earlier: asymmetric operations ----
namespace legacy12 {
inline constexpr uint32_t CRK_MOD_EXP = 0;
inline constexpr uint32_t CRK_MOD_EXP_CRT = 1;
inline constexpr uint32_t CRK_DSA_SIGN = 2;
inline constexpr uint32_t CRK_DSA_VERIFY = 3;
inline constexpr uint32_t CRK_DH_COMPUTE_KEY = 4;
inline constexpr uint32_t CRK_ALGORITHM_MAX = 4;
inline constexpr uint32_t CRF_MOD_EXP = 1u << CRK_MOD_EXP;
inline constexpr uint32_t CRF_MOD_EXP_CRT = 1u << CRK_MOD_EXP_CRT;
inline constexpr uint32_t CRF_DSA_SIGN = 1u << CRK_DSA_SIGN;
inline constexpr uint32_t CRF_DSA_VERIFY = 1u << CRK_DSA_VERIFY;
inline constexpr uint32_t CRF_DH_COMPUTE_KEY = 1u << CRK_DH_COMPUTE_KEY;
inline constexpr uint32_t CRK_MAXPARAM = 8;

struct crparam {
  void* crp_p;  // caddr_t
  unsigned int crp_nbits;
};

struct crypt_kop {
  unsigned int crk_op;
  unsigned int crk_status;
  unsigned short crk_iparams;
  unsigned short crk_oparams;
  unsigned int crk_crid;  // CIOCKEY2 only (rw)
  crparam crk_param[CRK_MAXPARAM];
};

inline constexpr request_t CIOCKEY = ioc::bsd_iowr<crypt_kop>('c', 104);
inline constexpr request_t CIOCASYMFEAT = ioc::bsd_ior<uint32_t>('c', 105);
inline constexpr request_t CIOCKEY2 = ioc::bsd_iowr<crypt_kop>('c', 107);
}  // namespace legacy12

// ---- Layout checks ----
static_assert(sizeof(crypt_find_op) == 36);
static_assert(CIOCFSESSION == 0x80046366);
static_assert(CIOCFINDDEV == 0xC024636C);
static_assert(CRIOGET == 0xC0046364);
static_assert(legacy12::CIOCASYMFEAT == 0x40046369);
#if defined(__LP64__) || defined(_LP64)
static_assert(sizeof(session_op) == 48);
static_assert(offsetof(session_op, key) == 16 && offsetof(session_op, mackeylen) == 24);
static_assert(offsetof(session_op, mackey) == 32 && offsetof(session_op, ses) == 40);
static_assert(sizeof(session2_op) == 64);
static_assert(offsetof(session2_op, crid) == 44 && offsetof(session2_op, ivlen) == 48);
static_assert(offsetof(session2_op, maclen) == 52 && offsetof(session2_op, pad) == 56);
static_assert(sizeof(crypt_op) == 48);
static_assert(offsetof(crypt_op, src) == 16 && offsetof(crypt_op, dst) == 24);
static_assert(offsetof(crypt_op, mac) == 32 && offsetof(crypt_op, iv) == 40);
static_assert(sizeof(crypt_aead) == 64);
static_assert(offsetof(crypt_aead, aadlen) == 12 && offsetof(crypt_aead, ivlen) == 16);
static_assert(offsetof(crypt_aead, src) == 24 && offsetof(crypt_aead, dst) == 32);
static_assert(offsetof(crypt_aead, aad) == 40 && offsetof(crypt_aead, tag) == 48);
static_assert(offsetof(crypt_aead, iv) == 56);
static_assert(sizeof(legacy12::crypt_kop) == 144);
// The hard-coded 64-bit values of tests/sys/opencrypto/cryptodev.py, in decimal there.
static_assert(CIOCGSESSION == 0xC0306365 && CIOCGSESSION == 3224396645u);
static_assert(CIOCGSESSION2 == 0xC040636A && CIOCGSESSION2 == 3225445226u);
static_assert(CIOCCRYPT == 0xC0306367 && CIOCCRYPT == 3224396647u);
static_assert(CIOCCRYPTAEAD == 0xC040636D && CIOCCRYPTAEAD == 3225445229u);
static_assert(CIOCFINDDEV == 3223610220u);
static_assert(legacy12::CIOCKEY == 0xC0906368 && legacy12::CIOCKEY2 == 0xC090636B);
#elif defined(__i386__)
static_assert(sizeof(session_op) == 28 && sizeof(session2_op) == 48);
static_assert(sizeof(crypt_op) == 28 && sizeof(crypt_aead) == 40);
static_assert(CIOCGSESSION == 0xC01C6365);
static_assert(CIOCCRYPT == 0xC01C6367 && CIOCCRYPT == 3223085927u);
static_assert(CIOCGSESSION2 == 0xC030636A && CIOCGSESSION2 == 3224396650u);
static_assert(CIOCCRYPTAEAD == 0xC028636D && CIOCCRYPTAEAD == 3223872365u);
#endif

}  // namespace kcrypto::devcrypto::freebsd_abi
