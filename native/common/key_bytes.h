// Key material the addon holds: a byte vector that cannot be copied (every copy of a key is one
// somebody wrote on purpose) and whose bytes are zeroed before its memory goes back to the
// allocator, on Wipe(), on reassignment and on destruction.
//
// Each release is audited: the bytes are read back after the wipe, and the process-wide
// counters (keyCopyStats() under KCRYPTO_TEST_HOOKS=1) say how many copies were made, released,
// and released with a byte still set, so that a test sees a wipe that went missing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "wipe.h"

namespace kcrypto {

struct KeyCopyStats {
  uint64_t made;
  uint64_t released;
  uint64_t unwiped;
};

namespace key_audit {
inline std::atomic<uint64_t> made{0};
inline std::atomic<uint64_t> released{0};
inline std::atomic<uint64_t> unwiped{0};
}  // namespace key_audit

inline KeyCopyStats KeyCopies() {
  return {key_audit::made.load(std::memory_order_relaxed), key_audit::released.load(std::memory_order_relaxed),
          key_audit::unwiped.load(std::memory_order_relaxed)};
}

class KeyBytes {
 public:
  KeyBytes() = default;
  ~KeyBytes() { Wipe(); }
  KeyBytes(const KeyBytes&) = delete;
  KeyBytes& operator=(const KeyBytes&) = delete;
  // A move hands the buffer over: no byte is copied, the source is left empty.
  KeyBytes(KeyBytes&& other) noexcept : v_(std::exchange(other.v_, {})) {}
  KeyBytes& operator=(KeyBytes&& other) noexcept {
    if (this != &other) {
      Wipe();
      v_ = std::exchange(other.v_, {});
    }
    return *this;
  }

  void Assign(const uint8_t* p, size_t n) {
    Wipe();
    if (n == 0) return;
    v_.assign(p, p + n);
    key_audit::made.fetch_add(1, std::memory_order_relaxed);
  }

  // For an interface that fills a std::vector (an ABI's CheckAeadKeys deriving the MAC key):
  // call Adopted() after it wrote, so that the copy is counted. The vector is empty on entry.
  std::vector<uint8_t>* Fill() {
    Wipe();
    return &v_;
  }
  void Adopted() {
    if (!v_.empty()) key_audit::made.fetch_add(1, std::memory_order_relaxed);
  }

  // Zeroes the bytes, checks they read back as zero, and frees the buffer.
  void Wipe() {
    if (v_.capacity() == 0) return;
    const size_t n = v_.size();
    SecureZero(v_.data(), v_.capacity());
    const volatile uint8_t* b = v_.data();
    bool clean = true;
    for (size_t i = 0; i < n; ++i) clean = clean && b[i] == 0;
    std::vector<uint8_t>().swap(v_);
    if (n == 0) return;
    key_audit::released.fetch_add(1, std::memory_order_relaxed);
    if (!clean) key_audit::unwiped.fetch_add(1, std::memory_order_relaxed);
  }

  const uint8_t* data() const { return v_.data(); }
  size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  const std::vector<uint8_t>& bytes() const { return v_; }

 private:
  std::vector<uint8_t> v_;
};

inline void Wipe(KeyBytes* k) { k->Wipe(); }

}  // namespace kcrypto
