// The outcome of one kernel interaction: an errno and the system call that produced it.
// Results cross into JavaScript as one double so that a batch of completions is a flat
// Float64Array (see encode()); src/kernel/bridge/status.ts decodes it.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace kcrypto {

// Stable ids shared with src/kernel/bridge/status.ts: append only.
enum class Syscall : uint32_t {
  kNone = 0,
  kSocket = 1,
  kBind = 2,
  kSetsockopt = 3,
  kAccept = 4,
  kSendmsg = 5,
  kRecvmsg = 6,
  kOpen = 7,
  kIoctl = 8,
  kPoll = 9,
  kValidate = 10,  // rejected by the addon before reaching the kernel
  kGetsockopt = 11,
  kClose = 12,
  kRead = 13,
  kWrite = 14,
  kPipe = 15,
  kVmsplice = 16,
  kSplice = 17,
};

struct [[nodiscard]] Status {
  int err = 0;
  Syscall syscall = Syscall::kNone;
  size_t bytes = 0;  // output bytes on success

  static Status Ok(size_t n = 0) { return Status{0, Syscall::kNone, n}; }
  static Status Fail(int e, Syscall s) { return Status{e, s, 0}; }
  static Status FromErrno(Syscall s) { return Status{errno, s, 0}; }
  bool ok() const { return err == 0; }

  // >= 0: bytes produced; -1 is reserved for "queued"; otherwise -(2 + errno + 4096 * syscall).
  double encode() const {
    if (ok()) return static_cast<double>(bytes);
    return -(2.0 + static_cast<double>(err) + 4096.0 * static_cast<double>(syscall));
  }
};

constexpr double kQueued = -1.0;

}  // namespace kcrypto
