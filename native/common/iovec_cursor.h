// Walking a request's gather list (the input segments JavaScript passed) by byte offset: both
// engines cut one request into kernel-sized pieces, and /dev/crypto needs contiguous spans.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "iovec_list.h"

namespace kcrypto {

class IovecCursor {
 public:
  explicit IovecCursor(const IovecList& segments) : segments_(segments) {}

  // Appends to `out` the segments covering the next `n` bytes (fewer where the list ends),
  // without moving.
  void Peek(size_t n, std::vector<iovec>* out) const {
    size_t off = offset_;
    for (size_t s = segment_; n > 0 && s < segments_.size(); ++s, off = 0) {
      const iovec& v = segments_[s];
      const size_t take = std::min(n, v.iov_len - off);
      if (take > 0) out->push_back(iovec{static_cast<uint8_t*>(v.iov_base) + off, take});
      n -= take;
    }
  }

  // Moves `n` bytes on.
  void Advance(size_t n) {
    while (n > 0 && segment_ < segments_.size()) {
      const size_t rest = segments_[segment_].iov_len - offset_;
      if (n < rest) {
        offset_ += n;
        return;
      }
      n -= rest;
      ++segment_;
      offset_ = 0;
    }
  }

  // Peek, then Advance.
  void Take(size_t n, std::vector<iovec>* out) {
    Peek(n, out);
    Advance(n);
  }

 private:
  const IovecList& segments_;
  size_t segment_ = 0;
  size_t offset_ = 0;
};

// Bytes [off, off + n) of a gather list: a pointer into the caller's buffer when they lie in
// one segment (the common case), else a copy in `scratch`; null when n is 0.
inline const uint8_t* Contiguous(const IovecList& in, size_t off, size_t n, std::vector<uint8_t>* scratch) {
  if (n == 0) return nullptr;
  IovecCursor cursor(in);
  cursor.Advance(off);
  std::vector<iovec> pieces;
  cursor.Peek(n, &pieces);
  if (pieces.size() == 1 && pieces[0].iov_len == n) return static_cast<const uint8_t*>(pieces[0].iov_base);
  scratch->resize(n);
  size_t done = 0;
  for (const iovec& p : pieces) {
    std::memcpy(scratch->data() + done, p.iov_base, p.iov_len);
    done += p.iov_len;
  }
  return scratch->data();
}

}  // namespace kcrypto
