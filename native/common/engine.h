// The engine interface every kernel interface implements (AF_ALG, /dev/crypto).
// An engine session is one keyed transform; Run() performs one request with blocking system
// calls and is safe to call from several threads at once (each call uses its own kernel
// context). Policy -- which thread runs a request, when, and for whom -- lives in TypeScript.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "iovec_list.h"
#include "status.h"

namespace kcrypto {

// Values shared with src/kernel/bridge/engine/types.ts: append only.
enum class Op : uint32_t {
  kEncrypt = 0,
  kDecrypt = 1,
  kDigest = 2,      // one-shot hash/MAC of the input
  kHashUpdate = 3,  // feed input into a stream (see OpenStream)
  kHashFinal = 4,   // finish a stream, digest to the output
  kRandom = 5,      // fill the output from an RNG
  // Session control, run on the session's lane rather than the JavaScript thread: on a device
  // binding and keying a transform, and releasing it, are device round trips of their own.
  kOpen = 6,   // finish a deferred open (see EngineSession::Open)
  kClose = 7,  // release every descriptor (see EngineSession::Close)
};

struct Request {
  Op op = Op::kEncrypt;
  IovecList input;  // gathered in order: JavaScript's buffers inline, the job's copy on a thread (Job::owned_input)
  uint8_t* output = nullptr;
  size_t output_len = 0;
  const uint8_t* iv = nullptr;
  size_t iv_len = 0;
  uint32_t assoc_len = 0;  // AEAD: leading input bytes that are associated data
  int32_t stream = -1;     // hash stream handle for kHashUpdate/kHashFinal

  size_t input_len() const {
    size_t n = 0;
    for (const iovec& v : input) n += v.iov_len;
    return n;
  }
};

class EngineSession {
 public:
  virtual ~EngineSession() = default;
  virtual Status Run(const Request& req) = 0;
  // Finishes an open deferred to a thread: the system calls that bind and key the transform.
  // Sessions opened whole at construction have nothing left to do. Idempotent: every call
  // after the first returns the first one's status.
  virtual Status Open() { return Status::Ok(); }
  // Hash state handles: a stream is a kernel context that keeps state between requests.
  virtual Status OpenStream(int32_t* handle) = 0;
  virtual Status CopyStream(int32_t from, int32_t* handle) = 0;
  virtual void CloseStream(int32_t handle) = 0;
  // Releases every descriptor. Callers guarantee no Run() is in progress.
  virtual void Close() = 0;
  virtual size_t open_descriptors() const = 0;
  // Largest input one request may carry unsplit (0: no limit). Callers that cannot split a
  // request (AEAD, XTS) check against it and refuse longer ones.
  virtual size_t max_request() const { return 0; }
  // Whether RunBatch() hands its requests to a queue of the kernel's, which works on them while
  // this thread waits for all of them (cryptodev-linux's CIOCASYNCCRYPT queue, once open). The
  // dispatcher then gives a thread of a lane whose every thread is busy the session's queued
  // jobs together. A hint, read without a lock: false costs only the batching.
  virtual bool queues() const { return false; }
  // Runs several requests as one submission where the kernel interface has one (the
  // /dev/crypto engines' async queues); by default one after another. `out` gets one status
  // per request, in order.
  virtual void RunBatch(const std::vector<Request>& reqs, std::vector<Status>* out) {
    out->clear();
    out->reserve(reqs.size());
    for (const Request& r : reqs) out->push_back(Run(r));
  }
};

}  // namespace kcrypto
