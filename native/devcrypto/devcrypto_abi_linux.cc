// The cryptodev-linux table (the module's crypto/cryptodev.h). Sessions are created per fd with random ids;
// each kernel session runs one request at a time (a per-session mutex), so the engine keeps a
// pool of identically keyed sessions for parallel requests.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "abi/cryptodev_linux.h"
#include "devcrypto_abi.h"

namespace kcrypto::devcrypto {

namespace {

namespace L = linux_abi;

// The module pins user pages for src even when len is 0; never hand it a null pointer.
uint8_t g_empty[1] = {0};

std::string Field(const char* s, size_t max) { return std::string(s, strnlen(s, max)); }

class CryptodevLinux final : public AbiDriver {
 public:
  Abi abi() const override { return Abi::kCryptodevLinux; }
  const char* name() const override { return "cryptodev-linux"; }

  Status CreateSession(int fd, const SessionParams& p, uint32_t* ses, int32_t* crid) const override {
    if (p.key_len > L::CRYPTO_CIPHER_MAX_KEY_LEN || p.mac_key_len > L::CRYPTO_HMAC_MAX_KEY_LEN)
      return Status::Fail(EINVAL, Syscall::kValidate);
    L::session_op s{};
    s.cipher = p.cipher;
    s.mac = p.mac;
    s.keylen = static_cast<uint32_t>(p.key_len);
    s.key = const_cast<uint8_t*>(p.key);
    s.mackeylen = static_cast<uint32_t>(p.mac_key_len);
    s.mackey = const_cast<uint8_t*>(p.mac_key);
    Status st = detail::Ioctl(fd, L::CIOCGSESSION, &s);
    if (!st.ok()) return st;
    *ses = s.ses;
    *crid = -1;
    return Status::Ok();
  }

  Status FreeSession(int fd, uint32_t ses) const override {
    // The argument is a pointer to the id (openssl#7302 once passed the id itself).
    return detail::Ioctl(fd, L::CIOCFSESSION, &ses);
  }

  Status Describe(int fd, uint32_t ses, int32_t, SessionInfo* info) const override {
    L::session_info_op si{};
    si.ses = ses;
    Status st = detail::Ioctl(fd, L::CIOCGSESSINFO, &si);
    if (!st.ok()) return st;
    info->cipher_name = Field(si.cipher_info.cra_name, sizeof si.cipher_info.cra_name);
    info->cipher_driver = Field(si.cipher_info.cra_driver_name, sizeof si.cipher_info.cra_driver_name);
    info->mac_name = Field(si.hash_info.cra_name, sizeof si.hash_info.cra_name);
    info->mac_driver = Field(si.hash_info.cra_driver_name, sizeof si.hash_info.cra_driver_name);
    info->hardware = (si.flags & L::SIOP_FLAG_KERNEL_DRIVER_ONLY) ? 1 : 0;
    info->alignmask = si.alignmask;
    return Status::Ok();
  }

  static L::crypt_op Op(const CryptArgs& a, uint16_t flags) {
    L::crypt_op op{};
    op.ses = a.ses;
    op.op = a.encrypt ? L::COP_ENCRYPT : L::COP_DECRYPT;  // 0 / 1, not the BSDs' 1 / 2
    op.flags = flags;
    op.len = static_cast<uint32_t>(a.len);
    op.src = a.len > 0 && a.src ? const_cast<uint8_t*>(a.src) : g_empty;
    op.dst = a.dst;
    op.mac = a.mac;
    op.iv = const_cast<uint8_t*>(a.iv);
    return op;
  }

  Status Crypt(int fd, const CryptArgs& a) const override {
    if (a.len > UINT32_MAX) return Status::Fail(E2BIG, Syscall::kValidate);
    // flags 0: a digest session resets, absorbs and finalises in this one call.
    L::crypt_op op = Op(a, L::COP_FLAG_NONE);
    Status st = detail::Ioctl(fd, L::CIOCCRYPT, &op);
    return st.ok() ? Status::Ok(a.dst ? a.len : 0) : st;
  }

