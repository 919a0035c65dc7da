// One AF_ALG transform: a bound, keyed tfm socket plus a pool of accept()ed op sockets.
// The kernel allows one request per op socket at a time (concurrent sendmsg gives EBUSY), so
// parallel requests each take their own op socket from the pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "../common/context_pool.h"
#include "../common/engine.h"
#include "../common/key_bytes.h"
#include "../common/open_once.h"
#include "../common/unique_fd.h"

namespace kcrypto::afalg {

enum class Type { kHash, kSkcipher, kAead, kRng };

struct Spec {
  Type type = Type::kSkcipher;
  std::string name;        // generic (cbc(aes)) or driver (cbc-aes-aesni) name
  KeyBytes key;            // wiped after it is handed to the kernel
  uint32_t auth_size = 0;  // AEAD tag length; 0 keeps the algorithm's default
  // Ciphers whose IV does not carry across requests (XTS) and AEADs cannot be split into
  // several sendmsg calls; see Session::Send.
  bool chunkable = true;
  size_t socket_buffer = 4u << 20;  // requested SO_SNDBUF/SO_RCVBUF for op sockets
  // Largest single kernel request (0: as large as the socket buffer allows). Device drivers
  // can have limits of their own: virtio-crypto never completes a request of ≥ 124 KiB.
  size_t max_request = 0;
};

// An op socket, and the pipe that carries a large request's pages to it (made on first use).
struct OpSocket {
  UniqueFd sock;
  UniqueFd pipe_read;
  UniqueFd pipe_write;
  size_t pipe_capacity = 0;

  bool valid() const { return sock.valid(); }
  size_t descriptors() const { return (sock.valid() ? 1 : 0) + (pipe_read.valid() ? 1 : 0) + (pipe_write.valid() ? 1 : 0); }
};

class Session final : public EngineSession {
 public:
  // Binds and keys; on failure returns the failing call and leaves *out empty.
  static Status Open(Spec spec, std::unique_ptr<Session>* out);
  // A session whose system calls wait for Open(), for a device: there binding and keying are
  // device round trips, which belong on the device lane rather than the JavaScript thread.
  // Requests and streams that come first wait for the open and fail as it did.
  static std::unique_ptr<Session> Deferred(Spec spec);
  ~Session() override;

  Status Open() override;
  Status Run(const Request& req) override;
  Status OpenStream(int32_t* handle) override;
  Status CopyStream(int32_t from, int32_t* handle) override;
  void CloseStream(int32_t handle) override;
  void Close() override;
  size_t open_descriptors() const override;

  // Largest input one kernel request may carry on this session (see NewOp).
  size_t max_request() const override;

 private:
  Session() = default;
  Status Bind();
  // Open()'s status, opening first if no call has yet.
  Status Opened() {
    return open_.Get([this] { return OpenNow(); });
  }
  // The open itself, run once by open_.
  Status OpenNow();
  Status AcquireOp(OpSocket* op);
  void ReleaseOp(OpSocket op);
  Status NewOp(OpSocket* op);

  Status RunCipher(OpSocket* op, const Request& req);
  Status SendSpliced(OpSocket* op, msghdr* header, const Request& req);
  Status RunDigest(int fd, const Request& req);
  Status RunRandom(int fd, const Request& req);
  Status ReceiveAll(int fd, uint8_t* out, size_t len, size_t* got);

  Spec spec_;
  OpenOnce open_;
  UniqueFd tfm_;
  size_t max_message_ = 0;
  mutable std::mutex mu_;
  ContextPool<OpSocket> ops_;
  // Cleared if this kernel refuses to splice into AF_ALG sockets; requests then copy.
  bool splice_ok_ = true;
  std::map<int32_t, UniqueFd> streams_;
  int32_t next_stream_ = 1;
  bool closed_ = false;
};

}  // namespace kcrypto::afalg
