#include "devcrypto_kernel.h"

#include <sanitizer/asan_interface.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "devcrypto/abi/cryptodev_linux.h"
#include "devcrypto/abi/freebsd.h"
#include "devcrypto/abi/netbsd.h"

namespace kcrypto::fuzz {

DevCryptoKernel* g_kernel = nullptr;

namespace {

namespace L = devcrypto::linux_abi;
namespace F = devcrypto::freebsd_abi;
namespace N = devcrypto::netbsd_abi;

[[noreturn]] void Bad(const char* what, const char* why) {
  std::fprintf(stderr, "devcrypto kernel: %s: %s\n", what, why);
  std::abort();
}

Status Err(int e) { return Status::Fail(e, Syscall::kIoctl); }

}  // namespace

DevCryptoKernel::DevCryptoKernel(devcrypto::Abi abi, FuzzedDataProvider* in) : abi_(abi), in_(in) { g_kernel = this; }

DevCryptoKernel::~DevCryptoKernel() { g_kernel = nullptr; }

void DevCryptoKernel::Register(const void* p, size_t n, bool writable) {
  if (n > 0) ranges_.push_back(Range{static_cast<const uint8_t*>(p), n, writable});
}

int DevCryptoKernel::Errno() {
  if (in_->ConsumeIntegralInRange<int>(0, 31) < 26) return 0;
  return in_->PickValueInArray({EINVAL, ENOMEM, EBUSY, EAGAIN, EIO, EBADMSG, ENOTTY, EFAULT});
}

void DevCryptoKernel::CheckRange(const void* p, size_t n, bool write, const char* what) {
  if (n == 0) return;
  if (p == nullptr) Bad(what, "a null pointer with a length");
  const auto a = reinterpret_cast<uintptr_t>(p);
  if (n > UINTPTR_MAX - a) Bad(what, "the range wraps around the address space");
  for (const Range& r : ranges_) {
    const auto b = reinterpret_cast<uintptr_t>(r.p);
    if (a >= b + r.n || b >= a + n) continue;
    if (a < b || a + n > b + r.n) Bad(what, "runs outside the caller's buffer");
    if (write && !r.writable) Bad(what, "a write into a buffer the caller handed in as input");
    return;
  }
  // The addon's own memory: every byte must be live.
  if (__asan_region_is_poisoned(const_cast<void*>(p), n) != nullptr) Bad(what, "not addressable (outside any live allocation)");
}

void DevCryptoKernel::Read(const void* p, size_t n, const char* what) {
  CheckRange(p, n, false, what);
  const auto* b = static_cast<const volatile uint8_t*>(p);
  uint8_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + b[i]);
  (void)sum;
}

void DevCryptoKernel::Write(void* p, size_t n, const char* what) {
  CheckRange(p, n, true, what);
  if (n > 0) std::memset(p, in_->ConsumeIntegral<uint8_t>(), n);
}

DevCryptoKernel::Session& DevCryptoKernel::Known(uint32_t ses, const char* what) {
  auto it = sessions_.find(ses);
  if (it == sessions_.end()) Bad(what, "a session the addon does not hold (never made, or freed)");
  return it->second;
}

uint32_t DevCryptoKernel::NewSession(uint32_t cipher, uint32_t mac, const void* key, size_t keylen, const void* mackey, size_t mackeylen,
                                     uint32_t ivlen, uint32_t maclen) {
  Read(key, keylen, "session key");
  Read(mackey, mackeylen, "session MAC key");
  Session s;
  s.cipher = cipher != 0;
  s.mac = mac != 0;
  if (s.cipher) s.iv_size = ivlen != 0 ? ivlen : in_->PickValueInArray<uint32_t>({16, 0, 8, 12});
  if (s.mac) s.digest_size = maclen != 0 ? maclen : in_->ConsumeIntegralInRange<uint32_t>(1, 64);
  uint32_t id = abi_ == devcrypto::Abi::kCryptodevLinux ? in_->ConsumeIntegral<uint32_t>() : next_ses_++;
  while (sessions_.count(id) != 0 || (abi_ == devcrypto::Abi::kNetBSD && id == 0)) ++id;
  sessions_.emplace(id, s);
  return id;
}

void DevCryptoKernel::Free(uint32_t ses) {
  (void)Known(ses, "freeing a session");
  sessions_.erase(ses);
}