  Status Aead(int fd, const AeadArgs& a) const override {
    // The module copies the AAD into one page (authenc.c): longer AAD is EINVAL there.
    if (a.aad_len > static_cast<size_t>(::sysconf(_SC_PAGESIZE))) return Status::Fail(E2BIG, Syscall::kValidate);
    // (Written so that no sum can wrap: a length near SIZE_MAX plus the tag would.)
    if (a.tag_len > UINT32_MAX || a.len > UINT32_MAX - a.tag_len) return Status::Fail(E2BIG, Syscall::kValidate);
    L::crypt_auth_op op{};
    op.ses = a.ses;
    op.op = a.encrypt ? L::COP_ENCRYPT : L::COP_DECRYPT;
    op.flags = 0;  // plain AEAD, not the TLS/SRTP framings
    // Decrypt: len counts the tag, which follows the ciphertext in src.
    op.len = static_cast<uint32_t>(a.encrypt ? a.len : a.len + a.tag_len);
    op.auth_len = static_cast<uint32_t>(a.aad_len);
    op.auth_src = a.aad_len > 0 ? const_cast<uint8_t*>(a.aad) : nullptr;
    op.src = op.len > 0 ? const_cast<uint8_t*>(a.src) : g_empty;
    op.dst = a.dst;  // encrypt: the tag is written right after the ciphertext
    op.tag = nullptr;
    op.tag_len = static_cast<uint32_t>(a.tag_len);
    op.iv = const_cast<uint8_t*>(a.iv);
    op.iv_len = static_cast<uint32_t>(a.iv_len);
    Status st = detail::Ioctl(fd, L::CIOCAUTHCRYPT, &op);
    if (!st.ok()) return st;
    return Status::Ok(a.encrypt ? a.len + a.tag_len : a.len);
  }

  bool multipart() const override { return true; }

  Status HashUpdate(int fd, uint32_t ses, const uint8_t* src, size_t len, bool reset) const override {
    // A zero-length request finalises (main.c), so an empty update must not reach the kernel.
    if (len == 0) return Status::Ok();
    if (len > UINT32_MAX) return Status::Fail(E2BIG, Syscall::kValidate);
    CryptArgs a;
    a.ses = ses;
    a.src = src;
    a.len = len;
    L::crypt_op op = Op(a, static_cast<uint16_t>(L::COP_FLAG_UPDATE | (reset ? L::COP_FLAG_RESET : 0)));
    return detail::Ioctl(fd, L::CIOCCRYPT, &op);
  }

  Status HashFinal(int fd, uint32_t ses, uint8_t* mac, bool reset) const override {
    CryptArgs a;
    a.ses = ses;
    a.mac = mac;
    // With nothing absorbed since the last final, RESET makes this the empty message's digest.
    L::crypt_op op = Op(a, static_cast<uint16_t>(L::COP_FLAG_FINAL | (reset ? L::COP_FLAG_RESET : 0)));
    return detail::Ioctl(fd, L::CIOCCRYPT, &op);
  }

  Status CopyHash(int fd, uint32_t dst_ses, uint32_t src_ses) const override {
    L::cphash_op cp{};
    cp.dst_ses = dst_ses;
    cp.src_ses = src_ses;
    return detail::Ioctl(fd, L::CIOCCPHASH, &cp);
  }

  // A module built without ENABLE_ASYNC answers the async requests with EINVAL (ioctl.c's
  // default case); with it, a fetch from an empty done list is EBUSY.
  int ProbeAsync(int fd) const override {
    L::crypt_op op{};
    const Status st = detail::Ioctl(fd, L::CIOCASYNCFETCH, &op);
    if (st.ok()) return 0;  // a stray completion: supported
    return st.err == EBUSY ? 0 : st.err;
  }

