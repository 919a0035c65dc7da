#include "openssl_engine.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "../common/wipe.h"

namespace kcrypto::openssl {

namespace {

// OpenSSL's failures leave entries on the calling thread's error queue, which node:crypto reads
// on the JavaScript thread: every failure path here empties it, and says EINVAL (the input or
// key was refused: the only way a keyed EVP call fails short of memory).
Status Refused() {
  ERR_clear_error();
  return Status::Fail(EINVAL, Syscall::kValidate);
}

// EVP lengths are ints: larger inputs go in pieces.
constexpr size_t kMaxPiece = static_cast<size_t>(INT_MAX) & ~static_cast<size_t>(63);

// XTS in OpenSSL 3 refuses a data unit of more than 2^20 blocks.
constexpr size_t kXtsMaxRequest = size_t{16} << 20;

}  // namespace

Status Engine::Open(Spec spec, std::unique_ptr<Engine>* out) {
  auto e = std::make_unique<Engine>(std::move(spec));
  const char* name = e->spec_.name.c_str();
  switch (e->spec_.kind) {
    case Kind::kCipher: {
      e->cipher_.reset(EVP_CIPHER_fetch(nullptr, name, nullptr));
      if (!e->cipher_) break;
      if (static_cast<size_t>(EVP_CIPHER_get_key_length(e->cipher_.get())) != e->spec_.key.size()) return Refused();
      const int mode = EVP_CIPHER_get_mode(e->cipher_.get());
      e->block_ =
          mode == EVP_CIPH_CBC_MODE || mode == EVP_CIPH_ECB_MODE ? static_cast<size_t>(EVP_CIPHER_get_block_size(e->cipher_.get())) : 1;
      e->iv_len_ = static_cast<size_t>(EVP_CIPHER_get_iv_length(e->cipher_.get()));
      e->single_update_ = mode == EVP_CIPH_XTS_MODE;
      if (e->single_update_) e->max_request_ = kXtsMaxRequest;
      break;
    }
    case Kind::kDigest:
      e->md_.reset(EVP_MD_fetch(nullptr, name, nullptr));
      if (e->md_) e->digest_len_ = static_cast<size_t>(EVP_MD_get_size(e->md_.get()));
      break;
    case Kind::kHmac: {
      EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
      if (md == nullptr) break;
      e->digest_len_ = static_cast<size_t>(EVP_MD_get_size(md));
      EVP_MD_free(md);
      e->mac_.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
      break;
    }
  }
  if (!e->cipher_ && !e->md_ && !e->mac_) {
    ERR_clear_error();
    return Status::Fail(ENOENT, Syscall::kValidate);
  }
  // Keying a first context checks the key (XTS refuses equal halves) and leaves it pooled.
  Context first;
  if (!e->Fresh(true, &first)) return Refused();
  e->pool_.Add(std::move(first));
  *out = std::move(e);
  return Status::Ok();
}

Engine::~Engine() { Wipe(&spec_.key); }

bool Engine::Fresh(bool encrypt, Context* out) const {
  if (closed_) return false;
  Context c;
  switch (spec_.kind) {
    case Kind::kCipher:
      c.cipher.reset(EVP_CIPHER_CTX_new());
      c.encrypt = encrypt;
      if (!c.cipher || EVP_CipherInit_ex2(c.cipher.get(), cipher_.get(), spec_.key.data(), nullptr, encrypt ? 1 : 0, nullptr) != 1 ||
          EVP_CIPHER_CTX_set_padding(c.cipher.get(), 0) != 1)
        return false;
      break;
    case Kind::kDigest:
      c.md.reset(EVP_MD_CTX_new());
      if (!c.md || EVP_DigestInit_ex2(c.md.get(), md_.get(), nullptr) != 1) return false;
      break;
    case Kind::kHmac: {
      c.mac.reset(EVP_MAC_CTX_new(mac_.get()));
      if (!c.mac) return false;
      std::string digest = spec_.name;
      const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0), OSSL_PARAM_construct_end()};
      // An empty key is a valid HMAC key; OpenSSL wants a non-null pointer for it.
      static const unsigned char kNone = 0;
      const unsigned char* key = spec_.key.empty() ? &kNone : spec_.key.data();
      if (EVP_MAC_init(c.mac.get(), key, spec_.key.size(), params) != 1) return false;
      break;
    }
  }
  *out = std::move(c);
  return true;
}

