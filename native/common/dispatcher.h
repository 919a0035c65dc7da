// Runs engine requests on the addon's own threads and hands completions back to JavaScript in
// batches.
//
// Why not the libuv pool: a request to a slow device (virtio-crypto, a remote card) parks its
// thread in the kernel for the whole request, and parked libuv threads leave fs, dns and zlib
// in the same process without one. Why not AF_ALG AIO: current kernels force algif_skcipher to run
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

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "abandon.h"
#include "engine.h"
#include "job_ring.h"

namespace kcrypto {

struct Job {
  std::shared_ptr<EngineSession> session;
  Request request;
  double id = 0;
  double result = 0;
  double nanos = 0;  // time spent in Run(), for the TypeScript cost model
  // How long Run() may take before the job counts as overdue (0: no limit). Measured from the
  // moment a thread takes the job, so a long queue in front of it never makes it overdue.
  uint64_t deadline_ns = 0;
  uint64_t queued_at = 0;
  // Set when the session was abandoned (see SessionWrap::Abandon), or by Overdue() when one of
  // its jobs is overdue: its jobs then complete with ESHUTDOWN without touching the session's
  // descriptors.
  std::shared_ptr<AbandonFlag> cancelled;
  // The job runs on copies that belong to its thread: the input and IV copied in, the output
  // copied into request.output only if the session was not abandoned meanwhile (see abandon.h
  // and RunJob). Device jobs: a request on a card that goes away may return long after
  // JavaScript gave up on it, or after its environment (a worker) is gone.
  bool guard_output = false;
  // The request's input and IV, copied as the job was made on the JavaScript thread: JavaScript
  // can detach (transfer) an ArrayBuffer a pending request reads, and the memory goes with it
  // -- to be freed when its new owner is collected or its worker ends -- while the job may still
  // wait in a queue or run. request.input and request.iv point here.
  std::vector<uint8_t> owned_input;
  // Reported overdue: JavaScript has completed it already and drops this completion; it no
  // longer keeps the event loop alive.
  bool abandoned = false;
};

// request.input and request.iv point into owned_input: a job is moved, never copied.
static_assert(std::is_nothrow_move_constructible_v<Job>, "a vector of jobs must move them when it grows");

// A job reported by Dispatcher::Overdue().
struct OverdueJob {
  enum Kind : uint32_t {
    kStuck = 1,         // a thread has been inside Run() past the deadline (the thread is stuck)
    kStuckInQueue = 2,  // still queued past its deadline while every thread of the lane is stuck
                        // and no replacement may start; removed from the queue, never run
  };
  double id;
  Kind kind;
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
    size_t stuck = 0;         // threads still inside a job reported overdue
    uint64_t batches = 0;     // batches handed to a kernel queue (see job_batch.h)
    uint64_t batched = 0;     // the jobs in them
  };

  Dispatcher(Napi::Env env, Napi::Function on_complete);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Submit(Job job);  // JavaScript thread
  // Queues several jobs under one lock with at most one wake-up (JavaScript thread); empties `jobs`.
  void SubmitMany(std::vector<Job>* jobs);
  void SetMaxThreads(size_t n);
  // Whether a busy lane batches the queued jobs of sessions with a kernel queue (default: yes;
  // see job_batch.h). Off, each job waits for a thread of its own, as before batches.
  void SetBatching(bool on);
  // Whether Shutdown() waits for every running job however long it takes (a lane of CPU work,
  // which always ends, and runs on JavaScript's memory), rather than a grace period.
  void SetWaitAtShutdown(bool wait);
  // Niceness of this dispatcher's threads (Linux: per thread; elsewhere left as is). CPU-bound
  // lanes run below the JavaScript thread so that they soak up idle cores without taking one
  // from the event loop when it has work.
  void SetNice(int nice);
  // How long a thread that ran out of work stays awake for the next job (0: not at all).
  void SetSpin(uint64_t ns);
  Stats stats() const;
  // JavaScript thread. Reports each job that became overdue since the last call, once. An
  // overdue job's session is abandoned at once (as JavaScript then does too), so that the
  // replacement started below never runs that session's queued jobs. Every thread stuck in an
  // overdue job lets the lane start one replacement thread, up to max_threads replacements, so
  // that a device that never answers cannot take the lane's threads from other sessions.
  // Overdue jobs stop keeping the event loop alive.
  std::vector<OverdueJob> Overdue();
  // JavaScript thread. Appends (id, result, nanos) of the jobs completed since the last delivery
  // or collection. Once the completion handler has been called, JavaScript calls this in a later
  // turn of the event loop, and again in each turn after, until it appends nothing; the handler
  // is not called again meanwhile (see Deliver).
  void Collect(std::vector<double>* out);
  // Stops the threads (the environment is being torn down). Threads stuck in the kernel (a
  // device that is gone) are left behind rather than waited for, unless the lane waits at
  // shutdown; they never call into JavaScript, nor touch a guarded job's memory, afterwards.
  void Shutdown();

 private:
  struct Shared;
  enum class Wake { kNone, kNotify, kSpawn };
  static void WorkerMain(std::shared_ptr<Shared> shared);
  static Wake WakeOneLocked(Shared* shared);
  static void Act(Wake wake, const std::shared_ptr<Shared>& shared);
  static void Deliver(Napi::Env env, Napi::Function fn, Shared* shared);
  static std::vector<Job> TakeDone(Napi::Env env, Shared* shared);
  static void Hold(Napi::Env env, Shared* shared, bool hold);
  static void AppendDone(const std::vector<Job>& batch, std::vector<double>* out);
  static void Recycle(Shared* shared, std::vector<Job>* batch);
  std::shared_ptr<Shared> shared_;
  Napi::Env env_;
};

}  // namespace kcrypto
