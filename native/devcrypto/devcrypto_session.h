// One /dev/crypto transform: an fd of its own on the device plus a pool of identically keyed
// kernel sessions, speaking one system's ABI (devcrypto_abi.h).
//
// Why an fd per engine session: sessions belong to the open file on every system (FreeBSD
// cdevpriv, NetBSD's cloned context, cryptodev-linux's per-open list), closing it frees them
// all, and none of the three needs CRIOGET (FreeBSD dropped it, NetBSD's open() clones,
// cryptodev-linux marks it CRIOGET_NOT_NEEDED).
//
// Why a pool and a retained key: cryptodev-linux runs one request per kernel session at a time
// (a session mutex), so parallel requests need several sessions, and a hash stream is a kernel
// session of its own; a session can only be made from the key. The key stays in this object,
// and is wiped when it closes. FreeBSD fixes an AEAD's nonce length when the session is made
// (csp_ivlen; CIOCCRYPTAEAD refuses any other), so there the pool is kept per nonce length: a
// CCM nonce of 7 to 13 bytes runs on a kernel session made for that length.
#pragma once

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
#include "../common/open_once.h"
#include "../common/unique_fd.h"
#include "devcrypto_abi.h"

namespace kcrypto::devcrypto {

// Values shared with src/kernel/bridge/devcrypto.ts: append only.
enum class Mode : uint32_t {
  kCipher = 0,  // cipher only
  kDigest = 1,  // hash or MAC only
  kAead = 2,    // GCM, CCM, ChaCha20-Poly1305 (NetBSD: AES-GCM paired with GMAC, RFC 4106 key)
  kEta = 3,     // FreeBSD: cipher + HMAC, encrypt-then-authenticate through CIOCCRYPTAEAD
};

// How a cipher request longer than max_request() is split (values shared with TypeScript).
enum class Chain : uint32_t {
  kNone = 0,  // not at all: E2BIG
  kCbc = 1,   // the next IV is the last ciphertext block
  kCtr = 2,   // the IV is a big-endian counter of 16-byte blocks (FreeBSD AES_ICM)
};

struct Spec {
  Abi abi = Abi::kCryptodevLinux;
  std::string path = "/dev/crypto";
  Mode mode = Mode::kCipher;
  uint32_t cipher = 0;  // the ABI's own algorithm ids
  uint32_t mac = 0;
  KeyBytes key;
  KeyBytes mac_key;
  uint32_t iv_len = 0;      // FreeBSD session ivlen (0: default)
  uint32_t tag_len = 0;     // AEAD tag / ETA MAC length (0: 16 for AEAD, digest_len for ETA)
  uint32_t digest_len = 0;  // hash/MAC output bytes (needed for digests and ETA)
  uint32_t block_len = 1;   // cipher block: chunks are multiples of it
  Chain chain = Chain::kNone;
  int32_t crid = -1;       // FreeBSD driver id (0 is one) or CRYPTO_FLAG_* mask; -1: hardware, as v1 sessions
  std::string device;      // FreeBSD driver name, looked up with CIOCFINDDEV (overrides crid)
  size_t max_request = 0;  // a limit of the caller's on top of the ABI's (0: none)
  uint32_t contexts = 1;   // kernel sessions made at open (NetBSD: in one CIOCNGSESSION)
};

class Session final : public EngineSession {
 public:
  // Opens the device and makes the first session(s); on failure returns the failing call.
  static Status Open(Spec spec, std::unique_ptr<Session>* out);
  // Checks the spec and makes no system call: opening the device and making the kernel
  // sessions wait for Open() (an Op::kOpen job on the device lane), or for the first request.
  static Status Deferred(Spec spec, std::unique_ptr<Session>* out);
  ~Session() override;

  Status Open() override;
  Status Run(const Request& req) override;
  Status OpenStream(int32_t* handle) override;
  Status CopyStream(int32_t from, int32_t* handle) override;
  void CloseStream(int32_t handle) override;
  void Close() override;
  size_t open_descriptors() const override;
  size_t max_request() const override;
  bool queues() const override;
  void RunBatch(const std::vector<Request>& reqs, std::vector<Status>* out) override;

  const SessionInfo& info() const { return info_; }
  const AbiDriver* driver() const { return driver_; }
  bool async() const { return async_; }
  size_t kernel_sessions() const;

 private:
  struct Stream {
    uint32_t ses = 0;
    bool reset = true;  // nothing absorbed since open or the last final
  };

  // A pooled kernel session and the nonce length it was made for.
  struct Pooled {
    uint32_t ses = 0;
    uint32_t iv_len = 0;
  };

  Session() = default;
  Status Connect();
  // Open()'s status, opening first if no call has yet.
  Status Opened() {
    return open_.Get([this] { return OpenNow(); });
  }
  // The open itself, run once by open_.
  Status OpenNow();
  uint32_t SessionIvLen(const Request& req) const;
  SessionParams Params(uint32_t iv_len) const;
  Status NewSession(uint32_t iv_len, uint32_t* ses);
  Status Acquire(uint32_t iv_len, uint32_t* ses, int* fd);
  void Release(uint32_t ses, uint32_t iv_len);
  size_t tag_len() const;

  Status RunCipher(int fd, uint32_t ses, const Request& req);
  Status RunDigest(int fd, uint32_t ses, const Request& req);
  Status RunAead(int fd, uint32_t ses, const Request& req);
  Status RunStream(const Request& req);

  Spec spec_;
  OpenOnce open_;
  const AbiDriver* driver_ = nullptr;
  SessionInfo info_;
  bool async_ = false;
  UniqueFd fd_;
  mutable std::mutex mu_;
  ContextPool<Pooled> pool_;
  std::vector<uint32_t> all_;  // every live kernel session, for Close
  std::map<int32_t, Stream> streams_;
  int32_t next_stream_ = 1;
  bool closed_ = false;
  // Completions of async batches come back through the fd, not the request: one batch at a time.
  std::mutex batch_mu_;
  std::atomic<bool> batching_{false};  // a batch holds batch_mu_ (see queues())
};

}  // namespace kcrypto::devcrypto