void DevCryptoKernel::RunCrypt(const Session& s, const uint8_t* src, uint8_t* dst, size_t len, uint8_t* mac, const uint8_t* iv,
                               bool final) {
  Read(src, len, "src");
  if (s.cipher) {
    if (len > 0 && dst == nullptr) Bad("dst", "a cipher request with nowhere to write");
    Write(dst, dst != nullptr ? len : 0, "dst");
    if (iv != nullptr) Read(iv, s.iv_size, "iv (the session's IV size)");
  }
  if (s.mac && final) {
    if (mac == nullptr) Bad("mac", "a digest with nowhere to write it");
    Write(mac, s.digest_size, "mac (the session's digest size)");
  }
}

void DevCryptoKernel::Complete(Job* job) {
  job->status = Errno();
  // cryptodev-linux waits out a driver's EBUSY (backlog) before a job completes, and
  // CIOCASYNCFETCH's own EBUSY means "nothing completed": a job never ends with it.
  if (job->status == EBUSY) job->status = EIO;
  // A failed request may have written part of its output, or none.
  if (job->status != 0 && in_->ConsumeBool()) return;
  auto it = sessions_.find(job->ses);
  if (it == sessions_.end()) Bad("queued request", "its session was freed while it was queued");
  if (abi_ == devcrypto::Abi::kNetBSD) {
    // NetBSD copies the results out when they are collected (CIOCNCRYPTRETM).
    Write(job->dst, job->dst != nullptr ? job->len : 0, "queued dst");
    if (it->second.mac) Write(job->mac, it->second.digest_size, "queued mac");
  } else {
    RunCrypt(it->second, job->src, job->dst, job->len, job->mac, job->iv, true);
  }
}

Status DevCryptoKernel::Ioctl(unsigned long request, void* arg) {
  switch (abi_) {
    case devcrypto::Abi::kCryptodevLinux: return Linux(request, arg);
    case devcrypto::Abi::kFreeBSD: return FreeBSD(request, arg);
    case devcrypto::Abi::kNetBSD: return NetBSD(request, arg);
  }
  Bad("ioctl", "no ABI");
}

Status DevCryptoKernel::WaitReadable() {
  if (outstanding() == 0) Bad("poll", "waits for completions with no request outstanding: would wait for ever");
  if (in_->ConsumeIntegralInRange<int>(0, 31) == 31) {
    // The device went away: nothing queued will complete.
    queued_.clear();
    done_.clear();
    return Status::Fail(in_->ConsumeBool() ? EIO : EBADF, Syscall::kPoll);
  }
  // At least one request completes; cryptodev-linux completes in order, NetBSD in any.
  const size_t n = queued_.empty() ? 0 : in_->ConsumeIntegralInRange<size_t>(1, queued_.size());
  for (size_t k = 0; k < n; ++k) {
    size_t i = 0;
    if (abi_ == devcrypto::Abi::kNetBSD) i = in_->ConsumeIntegralInRange<size_t>(0, queued_.size() - 1);
    Job job = queued_[i];
    queued_.erase(queued_.begin() + static_cast<std::ptrdiff_t>(i));
    if (abi_ != devcrypto::Abi::kNetBSD) Complete(&job);
    done_.push_back(job);
  }
  return Status::Ok();
}

