#include "afalg_session.h"

#include <fcntl.h>
#include <linux/if_alg.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#ifndef SOL_ALG
#define SOL_ALG 279
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

namespace kcrypto::afalg {

namespace {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kHash: return "hash";
    case Type::kSkcipher: return "skcipher";
    case Type::kAead: return "aead";
    case Type::kRng: return "rng";
  }
  return "";
}

// Key bytes must not linger in the process after the kernel has its copy; a plain memset
// before free may be elided by the compiler.
void Wipe(std::vector<uint8_t>* v) {
  if (!v->empty()) explicit_bzero(v->data(), v->size());
  v->clear();
}

// The kernel's per-recvmsg read of AF_ALG RNG output is capped at 128 bytes.
constexpr size_t kRngChunk = 128;

// One AF_ALG request allocates its scatterlists with sock_kmalloc, which is charged against
// net.core.optmem_max: per 4 KiB page of data about 32 bytes of TX list, 32 of the per-request
// copy of it and 38 of RX list (af_alg_tsgl/af_alg_rsgl in crypto/af_alg.c), so ~128 bytes with
// headroom. Beyond optmem_max the kernel fails the request with ENOMEM: 6.1 defaults to 20 KiB
// (≈ 512 KiB per request), 6.12 to 128 KiB. Measured in the lab: 512 KiB passes and 1 MiB fails
// on 6.1.
size_t OptmemRequestLimit() {
  static const size_t limit = [] {
    long optmem = 20480;
    if (FILE* f = std::fopen("/proc/sys/net/core/optmem_max", "re")) {
      if (std::fscanf(f, "%ld", &optmem) != 1) optmem = 20480;
      std::fclose(f);
    }
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const long reserve = 4096;  // the request struct and the rest of the socket's allocations
    const long pages = optmem > reserve ? (optmem - reserve) / 128 : 1;
    return static_cast<size_t>(std::max(1L, pages)) * page;
  }();
  return limit;
}

// From this input size on, a cipher request hands its pages to the kernel (vmsplice + splice)
// instead of having sendmsg copy them from user memory, as libkcapi does for large requests.
// 6.1 takes references to the pages (sendpage). The lab's 6.12 kernel still allocates pages of
// its own in af_alg_sendmsg and copies the spliced ones into them (perf shows both), but that
// copy is cheaper than copy_from_user under emulation. Measured in the lab at 64 KiB, 16 in
// flight: copy_from_user was 17% of a 1-CPU 6.12 guest's time on the card and is gone, +7-17%
// on the card and +10-16% on cbc-aes-aesni there, +5-9% on cbc-aes-aesni on 6.1. Below 16 KiB
// the two extra system calls cost as much as the copy saves.
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

Status Session::Open(Spec spec, std::unique_ptr<Session>* out) {
  std::unique_ptr<Session> s(new Session());  // private constructor: make_unique cannot reach it
  s->spec_ = std::move(spec);
  Spec& sp = s->spec_;

  s->tfm_.reset(::socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!s->tfm_.valid()) {
    Status st = Status::FromErrno(Syscall::kSocket);
    Wipe(&sp.key);
    return st;
  }

  // sockaddr_alg holds 64 name bytes; since 4.12 the kernel accepts longer names when the
  // address is longer, so build the address in a buffer sized for the name.
  std::vector<uint8_t> addr(std::max(sizeof(sockaddr_alg), offsetof(sockaddr_alg, salg_name) + sp.name.size() + 1), 0);
  auto* sa = reinterpret_cast<sockaddr_alg*>(addr.data());
  sa->salg_family = AF_ALG;
  std::strncpy(reinterpret_cast<char*>(sa->salg_type), TypeName(sp.type), sizeof(sa->salg_type) - 1);
  std::memcpy(addr.data() + offsetof(sockaddr_alg, salg_name), sp.name.data(), sp.name.size());
  if (::bind(s->tfm_.get(), reinterpret_cast<sockaddr*>(addr.data()), static_cast<socklen_t>(addr.size())) != 0) {
    Status st = Status::FromErrno(Syscall::kBind);
    Wipe(&sp.key);
    return st;
  }

  if (!sp.key.empty()) {
    int rc = ::setsockopt(s->tfm_.get(), SOL_ALG, ALG_SET_KEY, sp.key.data(), static_cast<socklen_t>(sp.key.size()));
    Status st = rc == 0 ? Status::Ok() : Status::FromErrno(Syscall::kSetsockopt);
    Wipe(&sp.key);
    if (!st.ok()) return st;
  }
  if (sp.type == Type::kAead && sp.auth_size != 0) {
    // The tag length travels in optlen with a NULL optval (algif_aead's setauthsize).
    if (::setsockopt(s->tfm_.get(), SOL_ALG, ALG_SET_AEAD_AUTHSIZE, nullptr, sp.auth_size) != 0)
      return Status::FromErrno(Syscall::kSetsockopt);
  }

  // Accept the first op socket now: a missing key (ENOKEY) or a transform the kernel cannot
  // instantiate shows up at open, not on the first request.
  OpSocket first;
  Status st = s->NewOp(&first);
  if (!st.ok()) return st;
  s->idle_ops_.push_back(std::move(first));
  *out = std::move(s);
  return Status::Ok();
}

