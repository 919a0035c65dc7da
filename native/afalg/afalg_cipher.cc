// The cipher path of an AF_ALG session (skcipher and AEAD): one sendmsg, a long skcipher
// request streamed in chunks, or a large request's pages spliced into the op socket.
#include <fcntl.h>
#include <linux/if_alg.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "../common/iovec_cursor.h"
#include "afalg_message.h"
#include "afalg_session.h"

namespace kcrypto::afalg {

namespace {

// From this input size on, a cipher request hands its pages to the kernel (vmsplice + splice)
// instead of having sendmsg copy them from user memory, as libkcapi does for large requests.
// 6.1 takes references to the pages (sendpage). The lab's 6.12 kernel still allocates pages of
// its own in af_alg_sendmsg and copies the spliced ones into them (perf shows both), but that
// copy is cheaper than copy_from_user under emulation. Below 16 KiB the two extra system calls
// cost as much as the copy saves (bench/README.md has the measurements).
constexpr size_t kSpliceMin = 16 * 1024;

// Pipe size asked for a spliced request's pages: a 64 KiB request goes through in one splice
// even when unaligned. A pipe's pages are the caller's, not the pipe's, so this is slots only;
// it does count against an unprivileged user's pipe quota, and over it the kernel refuses.
constexpr int kPipeSize = 128 * 1024;

// Whether [a, a+alen) and [b, b+blen) share a byte.
bool Overlaps(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) {
  const auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return alen > 0 && blen > 0 && x < y + blen && y < x + alen;
}

// Splice failures that mean this kernel cannot splice into an AF_ALG socket at all.
bool SpliceUnsupported(int err) { return err == EINVAL || err == EOPNOTSUPP || err == ENOSYS; }

}  // namespace

Status Session::RunCipher(OpSocket* op_socket, const Request& req) {
  const int fd = op_socket->sock.get();
  const bool aead = spec_.type == Type::kAead;
  size_t limit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit = max_message_;
  }
  if (spec_.max_request != 0) limit = std::min(limit, spec_.max_request);
  CipherPlan plan;
  if (Status st = PlanCipher(req, aead, spec_.chunkable, limit, &plan); !st.ok() || plan.nothing) return st;
  const size_t total = plan.total;
  const bool chunked = plan.chunked;

  Control control;
  BuildControl(req, aead, &control);
  msghdr msg{};
  msg.msg_control = control.bytes.data();
  msg.msg_controllen = control.len;

  size_t produced = 0;
  bool splice = false;
  if (!chunked && total >= kSpliceMin) {
    // In place, spliced input pages would also be the output pages: the kernel would then read
    // and write the same memory through two lists, which not every driver is written for.
    bool in_place = false;
    for (const iovec& v : req.input)
      in_place = in_place || Overlaps(static_cast<const uint8_t*>(v.iov_base), v.iov_len, req.output, req.output_len);
    std::lock_guard<std::mutex> lock(mu_);
    splice = splice_ok_ && !in_place;
  }
  if (splice) {
    Status st = SendSpliced(op_socket, &msg, req);
    if (!st.ok()) {
      if (!SpliceUnsupported(st.err) || (st.syscall != Syscall::kVmsplice && st.syscall != Syscall::kSplice)) return st;
      {
        std::lock_guard<std::mutex> lock(mu_);
        splice_ok_ = false;
      }
      // The refused splice left this socket mid-request: run the request on a fresh one.
      st = NewOp(op_socket);
      if (!st.ok()) return st;
      return RunCipher(op_socket, req);
    }
    st = ReceiveAll(fd, req.output, req.output_len, &produced);
    if (!st.ok()) return st;
    return Status::Ok(produced);
  }
  if (!chunked) {
    msg.msg_iov = const_cast<iovec*>(req.input.data());
    msg.msg_iovlen = req.input.size();
    ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) return Status::FromErrno(Syscall::kSendmsg);
    if (static_cast<size_t>(n) != total) return Status::Fail(E2BIG, Syscall::kSendmsg);
    Status st = ReceiveAll(fd, req.output, req.output_len, &produced);
    if (!st.ok()) return st;
    return Status::Ok(produced);
  }

  // Stream a long skcipher request: each chunk is a page multiple (so a whole number of cipher
  // blocks; max_request is validated to be one) sent under MSG_MORE, and its output read back
  // before the next chunk (PlanCipher checked the output has room); the kernel carries the IV
  // across chunks of one request.
  std::vector<iovec> piece;
  IovecCursor cursor(req.input);
  size_t sent = 0;
  while (sent < total) {
    const size_t chunk = ChunkAt(plan, sent);
    const bool last = sent + chunk == total;
    piece.clear();
    cursor.Take(chunk, &piece);
    msg.msg_iov = piece.data();
    msg.msg_iovlen = piece.size();
    if (sent > 0) {
      msg.msg_control = nullptr;
      msg.msg_controllen = 0;
    }
    ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | (last ? 0 : MSG_MORE));
    if (n < 0) return Status::FromErrno(Syscall::kSendmsg);
    if (static_cast<size_t>(n) != chunk) return Status::Fail(E2BIG, Syscall::kSendmsg);
    size_t got = 0;
    Status st = ReceiveAll(fd, req.output + sent, chunk, &got);
    if (!st.ok()) return st;
    if (got != chunk) return Status::Fail(EIO, Syscall::kRecvmsg);
    produced += got;
    sent += chunk;
  }
  return Status::Ok(produced);
}

