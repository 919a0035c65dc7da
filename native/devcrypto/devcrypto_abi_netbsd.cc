// The NetBSD table (NetBSD's sys/opencrypto/cryptodev.h): open() clones a context, sessions
// number from 1, and besides the synchronous CIOCCRYPT there is a multi-request interface
// (CIOCNCRYPTM queues, poll() reports completions, CIOCNCRYPTRETM collects them). There is no
// AEAD request: AES-GCM is framed here over CIOCCRYPT.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>

#include "../common/iovec_cursor.h"
#include "../common/wipe.h"

#include "abi/netbsd.h"
#include "devcrypto_abi.h"

namespace kcrypto::devcrypto {

namespace {

namespace N = netbsd_abi;

// Requests per CIOCNCRYPTM call: bounds the kernel allocation of one submission.
constexpr size_t kSubmitChunk = 64;

void* Tag(size_t i) { return reinterpret_cast<void*>(static_cast<uintptr_t>(i)); }

// Harvests completions until every request in `pending` (reqid -> index) has one.
void Harvest(int fd, std::map<uint32_t, size_t>* pending, std::vector<Status>* out, const std::vector<size_t>& bytes) {
  std::vector<N::crypt_result> results;
  while (!pending->empty()) {
    Status w = detail::WaitReadable(fd);
    if (!w.ok()) {
      for (const auto& [reqid, i] : *pending) (*out)[i] = w;
      pending->clear();
      return;
    }
    results.assign(pending->size(), N::crypt_result{});
    N::cryptret ret{};
    ret.count = results.size();
    ret.results = results.data();
    Status st = detail::Ioctl(fd, N::CIOCNCRYPTRETM, &ret);
    if (!st.ok()) {
      for (const auto& [reqid, i] : *pending) (*out)[i] = st;
      pending->clear();
      return;
    }
    for (size_t k = 0; k < ret.count && k < results.size(); ++k) {
      auto it = pending->find(results[k].reqid);
      if (it == pending->end()) continue;  // not ours: another batch's, already abandoned
      const size_t i = it->second;
      (*out)[i] = results[k].status == 0 ? Status::Ok(bytes[i]) : Status::Fail(static_cast<int>(results[k].status), Syscall::kIoctl);
      pending->erase(it);
    }
  }
}

bool ConstantTimeEqual(const uint8_t* a, const uint8_t* b, size_t n) {
  uint8_t d = 0;
  for (size_t i = 0; i < n; ++i) d |= static_cast<uint8_t>(a[i] ^ b[i]);
  return d == 0;
}

// session_op and session_n_op share these fields.
template <typename SessionOp>
void FillSession(SessionOp* s, const SessionParams& p) {
  s->cipher = p.cipher;
  s->mac = p.mac;
  s->keylen = static_cast<uint32_t>(p.key_len);
  s->key = const_cast<uint8_t*>(p.key);
  s->mackeylen = static_cast<int>(p.mac_key_len);
  s->mackey = const_cast<uint8_t*>(p.mac_key);
}

class NetBSD final : public AbiDriver {
 public:
  Abi abi() const override { return Abi::kNetBSD; }
  const char* name() const override { return "netbsd"; }

  Status CreateSession(int fd, const SessionParams& p, uint32_t* ses, int32_t* crid) const override {
    N::session_op s{};
    FillSession(&s, p);
    s.comp_alg = 0;
    Status st = detail::Ioctl(fd, N::CIOCGSESSION, &s);
    if (!st.ok()) return st;
    *ses = s.ses;
    *crid = -1;
    return Status::Ok();
  }

  Status CreateSessions(int fd, const SessionParams& p, size_t n, std::vector<uint32_t>* out) const override {
    if (n == 0) return Status::Ok();
    std::vector<N::session_n_op> ops(n);
    for (N::session_n_op& s : ops) FillSession(&s, p);
    N::crypt_sgop sg{};
    sg.count = n;
    sg.sessions = ops.data();
    Status st = detail::Ioctl(fd, N::CIOCNGSESSION, &sg);
    if (!st.ok()) return st;
    // Per-entry errors: an entry with status != 0 got no session (ses 0 means "failed").
    std::vector<uint32_t> made;
    int err = 0;
    for (const N::session_n_op& s : ops) {
      if (s.status == 0 && s.ses != 0) made.push_back(s.ses);
      else if (err == 0) err = s.status != 0 ? s.status : EIO;
    }
    if (err != 0) {
      FreeSessions(fd, made);
      return Status::Fail(err, Syscall::kIoctl);
    }
    out->insert(out->end(), made.begin(), made.end());
    return Status::Ok();
  }

