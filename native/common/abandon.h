// A session's abandoned flag (see SessionWrap::Abandon and Dispatcher::Overdue), and the lock
// that makes "abandoned" and "a thread copies a result into JavaScript memory" exclusive.
//
// Why the lock: a device request can outlive the JavaScript side's interest in it (the card
// is gone, or the request passed its deadline); JavaScript then hands the request back
// (EAGAIN) and its caller may reuse the output buffer at once. A thread that the kernel lets go
// later must not write into that buffer. Device jobs therefore have the kernel write into the
// thread's own buffer, and copy the result out under the shared side of this lock after
// checking the flag; Set() takes the exclusive side, so once it returns no copy is under way
// and none will start.
#pragma once

#include <atomic>
#include <mutex>
#include <shared_mutex>

namespace kcrypto {

class AbandonFlag {
 public:
  bool abandoned() const { return flag_.load(std::memory_order_acquire); }

  // Waits for a copy under way (a memcpy, never a kernel wait).
  void Set() {
    std::unique_lock<std::shared_mutex> lock(mu_);
    flag_.store(true, std::memory_order_release);
  }

  // Runs fn() unless the session was abandoned; returns whether it ran.
  template <class Fn>
  bool UnlessAbandoned(Fn&& fn) {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (flag_.load(std::memory_order_acquire)) return false;
    fn();
    return true;
  }

 private:
  std::shared_mutex mu_;
  std::atomic<bool> flag_{false};
};

}  // namespace kcrypto
