// cryptodev-linux /dev/crypto ABI (the out-of-tree module, VERSION 1.14).
// Structs keep cryptodev-linux's names and field names (crypto/cryptodev.h);
// request numbers are computed with the Linux _IOC encoding (ioc.h).
//
// Traps, each of which silently does the wrong thing if a BSD constant is reused here:
//  - COP_ENCRYPT is 0 and COP_DECRYPT 1 (the BSDs use 1 and 2; AF_ALG uses 1 for encrypt).
//  - Request numbers are the BSD ones + 1 ('c',102 is CIOCGSESSION here, CIOCFSESSION on
//    FreeBSD) and use Linux direction bits (_IOW is 0x4..., not 0x8...).
//  - Algorithm ids diverge after 20: 21 is AES-CTR (CAMELLIA_CBC on FreeBSD), 23 is AES-ECB
//    (AES_ICM on FreeBSD), GCM is 50, CCM 51, and plain SHA-2 hashes live at 103-106.
//  - Session ids are random u32s: 0 is a valid id.
//  - CIOCFSESSION takes a pointer to the u32 session id (openssl#7302 passed &sess wrongly).
//  - CIOCKEY is defined but not handled (EINVAL) and CIOCASYMFEAT always reports 0.
//  - CIOCASYNCCRYPT/CIOCASYNCFETCH exist only in modules built with ENABLE_ASYNC; without it the
//    ioctl fails (ENOTTY/EINVAL), and with it a full ring or an empty done list is EBUSY.
//  - CIOCAUTHCRYPT is not handled for 32-bit processes on a 64-bit kernel (EINVAL).
//  - An unknown or unavailable algorithm is EINVAL, not ENOENT.
//
// Sizes and numbers are asserted for LP64 (x86_64, arm64, riscv64: the layout is the same on
// every LP64 target with the asm-generic ioctl encoding), the values the module's header gives.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ioc.h"

