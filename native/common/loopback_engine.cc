#include "loopback_engine.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

namespace kcrypto {

namespace {

// One gate for every hanging loopback: a call waits until the release count moves past the
// value it saw when it started. Never destroyed: a call may still hang when the process exits
// (as threads stuck in a removed device do), and destroying a condition variable with waiters
// blocks the exiting thread.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t releases = 0;
};

Gate& TheGate() {
  alignas(Gate) static unsigned char storage[sizeof(Gate)];
  static Gate* gate = ::new (storage) Gate();
  return *gate;
}

void Hang() {
  Gate& g = TheGate();
  std::unique_lock<std::mutex> lock(g.mu);
  const uint64_t seen = g.releases;
  g.cv.wait(lock, [&g, seen] { return g.releases != seen; });
}

}  // namespace

void LoopbackEngine::ReleaseHangs() {
  Gate& g = TheGate();
  {
    std::lock_guard<std::mutex> lock(g.mu);
    ++g.releases;
  }
  g.cv.notify_all();
}

void LoopbackEngine::Close() {
  if (hang_) Hang();
  closed_ = true;
}

Status LoopbackEngine::Run(const Request& req) {
  if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
  if (hang_) Hang();
  if (delay_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us_));
  if (fail_errno_ != 0) return Status::Fail(fail_errno_, Syscall::kRecvmsg);
  size_t out = 0;
  for (const iovec& v : req.input) {
    const auto* in = static_cast<const uint8_t*>(v.iov_base);
    for (size_t i = 0; i < v.iov_len && out < req.output_len; ++i) req.output[out++] = in[i] ^ kXor;
  }
  return Status::Ok(out);
}

Status LoopbackEngine::OpenStream(int32_t* handle) {
  *handle = next_stream_++;
  return Status::Ok();
}

Status LoopbackEngine::CopyStream(int32_t, int32_t* handle) {
  *handle = next_stream_++;
  return Status::Ok();
}

void LoopbackEngine::CloseStream(int32_t) {}

}  // namespace kcrypto