bool Engine::Borrow(bool encrypt, Context* out) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pool_.Lend([this, encrypt](const Context& c) { return spec_.kind != Kind::kCipher || c.encrypt == encrypt; }, out)) return true;
  }
  if (Fresh(encrypt, out)) return true;
  ERR_clear_error();
  std::lock_guard<std::mutex> lock(mu_);
  pool_.Cancel();
  return false;
}

void Engine::Return(Context c, bool keep) {
  std::lock_guard<std::mutex> lock(mu_);
  pool_.Return(std::move(c), keep && !closed_);
}

Status Engine::Run(const Request& req) {
  if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
  switch (req.op) {
    case Op::kEncrypt:
    case Op::kDecrypt:
      if (spec_.kind != Kind::kCipher) return Status::Fail(EINVAL, Syscall::kValidate);
      return Crypt(req, req.op == Op::kEncrypt);
    case Op::kDigest:
      if (spec_.kind == Kind::kCipher) return Status::Fail(EINVAL, Syscall::kValidate);
      return Digest(req);
    case Op::kHashUpdate:
    case Op::kHashFinal: {
      if (spec_.kind == Kind::kCipher) return Status::Fail(EINVAL, Syscall::kValidate);
      Context c;
      if (!TakeStream(req.stream, &c)) return Status::Fail(EBADF, Syscall::kValidate);
      Status st = Update(&c, req) ? Status::Ok() : Refused();
      if (st.ok() && req.op == Op::kHashFinal) st = Finish(&c, req);
      PutStream(req.stream, std::move(c));
      return st;
    }
    case Op::kRandom:
    case Op::kOpen:  // run by the dispatcher, never here
    case Op::kClose: break;
  }
  return Status::Fail(EINVAL, Syscall::kValidate);
}

Status Engine::Crypt(const Request& req, bool encrypt) {
  const size_t n = req.input_len();
  if (req.output_len < n || n % block_ != 0 || (iv_len_ > 0 && req.iv_len != iv_len_) || (max_request_ > 0 && n > max_request_))
    return Status::Fail(EINVAL, Syscall::kValidate);
  Context c;
  if (!Borrow(encrypt, &c)) return Status::Fail(ENOMEM, Syscall::kValidate);
  EVP_CIPHER_CTX* ctx = c.cipher.get();
  bool ok = EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv_len_ > 0 ? req.iv : nullptr, -1, nullptr) == 1;
  uint8_t* out = req.output;
  std::vector<uint8_t> whole;
  const bool gather = single_update_ && req.input.size() > 1;
  if (gather) {
    whole.reserve(n);
    for (const iovec& v : req.input)
      whole.insert(whole.end(), static_cast<const uint8_t*>(v.iov_base), static_cast<const uint8_t*>(v.iov_base) + v.iov_len);
  }
  auto feed = [&](const uint8_t* in, size_t len) {
    while (ok && len > 0) {
      const size_t piece = single_update_ ? len : std::min(len, kMaxPiece);
      int wrote = 0;
      ok = piece <= static_cast<size_t>(INT_MAX) && EVP_CipherUpdate(ctx, out, &wrote, in, static_cast<int>(piece)) == 1;
      out += wrote;
      in += piece;
      len -= piece;
    }
  };
  if (gather) feed(whole.data(), whole.size());
  else
    for (const iovec& v : req.input) feed(static_cast<const uint8_t*>(v.iov_base), v.iov_len);
  int tail = 0;
  ok = ok && EVP_CipherFinal_ex(ctx, out, &tail) == 1;
  out += tail;
  if (gather) SecureZero(whole.data(), whole.size());
  Return(std::move(c), ok);
  if (!ok) return Refused();
  return Status::Ok(static_cast<size_t>(out - req.output));
}