  Status FreeSession(int fd, uint32_t ses) const override { return detail::Ioctl(fd, N::CIOCFSESSION, &ses); }

  void FreeSessions(int fd, const std::vector<uint32_t>& ses) const override {
    if (ses.empty()) return;
    std::vector<uint32_t> ids(ses);
    N::crypt_sfop sf{};
    sf.count = ids.size();
    sf.sesid = ids.data();
    (void)detail::Ioctl(fd, N::CIOCNFSESSION, &sf);
  }

  static N::crypt_op Op(const CryptArgs& a) {
    N::crypt_op op{};
    op.ses = a.ses;
    op.op = a.encrypt ? N::COP_ENCRYPT : N::COP_DECRYPT;
    op.flags = 0;
    op.len = static_cast<unsigned>(a.len);
    op.src = const_cast<uint8_t*>(a.src);
    op.dst = a.dst;
    op.mac = a.mac;
    op.iv = const_cast<uint8_t*>(a.iv);
    op.dst_len = a.dst ? static_cast<unsigned>(a.len) : 0;
    return op;
  }

  Status Crypt(int fd, const CryptArgs& a) const override {
    if (a.len > N::kMaxRequest) return Status::Fail(E2BIG, Syscall::kValidate);
    N::crypt_op op = Op(a);
    Status st = detail::Ioctl(fd, N::CIOCCRYPT, &op);
    return st.ok() ? Status::Ok(a.dst ? a.len : 0) : st;
  }

  // AES-GCM: AES key ‖ 4-byte salt, and GMAC on the same key.
  Status CheckAeadKeys(uint32_t mac, const std::vector<uint8_t>& key, std::vector<uint8_t>* mac_key) const override {
    if (mac == 0 || (key.size() != 20 && key.size() != 28 && key.size() != 36)) return Invalid();
    if (mac_key->empty()) *mac_key = key;
    return Status::Ok();
  }

  // NetBSD has no AEAD request: AES-GCM runs through CIOCCRYPT with the RFC 4106 key layout
  // (AES key ‖ 4-byte salt; the nonce is salt ‖ 8-byte IV), no AAD, and on decrypt the kernel
  // returns the computed tag in `mac` instead of checking it (tests/crypto/opencrypto/h_gcm.c),
  // so the comparison happens here.
  bool frames_aead() const override { return true; }

  Status FramedAead(int fd, uint32_t ses, const Request& req, const std::vector<uint8_t>& key, size_t tag) const override {
    if (req.op != Op::kEncrypt && req.op != Op::kDecrypt) return Invalid();
    if (req.assoc_len != 0) return Invalid(ENOTSUP);
    const bool encrypt = req.op == Op::kEncrypt;
    const size_t total = req.input_len();
    if (tag > 16 || (!encrypt && total < tag)) return Invalid();
    const size_t payload = encrypt ? total : total - tag;
    if (req.output_len < (encrypt ? payload + tag : payload)) return Invalid();
    const uint8_t* salt = key.data() + key.size() - 4;
    IvBuffer iv;
    if (req.iv_len == 8) {
      iv.Set(req.iv, 8);
    } else if (req.iv_len == 12 && req.iv != nullptr && std::memcmp(req.iv, salt, 4) == 0) {
      iv.Set(req.iv + 4, 8);
    } else {
      return Invalid();  // the nonce's first 4 bytes are fixed by the session key
    }
    std::vector<uint8_t> scratch, tag_scratch;
    std::array<uint8_t, kMaxDigest> mac{};
    CryptArgs a = CipherPass(ses, encrypt, Contiguous(req.input, 0, payload, &scratch), req.output, payload, iv.ptr);
    a.mac = mac.data();
    Status st = Crypt(fd, a);
    if (!st.ok()) return st;
    if (encrypt) {
      std::memcpy(req.output + payload, mac.data(), tag);
      return Status::Ok(payload + tag);
    }
    const uint8_t* given = Contiguous(req.input, payload, tag, &tag_scratch);
    if (!ConstantTimeEqual(mac.data(), given, tag)) {
      SecureZero(req.output, payload);  // no unauthenticated plaintext leaves a failed open
      return Status::Fail(EBADMSG, Syscall::kIoctl);
    }
    return Status::Ok(payload);
  }