  // The module runs one fd's queued jobs in order on one work item and appends them to the
  // done list in that order; a fetch that fails has still consumed its job. So completions
  // pair with submissions first-in first-out, even though a failed fetch does not say which.
  void CryptBatch(int fd, const std::vector<CryptArgs>& reqs, std::vector<Status>* out) const override {
    out->assign(reqs.size(), Status::Fail(EIO, Syscall::kIoctl));
    std::deque<size_t> inflight;
    size_t next = 0;
    while (next < reqs.size() || !inflight.empty()) {
      while (next < reqs.size()) {
        if (reqs[next].len > UINT32_MAX) {
          (*out)[next++] = Status::Fail(E2BIG, Syscall::kValidate);
          continue;
        }
        L::crypt_op op = Op(reqs[next], L::COP_FLAG_NONE);
        const Status st = detail::Ioctl(fd, L::CIOCASYNCCRYPT, &op);
        if (st.ok()) {
          inflight.push_back(next++);
          continue;
        }
        if (st.err == EBUSY && !inflight.empty()) break;  // the ring is full
        (*out)[next++] = st;
      }
      if (inflight.empty()) continue;
      Status w = detail::WaitReadable(fd);
      if (!w.ok()) {
        for (size_t i : inflight) (*out)[i] = w;
        return;  // the fd is unusable; nothing more will complete
      }
      for (;;) {
        L::crypt_op done{};
        const Status st = detail::Ioctl(fd, L::CIOCASYNCFETCH, &done);
        if (st.ok()) {
          const CryptArgs& a = reqs[inflight.front()];
          (*out)[inflight.front()] = Status::Ok(a.dst ? a.len : 0);
        } else if (st.err == EBUSY) {
          break;
        } else {
          (*out)[inflight.front()] = st;
        }
        inflight.pop_front();
        if (inflight.empty()) break;
      }
    }
  }

  Status AsymFeatures(int fd, uint32_t* mask) const override {
    uint32_t m = 0;
    Status st = detail::Ioctl(fd, L::CIOCASYMFEAT, &m);
    if (st.ok()) *mask = m;
    return st;
  }

