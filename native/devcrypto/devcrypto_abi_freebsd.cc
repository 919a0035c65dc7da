// The FreeBSD table (FreeBSD's sys/opencrypto/cryptodev.h). Every request is one synchronous ioctl on the fd that
// opened the device; there is no async, multi-part hash or clone request, and since 13.0 no
// asymmetric operations (CIOCKEY answers ENOTTY there; it is kept for 12.x kernels).
#include <cerrno>
#include <cstring>

#include "abi/freebsd.h"
#include "devcrypto_abi.h"

namespace kcrypto::devcrypto {

namespace {

namespace F = freebsd_abi;

class FreeBSD final : public AbiDriver {
 public:
  Abi abi() const override { return Abi::kFreeBSD; }
  const char* name() const override { return "freebsd"; }

  // CIOCGSESSION2, never v1: v1 forces the hardware crid and so cannot reach aesni, ossl,
  // armv8crypto or cryptosoft.
  Status CreateSession(int fd, const SessionParams& p, uint32_t* ses, int32_t* crid) const override {
    F::session2_op s{};
    s.cipher = p.cipher;
    s.mac = p.mac;
    s.keylen = static_cast<uint32_t>(p.key_len);
    s.key = p.key;
    s.mackeylen = static_cast<int>(p.mac_key_len);
    s.mackey = p.mac_key;
    s.crid = p.crid;
    s.ivlen = static_cast<int>(p.iv_len);
    s.maclen = static_cast<int>(p.tag_len);
    Status st = detail::Ioctl(fd, F::CIOCGSESSION2, &s);
    if (!st.ok()) return st;
    *ses = s.ses;
    *crid = s.crid;  // the chosen driver's id
    return Status::Ok();
  }

  Status FreeSession(int fd, uint32_t ses) const override { return detail::Ioctl(fd, F::CIOCFSESSION, &ses); }

  Status Describe(int fd, uint32_t, int32_t crid, SessionInfo* info) const override {
    int32_t found = -1;
    std::string name;
    Status st = FindDevice(fd, crid, std::string(), &found, &name);
    if (!st.ok()) return st;
    info->crid = crid;
    info->cipher_driver = name;
    info->mac_driver = name;
    return Status::Ok();
  }

  Status Crypt(int fd, const CryptArgs& a) const override {
    if (a.len > F::kMaxRequest) return Status::Fail(E2BIG, Syscall::kValidate);
    F::crypt_op op{};
    op.ses = a.ses;
    op.op = a.encrypt ? F::COP_ENCRYPT : F::COP_DECRYPT;  // 1 / 2
    op.flags = 0;
    op.len = static_cast<unsigned>(a.len);
    op.src = a.src;
    op.dst = a.dst;
    op.mac = a.mac;
    op.iv = a.iv;
    Status st = detail::Ioctl(fd, F::CIOCCRYPT, &op);
    return st.ok() ? Status::Ok(a.dst ? a.len : 0) : st;
  }

  // AEAD and encrypt-then-authenticate sessions alike; a bad tag is EBADMSG.
  Status Aead(int fd, const AeadArgs& a) const override {
    if (a.len > F::kMaxRequest || a.aad_len > F::kMaxRequest) return Status::Fail(E2BIG, Syscall::kValidate);
    F::crypt_aead op{};
    op.ses = a.ses;
    op.op = a.encrypt ? F::COP_ENCRYPT : F::COP_DECRYPT;
    op.flags = 0;
    op.len = static_cast<unsigned>(a.len);
    op.aadlen = static_cast<unsigned>(a.aad_len);
    op.ivlen = static_cast<unsigned>(a.iv_len);
    op.src = a.src;
    op.dst = a.dst;
    op.aad = a.aad;
    op.tag = a.tag;
    op.iv = a.iv;
    Status st = detail::Ioctl(fd, F::CIOCCRYPTAEAD, &op);
    if (!st.ok()) return st;
    return Status::Ok(a.encrypt ? a.len + a.tag_len : a.len);
  }

  Status FindDevice(int fd, int32_t crid, const std::string& name, int32_t* crid_out, std::string* name_out) const override {
    F::crypt_find_op f{};
    f.crid = crid;
    if (crid == -1) {
      if (name.empty() || name.size() >= sizeof f.name) return Status::Fail(EINVAL, Syscall::kValidate);
      std::memcpy(f.name, name.data(), name.size());
    }
    Status st = detail::Ioctl(fd, F::CIOCFINDDEV, &f);
    if (!st.ok()) return st;
    *crid_out = f.crid;
    *name_out = std::string(f.name, strnlen(f.name, sizeof f.name));
    return Status::Ok();
  }

  Status AsymFeatures(int fd, uint32_t* mask) const override {
    uint32_t m = 0;
    Status st = detail::Ioctl(fd, F::legacy12::CIOCASYMFEAT, &m);
    if (st.ok()) *mask = m;
    return st;
  }

  size_t max_request() const override { return F::kMaxRequest; }

