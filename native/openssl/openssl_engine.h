// A CPU engine over the OpenSSL that Node.js carries, reached through the EVP symbols Node
// exports to addons: the code node:crypto runs, keyed once per session rather than once per
// request (node:crypto's createCipheriv() builds and keys a context every call). Requests run
// on the calling thread or on the CPU lane's threads like any engine's; each borrows a keyed
// context from the session's pool, so requests run in parallel on as many cores as there are.
#pragma once

#include <openssl/evp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../common/context_pool.h"
#include "../common/engine.h"
#include "../common/key_bytes.h"

namespace kcrypto::openssl {

enum class Kind { kCipher, kDigest, kHmac };

struct Spec {
  Kind kind = Kind::kCipher;
  // OpenSSL's name: a cipher (aes-128-cbc), a digest (sha256), or for kHmac the digest.
  std::string name;
  KeyBytes key;
};

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct CipherFree {
  void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
struct MdFree {
  void operator()(EVP_MD* m) const { EVP_MD_free(m); }
};
struct MacFree {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};

// One keyed context: a cipher context keyed for one direction (CBC and ECB keep a different
// key schedule per direction, and re-keying per request is the cost this engine avoids), or a
// digest or HMAC context.
struct Context {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> cipher;
  bool encrypt = false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md;
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> mac;
};

class Engine final : public EngineSession {
 public:
  // Fetches the algorithm and keys a first context; EINVAL for a key OpenSSL refuses, ENOENT
  // for an algorithm this OpenSSL lacks.
  static Status Open(Spec spec, std::unique_ptr<Engine>* out);
  ~Engine() override;

  Status Run(const Request& req) override;
  Status OpenStream(int32_t* handle) override;
  Status CopyStream(int32_t from, int32_t* handle) override;
  void CloseStream(int32_t handle) override;
  void Close() override;
  size_t open_descriptors() const override { return 0; }
  size_t max_request() const override { return max_request_; }
  explicit Engine(Spec spec) : spec_(std::move(spec)) {}

 private:
  // A keyed context from the pool, or a new one: false when OpenSSL cannot make one.
  bool Borrow(bool encrypt, Context* out);
  void Return(Context c, bool keep);
  bool Fresh(bool encrypt, Context* out) const;
  Status Crypt(const Request& req, bool encrypt);
  Status Digest(const Request& req);
  // Feeds the input into a digest or HMAC context; writes the digest when `finish`.
  static bool Update(Context* c, const Request& req);
  Status Finish(Context* c, const Request& req) const;
  bool Restart(Context* c) const;
  // Takes a stream's context out of the table for the length of one request.
  bool TakeStream(int32_t handle, Context* out);
  void PutStream(int32_t handle, Context c);

  Spec spec_;
  std::unique_ptr<EVP_CIPHER, CipherFree> cipher_;
  std::unique_ptr<EVP_MD, MdFree> md_;
  std::unique_ptr<EVP_MAC, MacFree> mac_;
  size_t block_ = 1;
  size_t iv_len_ = 0;
  size_t digest_len_ = 0;
  bool single_update_ = false;  // XTS: OpenSSL takes a message in one update call only
  size_t max_request_ = 0;
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  ContextPool<Context> pool_;
  std::map<int32_t, Context> streams_;
  int32_t next_stream_ = 1;
};

}  // namespace kcrypto::openssl