  int ProbeAsync(int) const override { return 0; }

  size_t max_request() const override { return N::kMaxRequest; }

  void CryptBatch(int fd, const std::vector<CryptArgs>& reqs, std::vector<Status>* out) const override {
    out->assign(reqs.size(), Status::Fail(EIO, Syscall::kIoctl));
    std::vector<size_t> bytes(reqs.size());
    for (size_t i = 0; i < reqs.size(); ++i) bytes[i] = reqs[i].dst ? reqs[i].len : 0;
    std::map<uint32_t, size_t> pending;
    std::vector<N::crypt_n_op> ops;
    std::vector<size_t> index;  // ops[k] is reqs[index[k]]
    for (size_t base = 0; base < reqs.size(); base += kSubmitChunk) {
      const size_t n = std::min(kSubmitChunk, reqs.size() - base);
      ops.clear();
      index.clear();
      for (size_t k = 0; k < n; ++k) {
        const CryptArgs& a = reqs[base + k];
        // As in Crypt: crypt_n_op's length is 32 bits, and the kernel takes no more than this.
        if (a.len > N::kMaxRequest) {
          (*out)[base + k] = Status::Fail(E2BIG, Syscall::kValidate);
          continue;
        }
        const N::crypt_op op = Op(a);
        N::crypt_n_op o{};
        o.ses = op.ses;
        o.op = op.op;
        o.flags = 0;
        o.len = op.len;
        o.opaque = Tag(base + k);
        o.src = op.src;
        o.dst = op.dst;
        o.mac = op.mac;
        o.iv = op.iv;
        o.dst_len = op.dst_len;
        ops.push_back(o);
        index.push_back(base + k);
      }
      if (ops.empty()) continue;
      N::crypt_mop mop{};
      mop.count = ops.size();
      mop.reqs = ops.data();
      Status st = detail::Ioctl(fd, N::CIOCNCRYPTM, &mop);
      for (size_t k = 0; k < ops.size(); ++k) {
        if (!st.ok()) (*out)[index[k]] = st;
        else if (ops[k].status != 0) (*out)[index[k]] = Status::Fail(ops[k].status, Syscall::kIoctl);
        else pending.emplace(ops[k].reqid, index[k]);
      }
    }
    Harvest(fd, &pending, out, bytes);
  }

  Status AsymFeatures(int fd, uint32_t* mask) const override {
    uint32_t m = 0;
    Status st = detail::Ioctl(fd, N::CIOCASYMFEAT, &m);
    if (st.ok()) *mask = m;
    return st;
  }