namespace kcrypto::devcrypto::linux_abi {

using ioc::request_t;

// ---- Limits (crypto/cryptodev.h) ----
inline constexpr uint32_t CRYPTO_HMAC_MAX_KEY_LEN = 512;
inline constexpr uint32_t CRYPTO_CIPHER_MAX_KEY_LEN = 64;
inline constexpr uint32_t EALG_MAX_BLOCK_LEN = 16;
inline constexpr uint32_t AALG_MAX_RESULT_LEN = 64;
inline constexpr uint32_t CRYPTODEV_MAX_ALG_NAME = 64;
inline constexpr uint32_t HASH_MAX_LEN = 64;

// ---- Algorithms (enum cryptodev_crypto_op_t) ----
inline constexpr uint32_t CRYPTO_DES_CBC = 1;
inline constexpr uint32_t CRYPTO_3DES_CBC = 2;
inline constexpr uint32_t CRYPTO_BLF_CBC = 3;
inline constexpr uint32_t CRYPTO_CAST_CBC = 4;      // enum only: no kernel mapping (EINVAL)
inline constexpr uint32_t CRYPTO_SKIPJACK_CBC = 5;  // enum only
inline constexpr uint32_t CRYPTO_MD5_HMAC = 6;
inline constexpr uint32_t CRYPTO_SHA1_HMAC = 7;
inline constexpr uint32_t CRYPTO_RIPEMD160_HMAC = 8;
inline constexpr uint32_t CRYPTO_MD5_KPDK = 9;    // enum only
inline constexpr uint32_t CRYPTO_SHA1_KPDK = 10;  // enum only
inline constexpr uint32_t CRYPTO_RIJNDAEL128_CBC = 11;
inline constexpr uint32_t CRYPTO_AES_CBC = 11;
inline constexpr uint32_t CRYPTO_ARC4 = 12;  // enum only
inline constexpr uint32_t CRYPTO_MD5 = 13;
inline constexpr uint32_t CRYPTO_SHA1 = 14;
inline constexpr uint32_t CRYPTO_DEFLATE_COMP = 15;  // enum only
inline constexpr uint32_t CRYPTO_NULL = 16;          // ecb(cipher_null): FreeBSD's NULL_CBC is 16 too, NULL_HMAC is 15
inline constexpr uint32_t CRYPTO_LZS_COMP = 17;      // enum only
inline constexpr uint32_t CRYPTO_SHA2_256_HMAC = 18;
inline constexpr uint32_t CRYPTO_SHA2_384_HMAC = 19;
inline constexpr uint32_t CRYPTO_SHA2_512_HMAC = 20;
inline constexpr uint32_t CRYPTO_AES_CTR = 21;  // FreeBSD 21 = CAMELLIA_CBC
inline constexpr uint32_t CRYPTO_AES_XTS = 22;
inline constexpr uint32_t CRYPTO_AES_ECB = 23;  // FreeBSD 23 = AES_ICM (CTR)
inline constexpr uint32_t CRYPTO_AES_CFB = 24;  // 1.13+; mainline dropped cfb(aes) around 6.7
inline constexpr uint32_t CRYPTO_AES_OFB = 25;  // 1.13+; likewise
inline constexpr uint32_t CRYPTO_AES_GCM = 50;
inline constexpr uint32_t CRYPTO_AES_CCM = 51;  // 1.13+
inline constexpr uint32_t CRYPTO_CAMELLIA_CBC = 101;
inline constexpr uint32_t CRYPTO_RIPEMD160 = 102;
inline constexpr uint32_t CRYPTO_SHA2_224 = 103;
inline constexpr uint32_t CRYPTO_SHA2_256 = 104;
inline constexpr uint32_t CRYPTO_SHA2_384 = 105;
inline constexpr uint32_t CRYPTO_SHA2_512 = 106;
inline constexpr uint32_t CRYPTO_SHA2_224_HMAC = 107;
inline constexpr uint32_t CRYPTO_TLS11_AES_CBC_HMAC_SHA1 = 108;
inline constexpr uint32_t CRYPTO_TLS12_AES_CBC_HMAC_SHA256 = 109;
inline constexpr uint32_t CRYPTO_ALGORITHM_ALL = 110;

// ---- Operations and flags ----
inline constexpr uint16_t COP_ENCRYPT = 0;  // BSD: 1
inline constexpr uint16_t COP_DECRYPT = 1;  // BSD: 2

inline constexpr uint16_t COP_FLAG_NONE = 0;
inline constexpr uint16_t COP_FLAG_UPDATE = 1 << 0;  // multi-part hash: absorb, keep state
inline constexpr uint16_t COP_FLAG_FINAL = 1 << 1;   // multi-part hash: finish
inline constexpr uint16_t COP_FLAG_WRITE_IV = 1 << 2;
inline constexpr uint16_t COP_FLAG_NO_ZC = 1 << 3;  // rejected (EINVAL) on the async path
inline constexpr uint16_t COP_FLAG_AEAD_TLS_TYPE = 1 << 4;
inline constexpr uint16_t COP_FLAG_AEAD_SRTP_TYPE = 1 << 5;
inline constexpr uint16_t COP_FLAG_RESET = 1 << 6;  // with UPDATE: start a new hash

inline constexpr uint32_t SIOP_FLAG_KERNEL_DRIVER_ONLY = 1;

// ---- Keying (defined, never implemented by the module) ----
inline constexpr uint32_t CRK_MOD_EXP = 0;
inline constexpr uint32_t CRK_MOD_EXP_CRT = 1;
inline constexpr uint32_t CRK_DSA_SIGN = 2;
inline constexpr uint32_t CRK_DSA_VERIFY = 3;
inline constexpr uint32_t CRK_DH_COMPUTE_KEY = 4;
inline constexpr uint32_t CRK_ALGORITHM_ALL = 5;
inline constexpr uint32_t CRF_MOD_EXP = 1u << CRK_MOD_EXP;
inline constexpr uint32_t CRF_MOD_EXP_CRT = 1u << CRK_MOD_EXP_CRT;
inline constexpr uint32_t CRF_DSA_SIGN = 1u << CRK_DSA_SIGN;
inline constexpr uint32_t CRF_DSA_VERIFY = 1u << CRK_DSA_VERIFY;
inline constexpr uint32_t CRF_DH_COMPUTE_KEY = 1u << CRK_DH_COMPUTE_KEY;
inline constexpr uint32_t CRK_MAXPARAM = 8;

// ---- Structures ----
struct session_op {
  uint32_t cipher;  // cryptodev_crypto_op_t
  uint32_t mac;
  uint32_t keylen;
  uint8_t* key;
  uint32_t mackeylen;
  uint8_t* mackey;
  uint32_t ses;  // out: session id (random; 0 is valid)
};

struct alg_info {
  char cra_name[CRYPTODEV_MAX_ALG_NAME];
  char cra_driver_name[CRYPTODEV_MAX_ALG_NAME];
};

struct session_info_op {
  uint32_t ses;
  alg_info cipher_info;
  alg_info hash_info;
  uint16_t alignmask;
  uint32_t flags;  // SIOP_FLAG_*
};

struct crypt_op {
  uint32_t ses;
  uint16_t op;     // COP_ENCRYPT (0) / COP_DECRYPT (1)
  uint16_t flags;  // COP_FLAG_*
  uint32_t len;
  uint8_t* src;
  uint8_t* dst;
  uint8_t* mac;  // hash/MAC output
  uint8_t* iv;
};

struct crypt_auth_op {
  uint32_t ses;
  uint16_t op;
  uint16_t flags;     // 0 for plain AEAD; COP_FLAG_AEAD_{TLS,SRTP}_TYPE
  uint32_t len;       // decrypt: includes the tag
  uint32_t auth_len;  // ≤ PAGE_SIZE (copied and chained in front of src/dst)
  uint8_t* auth_src;
  uint8_t* src;
  uint8_t* dst;      // encrypt: room for len + tag_len; the tag follows the data
  uint8_t* tag;      // used by SRTP only
  uint32_t tag_len;  // 0: the algorithm's maximum
  uint8_t* iv;
  uint32_t iv_len;
};

struct cphash_op {
  uint32_t dst_ses;
  uint32_t src_ses;
};

struct crparam {
  uint8_t* crp_p;
  uint32_t crp_nbits;
};

struct crypt_kop {
  uint32_t crk_op;
  uint32_t crk_status;
  uint16_t crk_iparams;
  uint16_t crk_oparams;
  uint32_t crk_pad1;
  crparam crk_param[CRK_MAXPARAM];
};

// ---- Requests ----
inline constexpr request_t CRIOGET = ioc::linux_iowr<uint32_t>('c', 101);  // not needed: dups the fd
inline constexpr request_t CIOCGSESSION = ioc::linux_iowr<session_op>('c', 102);
inline constexpr request_t CIOCFSESSION = ioc::linux_iow<uint32_t>('c', 103);
inline constexpr request_t CIOCCRYPT = ioc::linux_iowr<crypt_op>('c', 104);
inline constexpr request_t CIOCKEY = ioc::linux_iowr<crypt_kop>('c', 105);
inline constexpr request_t CIOCASYMFEAT = ioc::linux_ior<uint32_t>('c', 106);
inline constexpr request_t CIOCGSESSINFO = ioc::linux_iowr<session_info_op>('c', 107);
inline constexpr request_t CIOCAUTHCRYPT = ioc::linux_iowr<crypt_auth_op>('c', 109);
inline constexpr request_t CIOCASYNCCRYPT = ioc::linux_iow<crypt_op>('c', 110);
inline constexpr request_t CIOCASYNCFETCH = ioc::linux_ior<crypt_op>('c', 111);
inline constexpr request_t CIOCCPHASH = ioc::linux_iow<cphash_op>('c', 112);

// The async ring's capacity (MAX_COP_RINGSIZE); the default ring holds 16.
inline constexpr uint32_t kAsyncRingMax = 64;

// ---- Layout checks ----
static_assert(sizeof(cphash_op) == 8);
static_assert(sizeof(alg_info) == 128);
static_assert(offsetof(crypt_op, len) == 8);
#if defined(__LP64__) || defined(_LP64)
static_assert(sizeof(session_op) == 48);
static_assert(offsetof(session_op, key) == 16 && offsetof(session_op, mackeylen) == 24);
static_assert(offsetof(session_op, mackey) == 32 && offsetof(session_op, ses) == 40);
static_assert(sizeof(session_info_op) == 268);
static_assert(offsetof(session_info_op, alignmask) == 260 && offsetof(session_info_op, flags) == 264);
static_assert(sizeof(crypt_op) == 48);
static_assert(offsetof(crypt_op, src) == 16 && offsetof(crypt_op, dst) == 24);
static_assert(offsetof(crypt_op, mac) == 32 && offsetof(crypt_op, iv) == 40);
static_assert(sizeof(crypt_auth_op) == 72);
static_assert(offsetof(crypt_auth_op, auth_src) == 16 && offsetof(crypt_auth_op, src) == 24);
static_assert(offsetof(crypt_auth_op, dst) == 32 && offsetof(crypt_auth_op, tag) == 40);
static_assert(offsetof(crypt_auth_op, tag_len) == 48 && offsetof(crypt_auth_op, iv) == 56);
static_assert(offsetof(crypt_auth_op, iv_len) == 64);
static_assert(sizeof(crypt_kop) == 144);
#endif
#if (defined(__LP64__) || defined(_LP64)) && !defined(__alpha__) && !defined(__mips__) && !defined(__powerpc__) && !defined(__sparc__)
static_assert(CRIOGET == 0xc0046365);
static_assert(CIOCGSESSION == 0xc0306366);
static_assert(CIOCFSESSION == 0x40046367);
static_assert(CIOCCRYPT == 0xc0306368);
static_assert(CIOCKEY == 0xc0906369);
static_assert(CIOCASYMFEAT == 0x8004636a);
static_assert(CIOCGSESSINFO == 0xc10c636b);
static_assert(CIOCAUTHCRYPT == 0xc048636d);
static_assert(CIOCASYNCCRYPT == 0x4030636e);
static_assert(CIOCASYNCFETCH == 0x8030636f);
static_assert(CIOCCPHASH == 0x40086370);
#endif

}  // namespace kcrypto::devcrypto::linux_abi
