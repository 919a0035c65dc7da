// A device session's open: its system calls run once, by whichever thread gets there first (the
// device lane's open job, or a request that came before it), and every later caller gets the
// status of that one run.
#pragma once

#include <atomic>
#include <mutex>
#include <utility>

#include "status.h"

namespace kcrypto {

class OpenOnce {
 public:
  // Runs `open` unless it ran already; returns its status.
  template <typename Open>
  Status Run(Open&& open) {
    std::lock_guard<std::mutex> once(mu_);
    if (ran_.load(std::memory_order_relaxed)) return status_;
    status_ = std::forward<Open>(open)();
    ran_.store(true, std::memory_order_release);
    return status_;
  }

  // Whether the open ran and succeeded; never waits for one under way.
  bool Succeeded() const { return ran_.load(std::memory_order_acquire) && status_.ok(); }

  // The open's status, running it first if no call has yet.
  template <typename Open>
  Status Get(Open&& open) {
    return ran_.load(std::memory_order_acquire) ? status_ : Run(std::forward<Open>(open));
  }

 private:
  std::mutex mu_;
  // status_ is written before ran_ is set, and never after.
  std::atomic<bool> ran_{false};
  Status status_;
};

}  // namespace kcrypto
