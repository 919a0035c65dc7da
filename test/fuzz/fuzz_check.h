// What the fuzz harnesses share: a failed check reports and aborts (libFuzzer then saves the
// input), and buffers allocated with their exact size, so that AddressSanitizer also catches
// a read one byte past one.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace kcrypto::fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "fuzz check failed at %s:%d: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(cond)                                           \
  do {                                                             \
    if (!(cond)) ::kcrypto::fuzz::Fail(__FILE__, __LINE__, #cond); \
  } while (0)

// A buffer of exactly `size` bytes (ASan's redzone starts right after it), filled from the input.
class Buffer {
 public:
  Buffer(size_t size, FuzzedDataProvider* in) : size_(size), bytes_(std::make_unique<uint8_t[]>(size)) {
    const std::vector<uint8_t> fill = in->ConsumeBytes<uint8_t>(size);
    for (size_t i = 0; i < fill.size(); ++i) bytes_[i] = fill[i];
  }
  uint8_t* data() const { return bytes_.get(); }
  size_t size() const { return size_; }
  // Whether [p, p + n) lies inside this buffer.
  bool Holds(const void* p, size_t n) const {
    const auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(bytes_.get());
    return a >= b && n <= size_ && a - b <= size_ - n;
  }

 private:
  size_t size_;
  std::unique_ptr<uint8_t[]> bytes_;
};

}  // namespace kcrypto::fuzz
