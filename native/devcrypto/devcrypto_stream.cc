// Hash streams of a /dev/crypto session: each one a kernel session of its own, fed with
// cryptodev-linux's multi-part requests (the BSDs hash in one request only).
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "../common/iovec_cursor.h"
#include "devcrypto_session.h"

namespace kcrypto::devcrypto {

Status Session::RunStream(const Request& req) {
  uint32_t ses = 0;
  bool reset = false;
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(req.stream);
    if (closed_ || it == streams_.end()) return Invalid(EBADF);
    ses = it->second.ses;
    reset = it->second.reset;
    fd = fd_.get();
  }
  if (req.op == Op::kHashUpdate) {
    const size_t n = req.input_len();
    if (n == 0) return Status::Ok(0);
    std::vector<uint8_t> scratch;
    Status st = driver_->HashUpdate(fd, ses, Contiguous(req.input, 0, n, &scratch), n, reset);
    if (!st.ok()) return st;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(req.stream);
    if (it != streams_.end()) it->second.reset = false;
    return Status::Ok(0);
  }
  std::array<uint8_t, kMaxDigest> mac{};
  Status st = driver_->HashFinal(fd, ses, mac.data(), reset);
  if (!st.ok()) return st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(req.stream);
    if (it != streams_.end()) it->second.reset = true;
  }
  const size_t n = std::min<size_t>(spec_.digest_len, req.output_len);
  if (n > 0) std::memcpy(req.output, mac.data(), n);
  return Status::Ok(n);
}

Status Session::OpenStream(int32_t* handle) {
  if (Status st = Opened(); !st.ok()) return st;
  if (!driver_->multipart()) return Invalid(ENOTSUP);  // the BSDs hash in one request only
  if (spec_.mode != Mode::kDigest) return Invalid();
  uint32_t ses = 0;
  Status st = NewSession(spec_.iv_len, &ses);
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  *handle = next_stream_++;
  streams_.emplace(*handle, Stream{ses, true});
  return Status::Ok();
}

Status Session::CopyStream(int32_t from, int32_t* handle) {
  if (Status st = Opened(); !st.ok()) return st;
  if (!driver_->multipart()) return Invalid(ENOTSUP);
  Stream src;
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(from);
    if (closed_ || it == streams_.end()) return Invalid(EBADF);
    src = it->second;
    fd = fd_.get();
  }
  uint32_t ses = 0;
  Status st = NewSession(spec_.iv_len, &ses);
  if (!st.ok()) return st;
  // A stream with nothing absorbed needs no state: the copy starts fresh too.
  if (!src.reset) {
    st = driver_->CopyHash(fd, ses, src.ses);
    if (!st.ok()) {
      (void)driver_->FreeSession(fd, ses);
      std::lock_guard<std::mutex> lock(mu_);
      all_.erase(std::remove(all_.begin(), all_.end(), ses), all_.end());
      return st;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  *handle = next_stream_++;
  streams_.emplace(*handle, Stream{ses, src.reset});
  return Status::Ok();
}

void Session::CloseStream(int32_t handle) {
  uint32_t ses = 0;
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(handle);
    if (closed_ || it == streams_.end()) return;
    ses = it->second.ses;
    streams_.erase(it);
    all_.erase(std::remove(all_.begin(), all_.end(), ses), all_.end());
    fd = fd_.get();
  }
  (void)driver_->FreeSession(fd, ses);
}

}  // namespace kcrypto::devcrypto
