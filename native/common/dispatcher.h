// Runs engine requests on the addon's own threads and hands completions back to JavaScript in
// batches.
//
// Why not the libuv pool: a request to a slow device (virtio-crypto, a remote card) parks its
// thread in the kernel for the whole request, and parked libuv threads starve fs, dns and zlib
// in the same process. Why not AF_ALG AIO: current kernels force algif_skcipher to run
// synchronously and allow one AIO per op socket. Measured in the lab (6.1 and 6.12, TCG):
// io_submit of a 64 KiB IOCB_CMD_PREAD on a virtio_crypto_aes_cbc op socket returns after
// 320-560 us with the completion already posted (io_getevents 7-20 us later), exactly as long
// as a blocking recvmsg -- so AIO would block the JavaScript thread for the device's whole
// latency, and buys no overlap over a thread. So: a small pool of our own threads, grown on
// demand up to a cap (one blocked thread per request in flight on a device), woken at most once
// per idle thread per burst of submissions, and one cross-thread wake-up back to JavaScript per
// batch of completions (thread hops, not system calls, dominate small-request cost under
// emulation).
#pragma once

#include <napi.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine.h"

namespace kcrypto {

struct Job {
  std::shared_ptr<EngineSession> session;
  Request request;
  double id = 0;
  double result = 0;
  double nanos = 0;  // time spent in Run(), for the TypeScript cost model
};

class Dispatcher {
 public:
  struct Stats {
    size_t threads = 0;
    size_t idle = 0;
    size_t queued = 0;
    size_t running = 0;
    size_t max_threads = 0;
    uint64_t wakeups = 0;     // worker wake-ups issued
    uint64_t deliveries = 0;  // completion batches delivered to JavaScript
  };

  Dispatcher(Napi::Env env, Napi::Function on_complete);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Submit(Job job);  // JavaScript thread
  void SetMaxThreads(size_t n);
  // Niceness of this dispatcher's threads (Linux: per thread; elsewhere left as is). CPU-bound
  // lanes run below the JavaScript thread so that they soak up idle cores without taking one
  // from the event loop when it has work.
  void SetNice(int nice);
  Stats stats() const;
  // Stops the threads. Threads stuck in the kernel (a removed device) are left behind rather
  // than waited for, and never call into JavaScript afterwards.
  void Shutdown();

 private:
  struct Shared;
  static void WorkerMain(std::shared_ptr<Shared> shared);
  static bool WakeOneLocked(Shared* shared);
  static void Deliver(Napi::Env env, Napi::Function fn, Shared* shared);
  std::shared_ptr<Shared> shared_;
  Napi::Env env_;
};

}  // namespace kcrypto
