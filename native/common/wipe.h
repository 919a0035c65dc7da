// Wiping key material: bytes a key passed through must not linger in the process once the
// kernel has its copy. A plain memset before free may be removed by the compiler (nothing
// reads the bytes afterwards); a call through a volatile function pointer cannot be
// (explicit_bzero would do, but NetBSD names it explicit_memset).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace kcrypto {

inline void SecureZero(void* p, size_t n) {
  static void* (*const volatile memset_fn)(void*, int, size_t) = std::memset;
  if (n > 0) memset_fn(p, 0, n);
}

// Zeroes the bytes and empties the vector.
inline void Wipe(std::vector<uint8_t>* v) {
  SecureZero(v->data(), v->size());
  v->clear();
}

}  // namespace kcrypto