Status DevCryptoKernel::Linux(unsigned long request, void* arg) {
  switch (request) {
    case L::CIOCGSESSION: {
      auto* s = static_cast<L::session_op*>(arg);
      CheckRange(s, sizeof *s, true, "session_op");
      if (s->keylen > L::CRYPTO_CIPHER_MAX_KEY_LEN || s->mackeylen > L::CRYPTO_HMAC_MAX_KEY_LEN) return Err(EINVAL);
      if (int e = Errno()) return Err(e);
      s->ses = NewSession(s->cipher, s->mac, s->key, s->keylen, s->mackey, s->mackeylen, 0, 0);
      return Status::Ok();
    }
    case L::CIOCFSESSION: {
      auto* ses = static_cast<uint32_t*>(arg);
      Read(ses, sizeof *ses, "session id");
      Free(*ses);
      return Status::Ok();
    }
    case L::CIOCCRYPT: {
      auto* op = static_cast<L::crypt_op*>(arg);
      Read(op, sizeof *op, "crypt_op");
      const Session& s = Known(op->ses, "CIOCCRYPT");
      if (op->src == nullptr) Bad("CIOCCRYPT src", "null: the module pins src even for 0 bytes");
      if ((op->flags & ~(L::COP_FLAG_UPDATE | L::COP_FLAG_FINAL | L::COP_FLAG_RESET)) != 0) Bad("CIOCCRYPT", "unexpected flags");
      if (op->op != L::COP_ENCRYPT && op->op != L::COP_DECRYPT) Bad("CIOCCRYPT", "op is neither encrypt nor decrypt");
      const int e = Errno();
      if (e != 0 && in_->ConsumeBool()) return Err(e);
      const bool final = (op->flags & L::COP_FLAG_UPDATE) == 0 || (op->flags & L::COP_FLAG_FINAL) != 0;
      RunCrypt(s, op->src, op->dst, op->len, op->mac, op->iv, final);
      return e != 0 ? Err(e) : Status::Ok();
    }
    case L::CIOCAUTHCRYPT: {
      auto* op = static_cast<L::crypt_auth_op*>(arg);
      Read(op, sizeof *op, "crypt_auth_op");
      const Session& s = Known(op->ses, "CIOCAUTHCRYPT");
      if (op->flags != 0 || op->tag != nullptr) Bad("CIOCAUTHCRYPT", "a TLS/SRTP framing");
      if (op->src == nullptr) Bad("CIOCAUTHCRYPT src", "null: the module pins src even for 0 bytes");
      if (op->auth_len > 4096) return Err(EINVAL);
      const uint32_t tag = op->tag_len != 0 ? op->tag_len : 16;
      if (op->op == L::COP_DECRYPT && op->len < tag) return Err(EINVAL);
      Read(op->auth_src, op->auth_len, "auth_src");
      Read(op->iv, op->iv_len, "iv");
      const int e = Errno();
      if (e != 0 && in_->ConsumeBool()) return Err(e);
      Read(op->src, op->len, "src");
      // Encrypt writes ciphertext ‖ tag; decrypt may touch len bytes (ciphertext ‖ tag).
      Write(op->dst, op->op == L::COP_ENCRYPT ? size_t{op->len} + tag : op->len, "dst");
      (void)s;
      return e != 0 ? Err(e) : Status::Ok();
    }
    case L::CIOCASYNCCRYPT: {
      auto* op = static_cast<L::crypt_op*>(arg);
      Read(op, sizeof *op, "crypt_op (async)");
      const Session& s = Known(op->ses, "CIOCASYNCCRYPT");
      if (op->src == nullptr) Bad("CIOCASYNCCRYPT src", "null");
      if (op->flags != 0) Bad("CIOCASYNCCRYPT", "flags on the async path");
      CheckRange(op->src, op->len, false, "async src");
      if (s.cipher) CheckRange(op->dst, op->len, true, "async dst");
      if (s.mac) CheckRange(op->mac, s.digest_size, true, "async mac");
      if (int e = Errno()) return Err(e);  // EBUSY: the ring is full
      Job job;
      job.ses = op->ses;
      job.src = op->src;
      job.dst = op->dst;
      job.mac = op->mac;
      job.iv = op->iv;
      job.len = op->len;
      static_assert(sizeof(L::crypt_op) <= sizeof job.raw);
      std::memcpy(job.raw, op, sizeof *op);
      queued_.push_back(job);
      return Status::Ok();
    }
    case L::CIOCASYNCFETCH: {
      auto* op = static_cast<L::crypt_op*>(arg);
      CheckRange(op, sizeof *op, true, "crypt_op (fetch)");
      if (done_.empty()) return Err(EBUSY);
      const Job job = done_.front();
      done_.pop_front();
      std::memcpy(op, job.raw, sizeof *op);
      return job.status != 0 ? Err(job.status) : Status::Ok();
    }
    case L::CIOCCPHASH: {
      auto* cp = static_cast<L::cphash_op*>(arg);
      Read(cp, sizeof *cp, "cphash_op");
      (void)Known(cp->dst_ses, "CIOCCPHASH dst");
      (void)Known(cp->src_ses, "CIOCCPHASH src");
      if (int e = Errno()) return Err(e);
      return Status::Ok();
    }
    case L::CIOCGSESSINFO: {
      auto* si = static_cast<L::session_info_op*>(arg);
      CheckRange(si, sizeof *si, true, "session_info_op");
      (void)Known(si->ses, "CIOCGSESSINFO");
      if (int e = Errno()) return Err(e);
      // Names the kernel may leave unterminated.
      const std::vector<uint8_t> fill = in_->ConsumeBytes<uint8_t>(sizeof *si - sizeof si->ses);
      if (!fill.empty()) std::memcpy(reinterpret_cast<uint8_t*>(si) + sizeof si->ses, fill.data(), fill.size());
      return Status::Ok();
    }
    case L::CIOCASYMFEAT: {
      Write(arg, sizeof(uint32_t), "asym features");
      if (int e = Errno()) return Err(e);
      return Status::Ok();
    }
    default: Bad("ioctl", "a request number cryptodev-linux does not have");
  }
}

