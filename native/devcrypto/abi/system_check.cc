// Compile-time comparison of kcrypto's ABI tables with the host's own <crypto/cryptodev.h>,
// when the build runs on a system that has one: FreeBSD and NetBSD always, Linux when the
// cryptodev-linux headers are installed. Elsewhere this file compiles to nothing.
//
// It is a translation unit of its own because the system header defines every name as a
// macro (CIOCGSESSION, COP_ENCRYPT, CRYPTO_AES_CBC...) that our headers define in namespaces:
// our values are captured under other names first, then the system header is included.
// KCRYPTO_SYSTEM_CRYPTODEV_ABI=1/2/3 (cryptodev-linux/FreeBSD/NetBSD) checks a copy of another
// system's header placed on the include path; KCRYPTO_NO_SYSTEM_ABI_CHECK skips the check.
#include <cstddef>

#if !defined(KCRYPTO_NO_SYSTEM_ABI_CHECK) && defined(__has_include)
#if __has_include(<crypto/cryptodev.h>)
#if defined(KCRYPTO_SYSTEM_CRYPTODEV_ABI)
#define KC_SYSTEM_ABI KCRYPTO_SYSTEM_CRYPTODEV_ABI
#elif defined(__linux__)
#define KC_SYSTEM_ABI 1
#elif defined(__FreeBSD__)
#define KC_SYSTEM_ABI 2
#elif defined(__NetBSD__)
#define KC_SYSTEM_ABI 3
#endif
#endif
#endif

// The name lists are tables: clang-format would rewrap them on every run.
// clang-format off
#if defined(KC_SYSTEM_ABI)

#if KC_SYSTEM_ABI == 1
#include "cryptodev_linux.h"
namespace native_abi = kcrypto::devcrypto::linux_abi;
// Present in every cryptodev-linux release that has CIOCAUTHCRYPT (1.6+).
#define KC_ABI_NAMES(X)                                                                                          \
  X(CIOCGSESSION) X(CIOCFSESSION) X(CIOCCRYPT) X(CIOCKEY) X(CIOCASYMFEAT) X(CIOCGSESSINFO) X(CIOCAUTHCRYPT)     \
  X(CIOCASYNCCRYPT) X(CIOCASYNCFETCH) X(CRIOGET) X(COP_ENCRYPT) X(COP_DECRYPT) X(COP_FLAG_UPDATE) X(COP_FLAG_FINAL) \
  X(COP_FLAG_WRITE_IV) X(COP_FLAG_NO_ZC) X(COP_FLAG_AEAD_TLS_TYPE) X(COP_FLAG_AEAD_SRTP_TYPE)                   \
  X(SIOP_FLAG_KERNEL_DRIVER_ONLY) X(CRYPTO_AES_CBC) X(CRYPTO_SHA1_HMAC) X(CRYPTO_SHA2_256_HMAC)                  \
  X(CRYPTO_SHA2_384_HMAC) X(CRYPTO_SHA2_512_HMAC) X(CRYPTO_AES_CTR) X(CRYPTO_AES_XTS) X(CRYPTO_AES_ECB)          \
  X(CRYPTO_AES_GCM) X(CRYPTO_NULL) X(CRYPTO_MD5) X(CRYPTO_SHA1) X(CRYPTO_CAMELLIA_CBC) X(CRYPTO_RIPEMD160)      \
  X(CRYPTO_SHA2_224) X(CRYPTO_SHA2_256) X(CRYPTO_SHA2_384) X(CRYPTO_SHA2_512) X(CRYPTO_SHA2_224_HMAC)           \
  X(CRYPTO_HMAC_MAX_KEY_LEN) X(CRYPTO_CIPHER_MAX_KEY_LEN) X(CRYPTODEV_MAX_ALG_NAME) X(HASH_MAX_LEN)
#define KC_ABI_STRUCTS(X) X(session_op) X(session_info_op) X(crypt_op) X(crypt_auth_op) X(crypt_kop)
#elif KC_SYSTEM_ABI == 2
#include "freebsd.h"
namespace native_abi = kcrypto::devcrypto::freebsd_abi;
#define KC_ABI_NAMES(X)                                                                                          \
  X(CIOCGSESSION) X(CIOCFSESSION) X(CIOCCRYPT) X(CIOCGSESSION2) X(CIOCFINDDEV) X(CIOCCRYPTAEAD) X(COP_ENCRYPT)  \
  X(COP_DECRYPT) X(COP_F_CIPHER_FIRST) X(COP_F_BATCH) X(CRYPTO_FLAG_HARDWARE) X(CRYPTO_FLAG_SOFTWARE)           \
  X(CRYPTO_AES_CBC) X(CRYPTO_SHA1_HMAC) X(CRYPTO_NULL_HMAC) X(CRYPTO_NULL_CBC) X(CRYPTO_SHA2_256_HMAC)          \
  X(CRYPTO_SHA2_384_HMAC) X(CRYPTO_SHA2_512_HMAC) X(CRYPTO_CAMELLIA_CBC) X(CRYPTO_AES_XTS) X(CRYPTO_AES_ICM)    \
  X(CRYPTO_AES_NIST_GMAC) X(CRYPTO_AES_NIST_GCM_16) X(CRYPTO_BLAKE2B) X(CRYPTO_BLAKE2S) X(CRYPTO_CHACHA20)      \
  X(CRYPTO_SHA2_224_HMAC) X(CRYPTO_RIPEMD160) X(CRYPTO_SHA2_224) X(CRYPTO_SHA2_256) X(CRYPTO_SHA2_384)          \
  X(CRYPTO_SHA2_512) X(CRYPTO_POLY1305) X(CRYPTO_AES_CCM_CBC_MAC) X(CRYPTO_AES_CCM_16)                          \
  X(CRYPTO_CHACHA20_POLY1305) X(HASH_MAX_LEN) X(EALG_MAX_BLOCK_LEN) X(AES_GCM_IV_LEN) X(AES_XTS_IV_LEN)
