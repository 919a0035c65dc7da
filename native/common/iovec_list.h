// A request's gather list: the input segments JavaScript passed, in order. The first few live
// in place, so the usual request (one buffer, or an AEAD's two) costs no heap allocation on the
// JavaScript thread when it is made and none when it is freed: with many small requests in
// flight, malloc and free were a tenth of that thread's time.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <vector>

namespace kcrypto {

class IovecList {
 public:
  static constexpr size_t kInPlace = 3;

  void push_back(const iovec& v) {
    if (size_ < kInPlace) {
      in_place_[size_++] = v;
      return;
    }
    if (size_ == kInPlace) heap_.assign(in_place_.begin(), in_place_.end());
    heap_.push_back(v);
    ++size_;
  }

  // Room for `n` segments without growing (only a list longer than kInPlace allocates).
  void reserve(size_t n) {
    if (n > kInPlace) heap_.reserve(n);
  }

  void clear() {
    size_ = 0;
    heap_.clear();
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const iovec* data() const { return size_ > kInPlace ? heap_.data() : in_place_.data(); }
  const iovec* begin() const { return data(); }
  const iovec* end() const { return data() + size_; }
  const iovec& operator[](size_t i) const { return data()[i]; }

 private:
  std::array<iovec, kInPlace> in_place_{};
  size_t size_ = 0;
  // Every segment once there are more than kInPlace.
  std::vector<iovec> heap_;
};

}  // namespace kcrypto