  std::vector<std::pair<const char*, uint64_t>> sizes() const override {
    return {{"session_op", sizeof(L::session_op)}, {"session_info_op", sizeof(L::session_info_op)},
            {"crypt_op", sizeof(L::crypt_op)},     {"crypt_auth_op", sizeof(L::crypt_auth_op)},
            {"cphash_op", sizeof(L::cphash_op)},   {"crypt_kop", sizeof(L::crypt_kop)}};
  }
  std::vector<std::pair<const char*, uint64_t>> requests() const override {
    return {{"CRIOGET", L::CRIOGET},
            {"CIOCGSESSION", L::CIOCGSESSION},
            {"CIOCFSESSION", L::CIOCFSESSION},
            {"CIOCCRYPT", L::CIOCCRYPT},
            {"CIOCKEY", L::CIOCKEY},
            {"CIOCASYMFEAT", L::CIOCASYMFEAT},
            {"CIOCGSESSINFO", L::CIOCGSESSINFO},
            {"CIOCAUTHCRYPT", L::CIOCAUTHCRYPT},
            {"CIOCASYNCCRYPT", L::CIOCASYNCCRYPT},
            {"CIOCASYNCFETCH", L::CIOCASYNCFETCH},
            {"CIOCCPHASH", L::CIOCCPHASH}};
  }
  std::vector<std::pair<const char*, uint64_t>> constants() const override {
    return {{"COP_ENCRYPT", L::COP_ENCRYPT},         {"COP_DECRYPT", L::COP_DECRYPT},
            {"COP_FLAG_UPDATE", L::COP_FLAG_UPDATE}, {"COP_FLAG_FINAL", L::COP_FLAG_FINAL},
            {"COP_FLAG_RESET", L::COP_FLAG_RESET},   {"SIOP_FLAG_KERNEL_DRIVER_ONLY", L::SIOP_FLAG_KERNEL_DRIVER_ONLY}};
  }
  std::vector<std::pair<const char*, uint64_t>> algorithms() const override {
    return {{"CRYPTO_DES_CBC", L::CRYPTO_DES_CBC},
            {"CRYPTO_3DES_CBC", L::CRYPTO_3DES_CBC},
            {"CRYPTO_BLF_CBC", L::CRYPTO_BLF_CBC},
            {"CRYPTO_CAST_CBC", L::CRYPTO_CAST_CBC},
            {"CRYPTO_SKIPJACK_CBC", L::CRYPTO_SKIPJACK_CBC},
            {"CRYPTO_MD5_HMAC", L::CRYPTO_MD5_HMAC},
            {"CRYPTO_SHA1_HMAC", L::CRYPTO_SHA1_HMAC},
            {"CRYPTO_RIPEMD160_HMAC", L::CRYPTO_RIPEMD160_HMAC},
            {"CRYPTO_MD5_KPDK", L::CRYPTO_MD5_KPDK},
            {"CRYPTO_SHA1_KPDK", L::CRYPTO_SHA1_KPDK},
            {"CRYPTO_AES_CBC", L::CRYPTO_AES_CBC},
            {"CRYPTO_ARC4", L::CRYPTO_ARC4},
            {"CRYPTO_MD5", L::CRYPTO_MD5},
            {"CRYPTO_SHA1", L::CRYPTO_SHA1},
            {"CRYPTO_DEFLATE_COMP", L::CRYPTO_DEFLATE_COMP},
            {"CRYPTO_NULL", L::CRYPTO_NULL},
            {"CRYPTO_LZS_COMP", L::CRYPTO_LZS_COMP},
            {"CRYPTO_SHA2_256_HMAC", L::CRYPTO_SHA2_256_HMAC},
            {"CRYPTO_SHA2_384_HMAC", L::CRYPTO_SHA2_384_HMAC},
            {"CRYPTO_SHA2_512_HMAC", L::CRYPTO_SHA2_512_HMAC},
            {"CRYPTO_AES_CTR", L::CRYPTO_AES_CTR},
            {"CRYPTO_AES_XTS", L::CRYPTO_AES_XTS},
            {"CRYPTO_AES_ECB", L::CRYPTO_AES_ECB},
            {"CRYPTO_AES_CFB", L::CRYPTO_AES_CFB},
            {"CRYPTO_AES_OFB", L::CRYPTO_AES_OFB},
            {"CRYPTO_AES_GCM", L::CRYPTO_AES_GCM},
            {"CRYPTO_AES_CCM", L::CRYPTO_AES_CCM},
            {"CRYPTO_CAMELLIA_CBC", L::CRYPTO_CAMELLIA_CBC},
            {"CRYPTO_RIPEMD160", L::CRYPTO_RIPEMD160},
            {"CRYPTO_SHA2_224", L::CRYPTO_SHA2_224},
            {"CRYPTO_SHA2_256", L::CRYPTO_SHA2_256},
            {"CRYPTO_SHA2_384", L::CRYPTO_SHA2_384},
            {"CRYPTO_SHA2_512", L::CRYPTO_SHA2_512},
            {"CRYPTO_SHA2_224_HMAC", L::CRYPTO_SHA2_224_HMAC},
            {"CRYPTO_TLS11_AES_CBC_HMAC_SHA1", L::CRYPTO_TLS11_AES_CBC_HMAC_SHA1},
            {"CRYPTO_TLS12_AES_CBC_HMAC_SHA256", L::CRYPTO_TLS12_AES_CBC_HMAC_SHA256}};
  }
};

}  // namespace

const AbiDriver* CryptodevLinuxDriver() {
  static const CryptodevLinux driver;
  return &driver;
}

}  // namespace kcrypto::devcrypto
