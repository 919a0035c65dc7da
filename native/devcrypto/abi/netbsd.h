// NetBSD /dev/crypto ABI (sys/opencrypto/cryptodev.h, v1.44-1.50, NetBSD 9-10).
// Structs keep NetBSD's names and field names; request numbers are computed with the BSD
// _IOC encoding (ioc.h).
//
// Traps:
//  - COP_ENCRYPT/COP_DECRYPT are 1/2 as on FreeBSD (cryptodev-linux: 0/1), plus COP_COMP 3 and
//    COP_DECOMP 4.
//  - Request numbers differ from FreeBSD's: CIOCGSESSION is 'c',112 (FreeBSD's 101 is NetBSD's
//    COMPAT_50 OCIOCGSESSION, whose struct lacks comp_alg), CIOCCRYPT 'c',114 with a 56-byte
//    crypt_op (dst_len added).
//  - Algorithm ids diverge from FreeBSD after 14: SHA2_256_HMAC is 15 (FreeBSD NULL_HMAC),
//    NULL_CBC 17, SHA2_384/512_HMAC 24/25, CAMELLIA_CBC 26, AES_CTR 27, AES_GCM_16 29. No plain
//    SHA-2 hashes, no XTS, CCM or ChaCha.
//  - GCM through CIOCCRYPT takes the AES key plus a 4-byte salt (20/28/36 bytes) paired with
//    mac = CRYPTO_AES_*_GMAC on the same key, and on decrypt returns the computed tag in `mac`
//    rather than verifying it (NetBSD's tests/crypto/opencrypto/h_gcm.c): the caller compares.
//  - open() already clones; CRIOGET is obsolete. Session numbers start at 1 (0 means "failed"
//    in CIOCNGSESSION). open() fails with ENXIO when kern.usercrypto is 0.
//  - Multi-request async: CIOCNCRYPTM queues, poll() reports POLLIN when results are pending,
//    CIOCNCRYPTRETM harvests (rewriting `count`), CIOCNCRYPTRET fetches one reqid and is
//    EINPROGRESS while it runs. No multi-part hashing.
//  - crypt_n_kop carries crk_reqid in crypt_kop's crk_pad1 slot, and crk_opaque after the params.
//
// Sizes and numbers are asserted for LP64 (amd64, aarch64) against the values NetBSD's cryptodev.h gives.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ioc.h"