bool Engine::Update(Context* c, const Request& req) {
  for (const iovec& v : req.input) {
    const auto* in = static_cast<const uint8_t*>(v.iov_base);
    const bool ok = c->md ? EVP_DigestUpdate(c->md.get(), in, v.iov_len) == 1 : EVP_MAC_update(c->mac.get(), in, v.iov_len) == 1;
    if (!ok) return false;
  }
  return true;
}

bool Engine::Restart(Context* c) const {
  if (c->md) return EVP_DigestInit_ex2(c->md.get(), nullptr, nullptr) == 1;
  return EVP_MAC_init(c->mac.get(), nullptr, 0, nullptr) == 1;
}

// Writes the digest (as much of it as the output holds) and leaves the context ready for the
// next message, as a kernel hash context is after its final read.
Status Engine::Finish(Context* c, const Request& req) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t len = 0;
  bool ok;
  if (c->md) {
    unsigned int n = 0;
    ok = EVP_DigestFinal_ex(c->md.get(), digest, &n) == 1;
    len = n;
  } else {
    ok = EVP_MAC_final(c->mac.get(), digest, &len, sizeof digest) == 1;
  }
  ok = ok && Restart(c);
  if (!ok) return Refused();
  const size_t copied = std::min(len, req.output_len);
  if (copied > 0) std::memcpy(req.output, digest, copied);
  SecureZero(digest, sizeof digest);
  return Status::Ok(copied);
}

Status Engine::Digest(const Request& req) {
  Context c;
  if (!Borrow(true, &c)) return Status::Fail(ENOMEM, Syscall::kValidate);
  // A pooled context is fresh: Finish() restarts it after each message.
  Status st = Update(&c, req) ? Finish(&c, req) : Refused();
  bool keep = st.ok();
  if (!keep) keep = Restart(&c);
  Return(std::move(c), keep);
  return st;
}

Status Engine::OpenStream(int32_t* handle) {
  if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
  if (spec_.kind == Kind::kCipher) return Status::Fail(EINVAL, Syscall::kValidate);
  Context c;
  if (!Fresh(true, &c)) return Refused();
  std::lock_guard<std::mutex> lock(mu_);
  *handle = next_stream_++;
  streams_.emplace(*handle, std::move(c));
  return Status::Ok();
}

Status Engine::CopyStream(int32_t from, int32_t* handle) {
  if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(from);
  if (it == streams_.end()) return Status::Fail(EBADF, Syscall::kValidate);
  Context copy;
  if (it->second.md) {
    copy.md.reset(EVP_MD_CTX_new());
    if (!copy.md || EVP_MD_CTX_copy_ex(copy.md.get(), it->second.md.get()) != 1) return Refused();
  } else {
    copy.mac.reset(EVP_MAC_CTX_dup(it->second.mac.get()));
    if (!copy.mac) return Refused();
  }
  *handle = next_stream_++;
  streams_.emplace(*handle, std::move(copy));
  return Status::Ok();
}

void Engine::CloseStream(int32_t handle) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(handle);
}

bool Engine::TakeStream(int32_t handle, Context* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(handle);
  if (it == streams_.end()) return false;
  *out = std::move(it->second);
  streams_.erase(it);
  return true;
}

void Engine::PutStream(int32_t handle, Context c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!closed_) streams_.emplace(handle, std::move(c));
}

void Engine::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  (void)pool_.Drain();
  streams_.clear();
  Wipe(&spec_.key);
}

}  // namespace kcrypto::openssl