  std::vector<std::pair<const char*, uint64_t>> sizes() const override {
    return {{"session_op", sizeof(N::session_op)}, {"session_n_op", sizeof(N::session_n_op)}, {"crypt_op", sizeof(N::crypt_op)},
            {"crypt_n_op", sizeof(N::crypt_n_op)}, {"crypt_mop", sizeof(N::crypt_mop)},       {"crypt_sgop", sizeof(N::crypt_sgop)},
            {"crypt_sfop", sizeof(N::crypt_sfop)}, {"crypt_kop", sizeof(N::crypt_kop)},       {"crypt_n_kop", sizeof(N::crypt_n_kop)},
            {"crypt_mkop", sizeof(N::crypt_mkop)}, {"crypt_result", sizeof(N::crypt_result)}, {"cryptret", sizeof(N::cryptret)}};
  }
  std::vector<std::pair<const char*, uint64_t>> requests() const override {
    return {{"CRIOGET", N::CRIOGET},
            {"CIOCFSESSION", N::CIOCFSESSION},
            {"CIOCKEY", N::CIOCKEY},
            {"CIOCASYMFEAT", N::CIOCASYMFEAT},
            {"CIOCNFKEYM", N::CIOCNFKEYM},
            {"CIOCNFSESSION", N::CIOCNFSESSION},
            {"CIOCNCRYPTRETM", N::CIOCNCRYPTRETM},
            {"CIOCNCRYPTRET", N::CIOCNCRYPTRET},
            {"CIOCGSESSION", N::CIOCGSESSION},
            {"CIOCNGSESSION", N::CIOCNGSESSION},
            {"CIOCCRYPT", N::CIOCCRYPT},
            {"CIOCNCRYPTM", N::CIOCNCRYPTM}};
  }
  std::vector<std::pair<const char*, uint64_t>> constants() const override {
    return {{"COP_ENCRYPT", N::COP_ENCRYPT}, {"COP_DECRYPT", N::COP_DECRYPT}, {"COP_COMP", N::COP_COMP},      {"COP_DECOMP", N::COP_DECOMP},
            {"COP_F_BATCH", N::COP_F_BATCH}, {"COP_F_MORE", N::COP_F_MORE},   {"MAX_REQUEST", N::kMaxRequest}};
  }
  std::vector<std::pair<const char*, uint64_t>> algorithms() const override {
    return {{"CRYPTO_DES_CBC", N::CRYPTO_DES_CBC},
            {"CRYPTO_3DES_CBC", N::CRYPTO_3DES_CBC},
            {"CRYPTO_BLF_CBC", N::CRYPTO_BLF_CBC},
            {"CRYPTO_CAST_CBC", N::CRYPTO_CAST_CBC},
            {"CRYPTO_SKIPJACK_CBC", N::CRYPTO_SKIPJACK_CBC},
            {"CRYPTO_MD5_HMAC", N::CRYPTO_MD5_HMAC},
            {"CRYPTO_SHA1_HMAC", N::CRYPTO_SHA1_HMAC},
            {"CRYPTO_RIPEMD160_HMAC", N::CRYPTO_RIPEMD160_HMAC},
            {"CRYPTO_MD5_KPDK", N::CRYPTO_MD5_KPDK},
            {"CRYPTO_SHA1_KPDK", N::CRYPTO_SHA1_KPDK},
            {"CRYPTO_AES_CBC", N::CRYPTO_AES_CBC},
            {"CRYPTO_ARC4", N::CRYPTO_ARC4},
            {"CRYPTO_MD5", N::CRYPTO_MD5},
            {"CRYPTO_SHA1", N::CRYPTO_SHA1},
            {"CRYPTO_SHA2_256_HMAC", N::CRYPTO_SHA2_256_HMAC},
            {"CRYPTO_NULL_HMAC", N::CRYPTO_NULL_HMAC},
            {"CRYPTO_NULL_CBC", N::CRYPTO_NULL_CBC},
            {"CRYPTO_DEFLATE_COMP", N::CRYPTO_DEFLATE_COMP},
            {"CRYPTO_MD5_HMAC_96", N::CRYPTO_MD5_HMAC_96},
            {"CRYPTO_SHA1_HMAC_96", N::CRYPTO_SHA1_HMAC_96},
            {"CRYPTO_RIPEMD160_HMAC_96", N::CRYPTO_RIPEMD160_HMAC_96},
            {"CRYPTO_GZIP_COMP", N::CRYPTO_GZIP_COMP},
            {"CRYPTO_DEFLATE_COMP_NOGROW", N::CRYPTO_DEFLATE_COMP_NOGROW},
            {"CRYPTO_SHA2_384_HMAC", N::CRYPTO_SHA2_384_HMAC},
            {"CRYPTO_SHA2_512_HMAC", N::CRYPTO_SHA2_512_HMAC},
            {"CRYPTO_CAMELLIA_CBC", N::CRYPTO_CAMELLIA_CBC},
            {"CRYPTO_AES_CTR", N::CRYPTO_AES_CTR},
            {"CRYPTO_AES_XCBC_MAC_96", N::CRYPTO_AES_XCBC_MAC_96},
            {"CRYPTO_AES_GCM_16", N::CRYPTO_AES_GCM_16},
            {"CRYPTO_AES_128_GMAC", N::CRYPTO_AES_128_GMAC},
            {"CRYPTO_AES_192_GMAC", N::CRYPTO_AES_192_GMAC},
            {"CRYPTO_AES_256_GMAC", N::CRYPTO_AES_256_GMAC},
            {"CRYPTO_AES_GMAC", N::CRYPTO_AES_GMAC}};
  }
};

}  // namespace

const AbiDriver* NetBSDDriver() {
  static const NetBSD driver;
  return &driver;
}

}  // namespace kcrypto::devcrypto
