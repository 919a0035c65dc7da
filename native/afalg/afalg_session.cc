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

#include "../common/kernel_gate.h"
#include "../common/wipe.h"

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

}  // namespace

Status Session::Open(Spec spec, std::unique_ptr<Session>* out) {
  std::unique_ptr<Session> s = Deferred(std::move(spec));
  Status st = s->Open();
  if (st.ok()) *out = std::move(s);
  return st;
}

std::unique_ptr<Session> Session::Deferred(Spec spec) {
  std::unique_ptr<Session> s(new Session());  // private constructor: make_unique cannot reach it
  s->spec_ = std::move(spec);
  return s;
}

Status Session::Open() {
  return open_.Run([this] { return OpenNow(); });
}

// The open, once: the key is wiped whatever came of it (the kernel holds it now, or nothing will).
Status Session::OpenNow() {
  Status st = Bind();
  Wipe(&spec_.key);
  return st;
}

// The system calls of an open: socket, bind, keys, the first op socket.
Status Session::Bind() {
  const Spec& sp = spec_;
  UniqueFd tfm(gate::Admit(gate::kAfAlg) ? ::socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) : -1);
  if (!tfm.valid()) return Status::FromErrno(Syscall::kSocket);

  // sockaddr_alg holds 64 name bytes; since 4.12 the kernel accepts longer names when the
  // address is longer, so build the address in a buffer sized for the name.
  std::vector<uint8_t> addr(std::max(sizeof(sockaddr_alg), offsetof(sockaddr_alg, salg_name) + sp.name.size() + 1), 0);
  auto* sa = reinterpret_cast<sockaddr_alg*>(addr.data());
  sa->salg_family = AF_ALG;
  std::strncpy(reinterpret_cast<char*>(sa->salg_type), TypeName(sp.type), sizeof(sa->salg_type) - 1);
  std::memcpy(addr.data() + offsetof(sockaddr_alg, salg_name), sp.name.data(), sp.name.size());
  if (::bind(tfm.get(), reinterpret_cast<sockaddr*>(addr.data()), static_cast<socklen_t>(addr.size())) != 0)
    return Status::FromErrno(Syscall::kBind);

  if (!sp.key.empty() && ::setsockopt(tfm.get(), SOL_ALG, ALG_SET_KEY, sp.key.data(), static_cast<socklen_t>(sp.key.size())) != 0)
    return Status::FromErrno(Syscall::kSetsockopt);
  // The tag length travels in optlen with a NULL optval (algif_aead's setauthsize).
  if (sp.type == Type::kAead && sp.auth_size != 0 && ::setsockopt(tfm.get(), SOL_ALG, ALG_SET_AEAD_AUTHSIZE, nullptr, sp.auth_size) != 0)
    return Status::FromErrno(Syscall::kSetsockopt);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
    tfm_ = std::move(tfm);
  }

  // Accept the first op socket now: a missing key (ENOKEY) or a transform the kernel cannot
  // instantiate shows up at open, not on the first request.
  OpSocket first;
  Status st = NewOp(&first);
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  ops_.Add(std::move(first));
  return Status::Ok();
}

Session::~Session() {
  Close();
  Wipe(&spec_.key);  // a deferred open that never ran still holds the key
}

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
    // The kernel builds the RX list in pieces of the caller's pages and stops once less than a
    // page of the receive buffer is left (af_alg_readable()): an output that fills the buffer to
    // its last byte from a buffer not aligned to a page is cut short, and the AEAD then leaves
    // the rest of its input on the socket. A page kept free makes the limit one that holds.
    const size_t buffer = static_cast<size_t>(std::min(snd, rcv)) & ~(page - 1);
    size_t usable = std::min(buffer > page ? buffer - page : page, OptmemRequestLimit());
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
    if (ops_.Lend(op)) return Status::Ok();
  }
  Status st = NewOp(op);
  if (!st.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ops_.Cancel();
  }
  return st;
}

void Session::ReleaseOp(OpSocket op) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool keep = !closed_ && op.valid();
  ops_.Return(std::move(op), keep);
}

Status Session::Run(const Request& req) {
  if (Status st = Opened(); !st.ok()) return st;
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

Status Session::OpenStream(int32_t* handle) {
  if (spec_.type != Type::kHash) return Status::Fail(EINVAL, Syscall::kValidate);
  if (Status st = Opened(); !st.ok()) return st;
  UniqueFd fd(::accept4(tfm_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(Syscall::kAccept);
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Fail(EBADF, Syscall::kValidate);
  *handle = next_stream_++;
  streams_.emplace(*handle, std::move(fd));
  return Status::Ok();
}

Status Session::CopyStream(int32_t from, int32_t* handle) {
  if (Status st = Opened(); !st.ok()) return st;
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
    ops = ops_.Drain();
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
  for (const OpSocket& op : ops_.idle()) idle += op.descriptors();
  // A busy op socket counts as one: its pipe, if any, is not visible from here.
  return idle + ops_.busy() + streams_.size() + (tfm_.valid() ? 1 : 0);
}

}  // namespace kcrypto::afalg