Status DevCryptoKernel::FreeBSD(unsigned long request, void* arg) {
  switch (request) {
    case F::CIOCGSESSION2: {
      auto* s = static_cast<F::session2_op*>(arg);
      CheckRange(s, sizeof *s, true, "session2_op");
      if (s->mackeylen < 0 || s->ivlen < 0 || s->maclen < 0) Bad("session2_op", "a negative length");
      if (s->ivlen > 64 || s->maclen > 64) return Err(EINVAL);
      if (int e = Errno()) return Err(e);
      s->ses = NewSession(s->cipher, s->mac, s->key, s->keylen, s->mackey, static_cast<size_t>(s->mackeylen),
                          static_cast<uint32_t>(s->ivlen), static_cast<uint32_t>(s->maclen));
      s->crid = in_->ConsumeIntegralInRange<int>(0, 3);
      return Status::Ok();
    }
    case F::CIOCFSESSION: {
      auto* ses = static_cast<uint32_t*>(arg);
      Read(ses, sizeof *ses, "session id");
      Free(*ses);
      return Status::Ok();
    }
    case F::CIOCCRYPT: {
      auto* op = static_cast<F::crypt_op*>(arg);
      Read(op, sizeof *op, "crypt_op");
      const Session& s = Known(op->ses, "CIOCCRYPT");
      if (op->len > F::kMaxRequest) return Err(E2BIG);
      // Without an IV pointer the IV is the head of src, and the output starts at dst + ivlen.
      if (s.cipher && op->iv == nullptr && op->len < s.iv_size) return Err(EINVAL);
      const int e = Errno();
      if (e != 0 && in_->ConsumeBool()) return Err(e);
      if (s.cipher && op->dst == nullptr) {
        Write(const_cast<void*>(op->src), op->len, "src (in place: dst is null)");
      }
      RunCrypt(s, static_cast<const uint8_t*>(op->src), static_cast<uint8_t*>(op->dst), op->len, static_cast<uint8_t*>(op->mac),
               static_cast<const uint8_t*>(op->iv), true);
      return e != 0 ? Err(e) : Status::Ok();
    }
    case F::CIOCCRYPTAEAD: {
      auto* op = static_cast<F::crypt_aead*>(arg);
      Read(op, sizeof *op, "crypt_aead");
      const Session& s = Known(op->ses, "CIOCCRYPTAEAD");
      if (op->len > F::kMaxRequest || op->aadlen > F::kMaxRequest) return Err(E2BIG);
      if (op->ivlen != s.iv_size) return Err(EINVAL);
      if (op->tag == nullptr) Bad("crypt_aead tag", "null");
      Read(op->aad, op->aadlen, "aad");
      Read(op->iv, op->ivlen, "iv");
      Read(op->src, op->len, "src");
      const int e = Errno();
      if (e != 0 && in_->ConsumeBool()) return Err(e);
      if (op->op == F::COP_ENCRYPT) {
        Write(op->dst, op->len, "dst");
        Write(op->tag, s.digest_size, "tag (out)");
      } else {
        Read(op->tag, s.digest_size, "tag (in)");
        if (e == 0) Write(op->dst, op->len, "dst");
      }
      return e != 0 ? Err(e) : Status::Ok();
    }
    case F::CIOCFINDDEV: {
      auto* f = static_cast<F::crypt_find_op*>(arg);
      CheckRange(f, sizeof *f, true, "crypt_find_op");
      if (f->crid == -1 && std::memchr(f->name, 0, sizeof f->name) == nullptr) Bad("crypt_find_op", "an unterminated name");
      if (int e = Errno()) return Err(e);
      f->crid = in_->ConsumeIntegralInRange<int>(0, 63);
      const std::vector<uint8_t> name = in_->ConsumeBytes<uint8_t>(sizeof f->name);
      if (!name.empty()) std::memcpy(f->name, name.data(), name.size());  // possibly unterminated
      return Status::Ok();
    }
    case F::legacy12::CIOCASYMFEAT: {
      Write(arg, sizeof(uint32_t), "asym features");
      if (int e = Errno()) return Err(e);
      return Status::Ok();
    }
    default: Bad("ioctl", "a request number FreeBSD does not have");
  }
}

