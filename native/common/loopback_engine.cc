#include "loopback_engine.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

namespace kcrypto {

Status LoopbackEngine::Run(const Request& req) {
  if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
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