Session::~Session() { Close(); }

Status Session::NewOp(OpSocket* out) {
  UniqueFd op(::accept4(tfm_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!op.valid()) return Status::FromErrno(Syscall::kAccept);
  if (spec_.type == Type::kSkcipher || spec_.type == Type::kAead) {
    // A request must fit the socket's TX buffer (AEAD and XTS cannot be split), and the AEAD
    // output must fit its RX buffer. The FORCE variants need CAP_NET_ADMIN; without it the
    // kernel caps the plain ones at wmem_max/rmem_max, and larger requests are chunked or
    // refused with E2BIG rather than left to block in the kernel.
    int want = static_cast<int>(spec_.socket_buffer);
    if (::setsockopt(op.get(), SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) != 0)
      (void)::setsockopt(op.get(), SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
    if (::setsockopt(op.get(), SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
      (void)::setsockopt(op.get(), SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    int snd = 0, rcv = 0;
    socklen_t len = sizeof snd;
    if (::getsockopt(op.get(), SOL_SOCKET, SO_SNDBUF, &snd, &len) != 0) return Status::FromErrno(Syscall::kGetsockopt);
    len = sizeof rcv;
    if (::getsockopt(op.get(), SOL_SOCKET, SO_RCVBUF, &rcv, &len) != 0) return Status::FromErrno(Syscall::kGetsockopt);
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    size_t usable = std::min(static_cast<size_t>(std::min(snd, rcv)) & ~(page - 1), OptmemRequestLimit());
    std::lock_guard<std::mutex> lock(mu_);
    max_message_ = max_message_ == 0 ? usable : std::min(max_message_, usable);
  }
  *out = OpSocket{};
  out->sock = std::move(op);
  return Status::Ok();
}

Status Session::AcquireOp(OpSocket* op) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
    ++busy_ops_;
    if (!idle_ops_.empty()) {
      *op = std::move(idle_ops_.back());
      idle_ops_.pop_back();
      return Status::Ok();
    }
  }
  Status st = NewOp(op);
  if (!st.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    --busy_ops_;
  }
  return st;
}

void Session::ReleaseOp(OpSocket op) {
  std::lock_guard<std::mutex> lock(mu_);
  --busy_ops_;
  if (!closed_ && op.valid()) idle_ops_.push_back(std::move(op));
}

Status Session::Run(const Request& req) {
  if (req.op == Op::kHashUpdate || req.op == Op::kHashFinal) {
    int fd = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = streams_.find(req.stream);
      if (closed_ || it == streams_.end()) return Status::Fail(EBADF, Syscall::kValidate);
      fd = it->second.get();
    }
    if (req.op == Op::kHashUpdate) {
      if (req.input_len() == 0) return Status::Ok();
      msghdr msg{};
      msg.msg_iov = const_cast<iovec*>(req.input.data());
      msg.msg_iovlen = req.input.size();
      ssize_t n = ::sendmsg(fd, &msg, MSG_MORE);
      if (n < 0) return Status::FromErrno(Syscall::kSendmsg);
      return Status::Ok(0);
    }
    // With data pending under MSG_MORE, recvmsg runs the hash's final step; with none it
    // returns the empty-message digest. Either way the socket is then ready for a new hash.
    ssize_t n = ::recv(fd, req.output, req.output_len, 0);
    if (n < 0) return Status::FromErrno(Syscall::kRecvmsg);
    return Status::Ok(static_cast<size_t>(n));
  }

  OpSocket op;
  Status st = AcquireOp(&op);
  if (!st.ok()) return st;
  switch (spec_.type) {
    case Type::kHash: st = RunDigest(op.sock.get(), req); break;
    case Type::kRng: st = RunRandom(op.sock.get(), req); break;
    case Type::kSkcipher:
    case Type::kAead: st = RunCipher(&op, req); break;
  }
  // A failed request can leave data queued in the kernel context, or pages in the pipe; never
  // reuse that socket or its pipe.
  if (!st.ok()) op = OpSocket{};
  ReleaseOp(std::move(op));
  return st;
}

Status Session::RunDigest(int fd, const Request& req) {
  if (req.op != Op::kDigest) return Status::Fail(EINVAL, Syscall::kValidate);
  if (req.input_len() > 0) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(req.input.data());
    msg.msg_iovlen = req.input.size();
    if (::sendmsg(fd, &msg, 0) < 0) return Status::FromErrno(Syscall::kSendmsg);
  }
  ssize_t n = ::recv(fd, req.output, req.output_len, 0);
  if (n < 0) return Status::FromErrno(Syscall::kRecvmsg);
  return Status::Ok(static_cast<size_t>(n));
}

Status Session::RunRandom(int fd, const Request& req) {
  if (req.op != Op::kRandom) return Status::Fail(EINVAL, Syscall::kValidate);
  size_t done = 0;
  while (done < req.output_len) {
    size_t want = std::min(kRngChunk, req.output_len - done);
    ssize_t n = ::recv(fd, req.output + done, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(Syscall::kRecvmsg);
    }
    if (n == 0) return Status::Fail(EIO, Syscall::kRecvmsg);
    done += static_cast<size_t>(n);
  }
  return Status::Ok(done);
}


Status Session::RunCipher(OpSocket* op_socket, const Request& req) {
  const int fd = op_socket->sock.get();
  if (req.op != Op::kEncrypt && req.op != Op::kDecrypt) return Status::Fail(EINVAL, Syscall::kValidate);
  const bool aead = spec_.type == Type::kAead;
  const size_t total = req.input_len();
  size_t limit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit = max_message_;
  }
  if (spec_.max_request != 0) limit = std::min(limit, spec_.max_request);
  // Nothing to transform: the kernel would leave an empty request open on the socket.
  if (total == 0 && !aead) return Status::Ok(0);
  const bool chunked = total > limit;
  if (chunked && (aead || !spec_.chunkable)) return Status::Fail(E2BIG, Syscall::kValidate);

  // Control header: op, IV, assoclen. Sized for the largest IV the kernel defines.
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint32_t)) * 2 + CMSG_SPACE(sizeof(af_alg_iv) + 64)> control{};
  if (req.iv_len > 64) return Status::Fail(EINVAL, Syscall::kValidate);
  size_t control_len = CMSG_SPACE(sizeof(uint32_t));
  if (req.iv != nullptr) control_len += CMSG_SPACE(sizeof(af_alg_iv) + req.iv_len);
  if (aead) control_len += CMSG_SPACE(sizeof(uint32_t));

  msghdr msg{};
  msg.msg_control = control.data();
  msg.msg_controllen = control_len;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_ALG;
  c->cmsg_type = ALG_SET_OP;
  c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
  const uint32_t op = req.op == Op::kEncrypt ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT;
  std::memcpy(CMSG_DATA(c), &op, sizeof op);
  if (req.iv != nullptr) {
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_IV;
    c->cmsg_len = CMSG_LEN(sizeof(af_alg_iv) + req.iv_len);
    auto* iv = reinterpret_cast<af_alg_iv*>(CMSG_DATA(c));
    iv->ivlen = static_cast<uint32_t>(req.iv_len);
    std::memcpy(iv->iv, req.iv, req.iv_len);
  }
  if (aead) {
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_AEAD_ASSOCLEN;
    c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
    std::memcpy(CMSG_DATA(c), &req.assoc_len, sizeof req.assoc_len);
  }

  size_t produced = 0;
  bool splice = false;
  if (!chunked && total >= kSpliceMin) {
    // In place, spliced input pages would also be the output pages: the kernel would then read
    // and write the same memory through two lists, which not every driver is written for.
    bool in_place = false;
    for (const iovec& v : req.input) in_place = in_place || Overlaps(static_cast<const uint8_t*>(v.iov_base), v.iov_len, req.output, req.output_len);
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
  // blocks; max_request is validated to be one) sent under MSG_MORE, and its output read back before the next chunk; the kernel
  // carries the IV across chunks of one request.
  if (req.output_len < total) return Status::Fail(EINVAL, Syscall::kValidate);
  std::vector<iovec> piece;
  size_t seg = 0, seg_off = 0, sent = 0;
  while (sent < total) {
    const size_t chunk = std::min(limit, total - sent);
    const bool last = sent + chunk == total;
    piece.clear();
    size_t need = chunk;
    while (need > 0) {
      const iovec& v = req.input[seg];
      size_t take = std::min(need, v.iov_len - seg_off);
      piece.push_back(iovec{static_cast<uint8_t*>(v.iov_base) + seg_off, take});
      need -= take;
      seg_off += take;
      if (seg_off == v.iov_len) {
        ++seg;
        seg_off = 0;
      }
    }
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
  size_t seg = 0, seg_off = 0, sent = 0;
  while (sent < total) {
    piece.clear();
    size_t want = std::min(window, total - sent);
    for (size_t s = seg, off = seg_off; want > 0 && s < req.input.size(); ++s, off = 0) {
      const iovec& v = req.input[s];
      const size_t take = std::min(want, v.iov_len - off);
      if (take > 0) piece.push_back(iovec{static_cast<uint8_t*>(v.iov_base) + off, take});
      want -= take;
    }
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
    // Advance the cursor over the input by what went through.
    for (size_t moved = static_cast<size_t>(n); moved > 0;) {
      const size_t rest = req.input[seg].iov_len - seg_off;
      if (moved < rest) {
        seg_off += moved;
        moved = 0;
      } else {
        moved -= rest;
        ++seg;
        seg_off = 0;
      }
    }
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

Status Session::OpenStream(int32_t* handle) {
  if (spec_.type != Type::kHash) return Status::Fail(EINVAL, Syscall::kValidate);
  UniqueFd fd(::accept4(tfm_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(Syscall::kAccept);
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
  *handle = next_stream_++;
  streams_.emplace(*handle, std::move(fd));
  return Status::Ok();
}

Status Session::CopyStream(int32_t from, int32_t* handle) {
  int src = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(from);
    if (closed_ || it == streams_.end()) return Status::Fail(EBADF, Syscall::kValidate);
    src = it->second.get();
  }
  // accept() on a hash op socket clones its partial state into a new socket.
  UniqueFd fd(::accept4(src, nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(Syscall::kAccept);
  std::lock_guard<std::mutex> lock(mu_);
  *handle = next_stream_++;
  streams_.emplace(*handle, std::move(fd));
  return Status::Ok();
}

void Session::CloseStream(int32_t handle) {
  UniqueFd doomed;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(handle);
  if (it == streams_.end()) return;
  doomed = std::move(it->second);
  streams_.erase(it);
}

void Session::Close() {
  std::vector<OpSocket> ops;
  std::map<int32_t, UniqueFd> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    ops.swap(idle_ops_);
    streams.swap(streams_);
  }
  tfm_.reset();
}

size_t Session::max_request() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (spec_.max_request != 0) return std::min(max_message_, spec_.max_request);
  return max_message_;
}

size_t Session::open_descriptors() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t idle = 0;
  for (const OpSocket& op : idle_ops_) idle += op.descriptors();
  // A busy op socket counts as one: its pipe, if any, is not visible from here.
  return idle + busy_ops_ + streams_.size() + (tfm_.valid() ? 1 : 0);
}

}  // namespace kcrypto::afalg