  std::vector<std::pair<const char*, uint64_t>> sizes() const override {
    return {{"session_op", sizeof(F::session_op)},       {"session2_op", sizeof(F::session2_op)},
            {"crypt_op", sizeof(F::crypt_op)},           {"crypt_aead", sizeof(F::crypt_aead)},
            {"crypt_find_op", sizeof(F::crypt_find_op)}, {"crypt_kop", sizeof(F::legacy12::crypt_kop)}};
  }
  std::vector<std::pair<const char*, uint64_t>> requests() const override {
    return {{"CRIOGET", F::CRIOGET},
            {"CIOCGSESSION", F::CIOCGSESSION},
            {"CIOCFSESSION", F::CIOCFSESSION},
            {"CIOCCRYPT", F::CIOCCRYPT},
            {"CIOCKEY", F::legacy12::CIOCKEY},
            {"CIOCASYMFEAT", F::legacy12::CIOCASYMFEAT},
            {"CIOCGSESSION2", F::CIOCGSESSION2},
            {"CIOCKEY2", F::legacy12::CIOCKEY2},
            {"CIOCFINDDEV", F::CIOCFINDDEV},
            {"CIOCCRYPTAEAD", F::CIOCCRYPTAEAD}};
  }
  std::vector<std::pair<const char*, uint64_t>> constants() const override {
    return {{"COP_ENCRYPT", F::COP_ENCRYPT},
            {"COP_DECRYPT", F::COP_DECRYPT},
            {"COP_F_CIPHER_FIRST", F::COP_F_CIPHER_FIRST},
            {"COP_F_BATCH", F::COP_F_BATCH},
            {"CRYPTO_FLAG_HARDWARE", F::CRYPTO_FLAG_HARDWARE},
            {"CRYPTO_FLAG_SOFTWARE", F::CRYPTO_FLAG_SOFTWARE},
            {"MAX_REQUEST", F::kMaxRequest}};
  }
  std::vector<std::pair<const char*, uint64_t>> algorithms() const override {
    return {{"CRYPTO_DES_CBC", F::CRYPTO_DES_CBC},
            {"CRYPTO_3DES_CBC", F::CRYPTO_3DES_CBC},
            {"CRYPTO_BLF_CBC", F::CRYPTO_BLF_CBC},
            {"CRYPTO_CAST_CBC", F::CRYPTO_CAST_CBC},
            {"CRYPTO_SKIPJACK_CBC", F::CRYPTO_SKIPJACK_CBC},
            {"CRYPTO_MD5_HMAC", F::CRYPTO_MD5_HMAC},
            {"CRYPTO_SHA1_HMAC", F::CRYPTO_SHA1_HMAC},
            {"CRYPTO_RIPEMD160_HMAC", F::CRYPTO_RIPEMD160_HMAC},
            {"CRYPTO_MD5_KPDK", F::CRYPTO_MD5_KPDK},
            {"CRYPTO_SHA1_KPDK", F::CRYPTO_SHA1_KPDK},
            {"CRYPTO_AES_CBC", F::CRYPTO_AES_CBC},
            {"CRYPTO_ARC4", F::CRYPTO_ARC4},
            {"CRYPTO_MD5", F::CRYPTO_MD5},
            {"CRYPTO_SHA1", F::CRYPTO_SHA1},
            {"CRYPTO_NULL_HMAC", F::CRYPTO_NULL_HMAC},
            {"CRYPTO_NULL_CBC", F::CRYPTO_NULL_CBC},
            {"CRYPTO_DEFLATE_COMP", F::CRYPTO_DEFLATE_COMP},
            {"CRYPTO_SHA2_256_HMAC", F::CRYPTO_SHA2_256_HMAC},
            {"CRYPTO_SHA2_384_HMAC", F::CRYPTO_SHA2_384_HMAC},
            {"CRYPTO_SHA2_512_HMAC", F::CRYPTO_SHA2_512_HMAC},
            {"CRYPTO_CAMELLIA_CBC", F::CRYPTO_CAMELLIA_CBC},
            {"CRYPTO_AES_XTS", F::CRYPTO_AES_XTS},
            {"CRYPTO_AES_ICM", F::CRYPTO_AES_ICM},
            {"CRYPTO_AES_NIST_GMAC", F::CRYPTO_AES_NIST_GMAC},
            {"CRYPTO_AES_NIST_GCM_16", F::CRYPTO_AES_NIST_GCM_16},
            {"CRYPTO_BLAKE2B", F::CRYPTO_BLAKE2B},
            {"CRYPTO_BLAKE2S", F::CRYPTO_BLAKE2S},
            {"CRYPTO_CHACHA20", F::CRYPTO_CHACHA20},
            {"CRYPTO_SHA2_224_HMAC", F::CRYPTO_SHA2_224_HMAC},
            {"CRYPTO_RIPEMD160", F::CRYPTO_RIPEMD160},
            {"CRYPTO_SHA2_224", F::CRYPTO_SHA2_224},
            {"CRYPTO_SHA2_256", F::CRYPTO_SHA2_256},
            {"CRYPTO_SHA2_384", F::CRYPTO_SHA2_384},
            {"CRYPTO_SHA2_512", F::CRYPTO_SHA2_512},
            {"CRYPTO_POLY1305", F::CRYPTO_POLY1305},
            {"CRYPTO_AES_CCM_CBC_MAC", F::CRYPTO_AES_CCM_CBC_MAC},
            {"CRYPTO_AES_CCM_16", F::CRYPTO_AES_CCM_16},
            {"CRYPTO_CHACHA20_POLY1305", F::CRYPTO_CHACHA20_POLY1305},
            {"CRYPTO_XCHACHA20_POLY1305", F::CRYPTO_XCHACHA20_POLY1305}};
  }
};

}  // namespace

const AbiDriver* FreeBSDDriver() {
  static const FreeBSD driver;
  return &driver;
}

}  // namespace kcrypto::devcrypto