// The request's header (op, IV, assoclen) goes first under MSG_MORE, with no data; then its
// input pages pass through the op socket's pipe, a pipe's worth at a time, the last splice
// without SPLICE_F_MORE to end the request. A kernel that takes the pages by reference (6.1)
// reads the caller's memory until the request completes, so the input must not change before
// then, which the engine's contract already asks of every request.
Status Session::SendSpliced(OpSocket* op, msghdr* header, const Request& req) {
  const int fd = op->sock.get();
  if (!op->pipe_write.valid()) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Status::FromErrno(Syscall::kPipe);
    op->pipe_read.reset(p[0]);
    op->pipe_write.reset(p[1]);
    (void)::fcntl(p[1], F_SETPIPE_SZ, kPipeSize);
    // Pipes of a user over the kernel's pipe quota get two pages: ask, don't assume.
    const int cap = ::fcntl(p[1], F_GETPIPE_SZ);
    op->pipe_capacity = cap > 0 ? static_cast<size_t>(cap) : static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  }
  header->msg_iov = nullptr;
  header->msg_iovlen = 0;
  if (::sendmsg(fd, header, MSG_DONTWAIT | MSG_MORE) < 0) return Status::FromErrno(Syscall::kSendmsg);

  const size_t total = req.input_len();
  // Each pipe slot holds one page (or part of one), so a pipe of N bytes takes at most N bytes
  // and, for input not aligned to pages, a page less.
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t window = op->pipe_capacity > page ? op->pipe_capacity - page : op->pipe_capacity;
  std::vector<iovec> piece;
  IovecCursor cursor(req.input);
  size_t sent = 0;
  while (sent < total) {
    piece.clear();
    cursor.Peek(std::min(window, total - sent), &piece);
    // NONBLOCK: the pipe is empty here, so a full pipe would mean a bug, not a wait.
    ssize_t n = ::vmsplice(op->pipe_write.get(), piece.data(), piece.size(), SPLICE_F_NONBLOCK);
    if (n < 0) return Status::FromErrno(Syscall::kVmsplice);
    if (n == 0) return Status::Fail(EIO, Syscall::kVmsplice);
    for (size_t left = static_cast<size_t>(n); left > 0;) {
      const bool last = sent + left == total;
      ssize_t m = ::splice(op->pipe_read.get(), nullptr, fd, nullptr, left, last ? 0 : SPLICE_F_MORE);
      if (m < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(Syscall::kSplice);
      }
      if (m == 0) return Status::Fail(EIO, Syscall::kSplice);
      left -= static_cast<size_t>(m);
      sent += static_cast<size_t>(m);
    }
    cursor.Advance(static_cast<size_t>(n));  // by what went through
  }
  return Status::Ok();
}

// Reads until the output is full or the kernel has no more. MSG_DONTWAIT keeps recvmsg from
// waiting for input that will never come if the output buffer is larger than the result.
Status Session::ReceiveAll(int fd, uint8_t* out, size_t len, size_t* got) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::recv(fd, out + done, len - done, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && done > 0) break;
      return Status::FromErrno(Syscall::kRecvmsg);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  *got = done;
  return Status::Ok(done);
}

}  // namespace kcrypto::afalg