Status DevCryptoKernel::NetBSD(unsigned long request, void* arg) {
  switch (request) {
    case N::CIOCGSESSION: {
      auto* s = static_cast<N::session_op*>(arg);
      CheckRange(s, sizeof *s, true, "session_op");
      if (s->mackeylen < 0) Bad("session_op", "a negative MAC key length");
      if (int e = Errno()) return Err(e);
      s->ses = NewSession(s->cipher, s->mac, s->key, s->keylen, s->mackey, static_cast<size_t>(s->mackeylen), 0, 0);
      return Status::Ok();
    }
    case N::CIOCNGSESSION: {
      auto* sg = static_cast<N::crypt_sgop*>(arg);
      Read(sg, sizeof *sg, "crypt_sgop");
      if (sg->count > SIZE_MAX / sizeof(N::session_n_op)) Bad("crypt_sgop", "count overflows");
      CheckRange(sg->sessions, sg->count * sizeof(N::session_n_op), true, "crypt_sgop sessions");
      if (int e = Errno()) return Err(e);
      for (size_t i = 0; i < sg->count; ++i) {
        N::session_n_op& s = sg->sessions[i];
        if (s.mackeylen < 0) Bad("session_n_op", "a negative MAC key length");
        if (int e = Errno()) {
          s.status = e;
          s.ses = 0;
          continue;
        }
        s.ses = NewSession(s.cipher, s.mac, s.key, s.keylen, s.mackey, static_cast<size_t>(s.mackeylen), 0, 0);
        s.status = 0;
      }
      return Status::Ok();
    }
    case N::CIOCFSESSION: {
      auto* ses = static_cast<uint32_t*>(arg);
      Read(ses, sizeof *ses, "session id");
      Free(*ses);
      return Status::Ok();
    }
    case N::CIOCNFSESSION: {
      auto* sf = static_cast<N::crypt_sfop*>(arg);
      Read(sf, sizeof *sf, "crypt_sfop");
      if (sf->count > SIZE_MAX / sizeof(uint32_t)) Bad("crypt_sfop", "count overflows");
      Read(sf->sesid, sf->count * sizeof(uint32_t), "crypt_sfop ids");
      for (size_t i = 0; i < sf->count; ++i) Free(sf->sesid[i]);
      return Status::Ok();
    }
    case N::CIOCCRYPT: {
      auto* op = static_cast<N::crypt_op*>(arg);
      Read(op, sizeof *op, "crypt_op");
      const Session& s = Known(op->ses, "CIOCCRYPT");
      if (op->len > N::kMaxRequest) return Err(E2BIG);
      if (op->dst != nullptr && op->dst_len < op->len) Bad("crypt_op", "dst_len shorter than len");
      const int e = Errno();
      if (e != 0 && in_->ConsumeBool()) return Err(e);
      RunCrypt(s, static_cast<const uint8_t*>(op->src), static_cast<uint8_t*>(op->dst), op->len, static_cast<uint8_t*>(op->mac),
               static_cast<const uint8_t*>(op->iv), true);
      return e != 0 ? Err(e) : Status::Ok();
    }
    case N::CIOCNCRYPTM: {
      auto* mop = static_cast<N::crypt_mop*>(arg);
      Read(mop, sizeof *mop, "crypt_mop");
      if (mop->count > SIZE_MAX / sizeof(N::crypt_n_op)) Bad("crypt_mop", "count overflows");
      CheckRange(mop->reqs, mop->count * sizeof(N::crypt_n_op), true, "crypt_mop reqs");
      if (int e = Errno()) return Err(e);
      for (size_t i = 0; i < mop->count; ++i) {
        N::crypt_n_op& o = mop->reqs[i];
        const Session& s = Known(o.ses, "CIOCNCRYPTM");
        if (o.len > N::kMaxRequest) {
          o.status = E2BIG;
          continue;
        }
        if (o.dst != nullptr && o.dst_len < o.len) Bad("crypt_n_op", "dst_len shorter than len");
        // Copied in now; the results are copied out when collected.
        Read(o.src, o.len, "queued src");
        if (s.cipher && o.iv != nullptr) Read(o.iv, s.iv_size, "queued iv");
        if (s.cipher) CheckRange(o.dst, o.len, true, "queued dst");
        if (s.mac) CheckRange(o.mac, s.digest_size, true, "queued mac");
        if (int e = Errno()) {
          o.status = e;
          continue;
        }
        Job job;
        job.ses = o.ses;
        job.reqid = next_reqid_++;
        job.opaque = o.opaque;
        job.src = static_cast<const uint8_t*>(o.src);
        job.dst = static_cast<uint8_t*>(o.dst);
        job.mac = static_cast<uint8_t*>(o.mac);
        job.iv = static_cast<const uint8_t*>(o.iv);
        job.len = o.len;
        o.reqid = job.reqid;
        o.status = 0;
        queued_.push_back(job);
      }
      return Status::Ok();
    }
    case N::CIOCNCRYPTRETM: {
      auto* ret = static_cast<N::cryptret*>(arg);
      Read(ret, sizeof *ret, "cryptret");
      if (ret->count > SIZE_MAX / sizeof(N::crypt_result)) Bad("cryptret", "count overflows");
      CheckRange(ret->results, ret->count * sizeof(N::crypt_result), true, "cryptret results");
      if (int e = Errno()) {
        // Not modelled: results left in the kernel after a failed collection would be copied
        // out by a later one. Here a failed collection ends the descriptor's queue.
        queued_.clear();
        done_.clear();
        return Err(e);
      }
      size_t n = 0;
      // Another batch's result, abandoned earlier: the addon must skip it.
      // (Rare events take the input's largest value: an exhausted input makes progress.)
      if (ret->count > 0 && strays_ < 4 && in_->ConsumeIntegralInRange<int>(0, 7) == 7) {
        ++strays_;
        ret->results[n++] = N::crypt_result{0xfffffff0u + in_->ConsumeIntegralInRange<uint32_t>(0, 15), 0, nullptr};
      }
      while (n < ret->count && !done_.empty()) {
        const size_t i = in_->ConsumeIntegralInRange<size_t>(0, done_.size() - 1);
        Job job = done_[i];
        done_.erase(done_.begin() + static_cast<std::ptrdiff_t>(i));
        Complete(&job);
        ret->results[n++] = N::crypt_result{job.reqid, static_cast<uint32_t>(job.status), job.opaque};
      }
      ret->count = n;
      return Status::Ok();
    }
    case N::CIOCASYMFEAT: {
      Write(arg, sizeof(uint32_t), "asym features");
      if (int e = Errno()) return Err(e);
      return Status::Ok();
    }
    default: Bad("ioctl", "a request number NetBSD does not have");
  }
}

}  // namespace kcrypto::fuzz

// The ABI tables' system calls (native/devcrypto/devcrypto_syscalls.cc), answered by the
// simulated kernel.
namespace kcrypto::devcrypto::detail {

Status Ioctl(int fd, unsigned long request, void* arg) {
  if (fd < 0) kcrypto::fuzz::Fail(__FILE__, __LINE__, "ioctl on a closed descriptor");
  if (kcrypto::fuzz::g_kernel == nullptr) return Status::Fail(ENOTTY, Syscall::kIoctl);
  return kcrypto::fuzz::g_kernel->Ioctl(request, arg);
}

Status WaitReadable(int fd) {
  if (fd < 0) kcrypto::fuzz::Fail(__FILE__, __LINE__, "poll on a closed descriptor");
  if (kcrypto::fuzz::g_kernel == nullptr) return Status::Fail(EBADF, Syscall::kPoll);
  return kcrypto::fuzz::g_kernel->WaitReadable();
}

}  // namespace kcrypto::devcrypto::detail