namespace kcrypto::devcrypto::netbsd_abi {

using ioc::request_t;

// ---- Lengths ----
inline constexpr uint32_t EALG_MAX_BLOCK_LEN = 16;
inline constexpr uint32_t AALG_MAX_RESULT_LEN = 64;
inline constexpr uint32_t CRYPTO_MAX_MAC_LEN = 32;
// cryptodev_op and cryptodev_mop refuse a request longer than this with E2BIG, as FreeBSD does.
inline constexpr uint32_t kMaxRequest = 256 * 1024 - 4;

// ---- Algorithms ----
inline constexpr uint32_t CRYPTO_DES_CBC = 1;
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
inline constexpr uint32_t CRYPTO_SHA2_256_HMAC = 15;  // FreeBSD 15 = NULL_HMAC
inline constexpr uint32_t CRYPTO_SHA2_HMAC = 15;      // picks 256/384/512 from mackeylen 32/48/64
inline constexpr uint32_t CRYPTO_NULL_HMAC = 16;
inline constexpr uint32_t CRYPTO_NULL_CBC = 17;
inline constexpr uint32_t CRYPTO_DEFLATE_COMP = 18;
inline constexpr uint32_t CRYPTO_MD5_HMAC_96 = 19;
inline constexpr uint32_t CRYPTO_SHA1_HMAC_96 = 20;
inline constexpr uint32_t CRYPTO_RIPEMD160_HMAC_96 = 21;
inline constexpr uint32_t CRYPTO_GZIP_COMP = 22;
inline constexpr uint32_t CRYPTO_DEFLATE_COMP_NOGROW = 23;
inline constexpr uint32_t CRYPTO_SHA2_384_HMAC = 24;
inline constexpr uint32_t CRYPTO_SHA2_512_HMAC = 25;
inline constexpr uint32_t CRYPTO_CAMELLIA_CBC = 26;
inline constexpr uint32_t CRYPTO_AES_CTR = 27;
inline constexpr uint32_t CRYPTO_AES_XCBC_MAC_96 = 28;
inline constexpr uint32_t CRYPTO_AES_GCM_16 = 29;
inline constexpr uint32_t CRYPTO_AES_128_GMAC = 30;
inline constexpr uint32_t CRYPTO_AES_192_GMAC = 31;
inline constexpr uint32_t CRYPTO_AES_256_GMAC = 32;
inline constexpr uint32_t CRYPTO_AES_GMAC = 33;
inline constexpr uint32_t CRYPTO_ALGORITHM_MAX = 33;

// ---- Operations and flags ----
inline constexpr uint16_t COP_ENCRYPT = 1;
inline constexpr uint16_t COP_DECRYPT = 2;
inline constexpr uint16_t COP_COMP = 3;
inline constexpr uint16_t COP_DECOMP = 4;
inline constexpr uint16_t COP_F_BATCH = 0x0008;
inline constexpr uint16_t COP_F_MORE = 0x0010;  // crypt_n_op: more data to follow

// ---- Keying ----
inline constexpr uint32_t CRK_MOD_EXP = 0;
inline constexpr uint32_t CRK_MOD_EXP_CRT = 1;
inline constexpr uint32_t CRK_DSA_SIGN = 2;
inline constexpr uint32_t CRK_DSA_VERIFY = 3;
inline constexpr uint32_t CRK_DH_COMPUTE_KEY = 4;
inline constexpr uint32_t CRK_MOD_ADD = 5;
inline constexpr uint32_t CRK_MOD_ADDINV = 6;
inline constexpr uint32_t CRK_MOD_SUB = 7;
inline constexpr uint32_t CRK_MOD_MULT = 8;
inline constexpr uint32_t CRK_MOD_MULTINV = 9;
inline constexpr uint32_t CRK_MOD = 10;
inline constexpr uint32_t CRK_ALGORITHM_MAX = 10;
inline constexpr uint32_t CRF_MOD_EXP = 1u << CRK_MOD_EXP;
inline constexpr uint32_t CRF_MOD_EXP_CRT = 1u << CRK_MOD_EXP_CRT;
inline constexpr uint32_t CRF_DSA_SIGN = 1u << CRK_DSA_SIGN;
inline constexpr uint32_t CRF_DSA_VERIFY = 1u << CRK_DSA_VERIFY;
inline constexpr uint32_t CRF_DH_COMPUTE_KEY = 1u << CRK_DH_COMPUTE_KEY;
inline constexpr uint32_t CRF_MOD_ADD = 1u << CRK_MOD_ADD;
inline constexpr uint32_t CRF_MOD_ADDINV = 1u << CRK_MOD_ADDINV;
inline constexpr uint32_t CRF_MOD_SUB = 1u << CRK_MOD_SUB;
inline constexpr uint32_t CRF_MOD_MULT = 1u << CRK_MOD_MULT;
inline constexpr uint32_t CRF_MOD_MULTINV = 1u << CRK_MOD_MULTINV;
inline constexpr uint32_t CRF_MOD = 1u << CRK_MOD;
inline constexpr uint32_t CRK_MAXPARAM = 8;

// ---- Structures ----
struct session_op {
  uint32_t cipher;
  uint32_t mac;
  uint32_t comp_alg;
  uint32_t keylen;
  void* key;
  int mackeylen;
  void* mackey;
  uint32_t ses;  // out: from 1
};

struct session_n_op {
  uint32_t cipher;
  uint32_t mac;
  uint32_t comp_alg;
  uint32_t keylen;
  void* key;
  int mackeylen;
  void* mackey;
  uint32_t ses;
  int status;  // per-entry errno
};

struct crypt_op {
  uint32_t ses;
  uint16_t op;
  uint16_t flags;
  unsigned int len;
  void* src;
  void* dst;
  void* mac;
  void* iv;
  unsigned int dst_len;  // 0: as long as src
};

struct crypt_n_op {
  uint32_t ses;
  uint16_t op;
  uint16_t flags;  // COP_F_BATCH, COP_F_MORE
  unsigned int len;
  uint32_t reqid;   // out: identifies the request in the results
  int status;       // out: accepted or not
  void* opaque;     // returned as is in crypt_result
  uint32_t keylen;  // optional per-request key
  void* key;
  uint32_t mackeylen;
  void* mackey;
  void* src;
  void* dst;
  void* mac;
  void* iv;
  unsigned int dst_len;
};

struct crypt_mop {
  size_t count;
  crypt_n_op* reqs;
};

struct crypt_sfop {
  size_t count;
  uint32_t* sesid;
};

struct crypt_sgop {
  size_t count;
  session_n_op* sessions;
};

struct crparam {
  void* crp_p;
  unsigned int crp_nbits;
};

struct crypt_kop {
  unsigned int crk_op;
  unsigned int crk_status;
  unsigned short crk_iparams;
  unsigned short crk_oparams;
  unsigned int crk_pad1;
  crparam crk_param[CRK_MAXPARAM];
};

struct crypt_n_kop {
  unsigned int crk_op;
  unsigned int crk_status;
  unsigned short crk_iparams;
  unsigned short crk_oparams;
  uint32_t crk_reqid;
  crparam crk_param[CRK_MAXPARAM];
  void* crk_opaque;
};

struct crypt_mkop {
  size_t count;
  crypt_n_kop* reqs;
};

struct crypt_result {
  uint32_t reqid;
  uint32_t status;  // errno, 0 on success
  void* opaque;
};

struct cryptret {
  size_t count;  // in: room; out: results returned
  crypt_result* results;
};

// ---- Requests ----
inline constexpr request_t CRIOGET = ioc::bsd_iowr<uint32_t>('c', 100);  // obsolete: open() clones
inline constexpr request_t CIOCFSESSION = ioc::bsd_iow<uint32_t>('c', 102);
inline constexpr request_t CIOCKEY = ioc::bsd_iowr<crypt_kop>('c', 104);
inline constexpr request_t CIOCASYMFEAT = ioc::bsd_ior<uint32_t>('c', 105);
inline constexpr request_t CIOCNFKEYM = ioc::bsd_iowr<crypt_mkop>('c', 108);
inline constexpr request_t CIOCNFSESSION = ioc::bsd_iow<crypt_sfop>('c', 109);
inline constexpr request_t CIOCNCRYPTRETM = ioc::bsd_iowr<cryptret>('c', 110);
inline constexpr request_t CIOCNCRYPTRET = ioc::bsd_iowr<crypt_result>('c', 111);
inline constexpr request_t CIOCGSESSION = ioc::bsd_iowr<session_op>('c', 112);
inline constexpr request_t CIOCNGSESSION = ioc::bsd_iowr<crypt_sgop>('c', 113);
inline constexpr request_t CIOCCRYPT = ioc::bsd_iowr<crypt_op>('c', 114);
inline constexpr request_t CIOCNCRYPTM = ioc::bsd_iowr<crypt_mop>('c', 115);

// ---- Layout checks ----
static_assert(CIOCFSESSION == 0x80046366);
static_assert(CIOCASYMFEAT == 0x40046369);
static_assert(CRIOGET == 0xC0046364);
#if defined(__LP64__) || defined(_LP64)
static_assert(sizeof(session_op) == 48);
static_assert(offsetof(session_op, comp_alg) == 8 && offsetof(session_op, key) == 16);
static_assert(offsetof(session_op, mackey) == 32 && offsetof(session_op, ses) == 40);
static_assert(sizeof(session_n_op) == 48 && offsetof(session_n_op, status) == 44);
static_assert(sizeof(crypt_op) == 56 && offsetof(crypt_op, dst_len) == 48);
static_assert(sizeof(crypt_n_op) == 104);
static_assert(offsetof(crypt_n_op, reqid) == 12 && offsetof(crypt_n_op, opaque) == 24);
static_assert(offsetof(crypt_n_op, src) == 64 && offsetof(crypt_n_op, dst_len) == 96);
static_assert(sizeof(crypt_mop) == 16 && sizeof(crypt_sgop) == 16 && sizeof(crypt_sfop) == 16);
static_assert(sizeof(crypt_result) == 16 && sizeof(cryptret) == 16);
static_assert(sizeof(crypt_kop) == 144);
static_assert(sizeof(crypt_n_kop) == 152 && offsetof(crypt_n_kop, crk_opaque) == 144);
static_assert(sizeof(crypt_mkop) == 16);
static_assert(CIOCKEY == 0xC0906368);
static_assert(CIOCNFKEYM == 0xC010636C);
static_assert(CIOCNFSESSION == 0x8010636D);
static_assert(CIOCNCRYPTRETM == 0xC010636E);
static_assert(CIOCNCRYPTRET == 0xC010636F);
static_assert(CIOCGSESSION == 0xC0306370);
static_assert(CIOCNGSESSION == 0xC0106371);
static_assert(CIOCCRYPT == 0xC0386372);
static_assert(CIOCNCRYPTM == 0xC0106373);
#endif

}  // namespace kcrypto::devcrypto::netbsd_abi