#define KC_ABI_STRUCTS(X) X(session_op) X(session2_op) X(crypt_op) X(crypt_aead) X(crypt_find_op)
#elif KC_SYSTEM_ABI == 3
#include "netbsd.h"
namespace native_abi = kcrypto::devcrypto::netbsd_abi;
#define KC_ABI_NAMES(X)                                                                                          \
  X(CRIOGET) X(CIOCFSESSION) X(CIOCKEY) X(CIOCASYMFEAT) X(CIOCNFKEYM) X(CIOCNFSESSION) X(CIOCNCRYPTRETM)        \
  X(CIOCNCRYPTRET) X(CIOCGSESSION) X(CIOCNGSESSION) X(CIOCCRYPT) X(CIOCNCRYPTM) X(COP_ENCRYPT) X(COP_DECRYPT)   \
  X(COP_COMP) X(COP_DECOMP) X(COP_F_BATCH) X(COP_F_MORE) X(CRYPTO_AES_CBC) X(CRYPTO_SHA1_HMAC)                  \
  X(CRYPTO_SHA2_256_HMAC) X(CRYPTO_NULL_HMAC) X(CRYPTO_NULL_CBC) X(CRYPTO_SHA2_384_HMAC)                        \
  X(CRYPTO_SHA2_512_HMAC) X(CRYPTO_CAMELLIA_CBC) X(CRYPTO_AES_CTR) X(CRYPTO_AES_XCBC_MAC_96)                    \
  X(CRYPTO_AES_GCM_16) X(CRYPTO_AES_128_GMAC) X(CRYPTO_AES_192_GMAC) X(CRYPTO_AES_256_GMAC) X(CRYPTO_AES_GMAC)  \
  X(CRYPTO_ALGORITHM_MAX) X(CRK_MOD_EXP) X(CRK_DH_COMPUTE_KEY) X(CRK_MOD) X(CRK_MAXPARAM) X(CRF_MOD)            \
  X(CRYPTO_MAX_MAC_LEN) X(EALG_MAX_BLOCK_LEN)
#define KC_ABI_STRUCTS(X)                                                                                        \
  X(session_op) X(session_n_op) X(crypt_op) X(crypt_n_op) X(crypt_mop) X(crypt_sgop) X(crypt_sfop) X(crypt_kop)  \
  X(crypt_n_kop) X(crypt_mkop) X(crypt_result) X(cryptret)
#else
#error "KCRYPTO_SYSTEM_CRYPTODEV_ABI must be 1 (cryptodev-linux), 2 (FreeBSD) or 3 (NetBSD)"
#endif
// clang-format on

namespace kc_ours {
#define KC_CAPTURE_VALUE(name) constexpr auto our_##name = native_abi::name;
#define KC_CAPTURE_SIZE(name) constexpr std::size_t our_sizeof_##name = sizeof(native_abi::name);
KC_ABI_NAMES(KC_CAPTURE_VALUE)
KC_ABI_STRUCTS(KC_CAPTURE_SIZE)
#if KC_SYSTEM_ABI == 1
KC_CAPTURE_VALUE(CIOCCPHASH)
KC_CAPTURE_VALUE(COP_FLAG_RESET)
KC_CAPTURE_SIZE(cphash_op)
#endif
}  // namespace kc_ours

#if KC_SYSTEM_ABI != 1
#include <sys/types.h>  // u_int, u_int32_t, caddr_t for the BSD headers
#endif
#include <crypto/cryptodev.h>

#define KC_COMPARE_VALUE(name)                                                                       \
  static_assert(static_cast<unsigned long>(kc_ours::our_##name) == static_cast<unsigned long>(name), \
                #name " differs from <crypto/cryptodev.h>");
#define KC_COMPARE_SIZE(name) \
  static_assert(kc_ours::our_sizeof_##name == sizeof(::name), "sizeof(" #name ") differs from <crypto/cryptodev.h>");
KC_ABI_NAMES(KC_COMPARE_VALUE)
KC_ABI_STRUCTS(KC_COMPARE_SIZE)

// Introduced later than the baseline above: compared where the installed header has them.
#if KC_SYSTEM_ABI == 1
#if defined(CIOCCPHASH)
KC_COMPARE_VALUE(CIOCCPHASH)
static_assert(kc_ours::our_sizeof_cphash_op == sizeof(::cphash_op), "sizeof(cphash_op) differs from <crypto/cryptodev.h>");
#endif
#if defined(COP_FLAG_RESET)
KC_COMPARE_VALUE(COP_FLAG_RESET)
#endif
#endif

#endif  // KC_SYSTEM_ABI
