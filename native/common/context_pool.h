// The pool of identically keyed kernel contexts behind one engine session: AF_ALG op sockets,
// /dev/crypto kernel sessions. The kernel runs one request per context at a time, so parallel
// requests each borrow their own. Not locked itself: the engine session guards it with its own
// mutex, and makes a new context outside that lock when no idle one fits.
#pragma once

#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

namespace kcrypto {

template <class Context>
class ContextPool {
 public:
  // Counts one context busy and moves the most recently returned idle one that `fits` into
  // *out; false when none does: the caller then makes one, and calls Cancel() if it cannot.
  template <class Fits>
  bool Lend(Fits fits, Context* out) {
    ++busy_;
    for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
      if (!fits(*it)) continue;
      *out = std::move(*it);
      idle_.erase(std::next(it).base());
      return true;
    }
    return false;
  }
  bool Lend(Context* out) {
    return Lend([](const Context&) { return true; }, out);
  }

  // A lent context that could not be made.
  void Cancel() { --busy_; }

  // Ends a loan; `keep` puts the context back among the idle ones.
  void Return(Context c, bool keep) {
    --busy_;
    if (keep) idle_.push_back(std::move(c));
  }

  // A context made outside a loan (at open).
  void Add(Context c) { idle_.push_back(std::move(c)); }

  size_t busy() const { return busy_; }
  const std::vector<Context>& idle() const { return idle_; }
  // Empties the pool of idle contexts, handing them to the caller (to close them).
  std::vector<Context> Drain() { return std::exchange(idle_, {}); }

 private:
  std::vector<Context> idle_;
  size_t busy_ = 0;
};

}  // namespace kcrypto
