// A first-in first-out queue over storage it keeps: a ring that doubles when full and never
// shrinks.
//
// Why not std::deque: a deque allocates a block every few jobs on the thread that submits and
// frees it on the thread that takes the last job out of it. With glibc each thread allocates from
// an arena of its own, so every such free locks the submitting thread's arena while that thread
// allocates from it -- measured on a 2-core host with 64 requests in flight, the JavaScript
// thread spent a tenth of its time waking threads blocked on that lock. A ring reaches its
// working size once and then allocates nothing.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace kcrypto {

template <typename T>
class JobRing {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }

  void push_back(T&& item) {
    if (count_ == slots_.size()) Grow();
    slots_[(head_ + count_) & (slots_.size() - 1)] = std::move(item);
    ++count_;
  }

  // The oldest item, in place. Not on an empty ring.
  const T& front() const { return slots_[head_]; }

  // The oldest item, moved out (its slot keeps a moved-from item: nothing that owns). Not on an
  // empty ring.
  T pop_front() {
    T item = std::move(slots_[head_]);
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
    return item;
  }

  // Moves the items for which `pick` holds into `out` and closes the gaps, keeping the order of
  // the rest. For the rare sweep of overdue jobs: linear in the size of the ring.
  template <typename Pick>
  void TakeIf(Pick pick, std::vector<T>* out) {
    const size_t mask = slots_.size() - 1;
    size_t kept = 0;
    for (size_t i = 0; i < count_; ++i) {
      T& item = slots_[(head_ + i) & mask];
      if (pick(item)) {
        out->push_back(std::move(item));
      } else {
        if (kept != i) slots_[(head_ + kept) & mask] = std::move(item);
        ++kept;
      }
    }
    count_ = kept;
  }

 private:
  void Grow() {
    std::vector<T> bigger(slots_.empty() ? 64 : slots_.size() * 2);
    for (size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;  // a power of two in size
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace kcrypto
