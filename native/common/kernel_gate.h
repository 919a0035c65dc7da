// The process-wide switch that forbids a kernel interface (KCRYPTO_FORBID, configure({ forbid })),
// checked right before the system call that would reach it: socket(AF_ALG) and open() of a
// /dev/crypto node. The TypeScript layers refuse first, with a typed error; this is the floor
// under them, shared by every copy of the package loaded in the process (ESM and CommonJS, workers).
// A forbid only ever adds bits: nothing in the process can lift it again.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace kcrypto::gate {

inline constexpr uint32_t kAfAlg = 1;
inline constexpr uint32_t kDevCrypto = 2;
inline constexpr uint32_t kAll = kAfAlg | kDevCrypto;

inline std::atomic<uint32_t> forbidden{0};
// System calls that reached the kernel (socket(AF_ALG) whatever its result, open() of a
// /dev/crypto node whatever its result): a probe on a kernel without AF_ALG still asks the
// kernel to load the module, which is what a forbid must prevent.
inline std::atomic<uint64_t> afalg_sockets{0};
inline std::atomic<uint64_t> devcrypto_opens{0};

// True when the interface may be reached (the attempt is counted); false with errno EPERM.
inline bool Admit(uint32_t which) {
  if ((forbidden.load(std::memory_order_acquire) & which) != 0) {
    errno = EPERM;
    return false;
  }
  (which == kAfAlg ? afalg_sockets : devcrypto_opens).fetch_add(1, std::memory_order_relaxed);
  return true;
}

// KCRYPTO_FORBID's value: comma- or space-separated `afalg`, `devcrypto`, `all`. An entry it
// does not know forbids both (a typo must not leave an interface open).
inline uint32_t ParseForbid(const char* value) {
  if (value == nullptr) return 0;
  uint32_t mask = 0;
  std::string word;
  for (const char* p = value;; ++p) {
    const char c = *p;
    if (c == ',' || c == ' ' || c == '\t' || c == '\0') {
      if (word == "afalg") mask |= kAfAlg;
      else if (word == "devcrypto") mask |= kDevCrypto;
      else if (!word.empty()) mask |= kAll;  // "all" and anything unknown
      word.clear();
      if (c == '\0') break;
    } else {
      word += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
  }
  return mask;
}

}  // namespace kcrypto::gate
