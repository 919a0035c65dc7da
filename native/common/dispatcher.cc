#include "dispatcher.h"

#include "job_batch.h"
#include "owned_request.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace kcrypto {

namespace {

// A pause between polls of a spin: lets the other hyperthread of the core run, and saves power.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

uint64_t MonotonicNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// A job a thread has taken and not finished: on that thread's stack, listed in
// Shared::running_jobs while it runs.
struct Running {
  double id;
  uint64_t start;
  uint64_t deadline_ns;
  bool overdue;
  AbandonFlag* cancelled;  // the job's session's give-up flag (the job owns it, and outlives this)
  // The thread's own job, not one it runs batched behind it (see job_batch.h): an overdue one
  // makes its thread stuck.
  bool holds_thread = true;
};

// Runs a job; a guarded one (Job::guard_output) on copies that belong to this thread: its input
// and IV are copied in, and the kernel writes the output into the thread's buffer, copied out
// only if the session was not abandoned meanwhile. The copies are made under the session's
// flag (see abandon.h): once Shutdown() has set it for a job still in the kernel when its
// environment goes, that job touches no JavaScript memory again -- which the environment
// frees as soon as Shutdown() returns. If the kernel never lets the thread go, the buffers
// stay with it, and nothing else is ever read or written by that request.
Status RunJob(Job& job) {
  Request& req = job.request;
  if (req.op == Op::kOpen) return job.session->Open();
  if (req.op == Op::kClose) {
    // JavaScript sends it once the session's requests have completed (EngineSession::Close).
    job.session->Close();
    return Status::Ok();
  }
  if (!job.guard_output || !job.cancelled) return job.session->Run(req);
  thread_local OwnedRequest owned;
  Request own;
  if (!job.cancelled->UnlessAbandoned([&] { owned.CopyIn(req, &own); })) return Status::Fail(ESHUTDOWN, Syscall::kValidate);
  Status st = job.session->Run(own);
  if (!st.ok() || req.output == nullptr) return st;
  if (!job.cancelled->UnlessAbandoned([&] { owned.CopyOut(req, st.bytes); })) return Status::Fail(ESHUTDOWN, Syscall::kValidate);
  return st;
}

}  // namespace

struct Dispatcher::Shared {
  mutable std::mutex mu;
  std::condition_variable work_cv;
  std::condition_variable exit_cv;
  JobRing<Job> queue;
  // queue.size(), for a spinning thread to read without the lock.
  std::atomic<size_t> queued{0};
  std::atomic<bool> stop_spinning{false};
  size_t spinning = 0;  // threads spinning for the next job (at most one)
  uint64_t spin_ns = 0;
  size_t threads = 0;
  size_t idle = 0;
  size_t signaled = 0;  // wake-ups sent to idle threads and not yet consumed
  size_t running = 0;
  size_t max_threads = 16;
  size_t stuck = 0;  // threads inside a job reported overdue
  // The jobs threads are running. Pointers to the threads' own records: taking and finishing a
  // job allocates nothing once the vector has its size.
  std::vector<Running*> running_jobs;
  int nice = 0;
  bool stopping = false;
  std::atomic<uint64_t> wakeups{0};
  std::atomic<uint64_t> deliveries{0};
  bool batching = true;           // see SetBatching
  bool wait_at_shutdown = false;  // see SetWaitAtShutdown
  uint64_t batches = 0;           // jobs taken together for a kernel queue (see job_batch.h), and their jobs
  uint64_t batched = 0;

  std::mutex done_mu;
  std::vector<Job> done;
  // The storage of the batch taken last, handed back to `done`: a batch that starts with room
  // for the next one saves the workers a reallocation per doubling.
  std::vector<Job> spare;
  // A delivery is under way: the completion handler was called (or a call is queued) and
  // JavaScript has not yet collected an empty batch since. Threads wake JavaScript only when it
  // is false.
  bool delivery_pending = false;
  bool js_closed = false;
  Napi::ThreadSafeFunction tsfn;
  size_t in_flight = 0;  // JavaScript thread only: drives Ref/Unref of the loop

  // Threads the lane may have: its cap, plus one replacement per stuck thread (at most
  // max_threads of them, so a run of gone devices cannot make the process spawn without end).
  size_t Cap() const { return max_threads + std::min(stuck, max_threads); }
};

Dispatcher::Dispatcher(Napi::Env env, Napi::Function on_complete) : shared_(std::make_shared<Shared>()), env_(env) {
  // Node finalizes thread-safe functions itself when the environment is torn down, possibly
  // before this dispatcher's Shutdown(); from then on nothing may call or release it.
  std::shared_ptr<Shared> shared = shared_;
  shared_->tsfn = Napi::ThreadSafeFunction::New(env, on_complete, "kcrypto.completions", 0, 1, [shared](Napi::Env) {
    std::lock_guard<std::mutex> lock(shared->done_mu);
    shared->js_closed = true;
  });
  // Idle: an addon with nothing in flight must not keep the process alive.
  shared_->tsfn.Unref(env);
}

Dispatcher::~Dispatcher() { Shutdown(); }

void Dispatcher::SetNice(int nice) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->nice = nice;
}

void Dispatcher::SetSpin(uint64_t ns) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->spin_ns = ns;
}

void Dispatcher::SetMaxThreads(size_t n) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->max_threads = n == 0 ? 1 : n;
}

void Dispatcher::SetWaitAtShutdown(bool wait) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->wait_at_shutdown = wait;
}

void Dispatcher::SetBatching(bool on) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->batching = on;
}

Dispatcher::Stats Dispatcher::stats() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  Stats s;
  s.threads = shared_->threads;
  s.idle = shared_->idle;
  s.queued = shared_->queue.size();
  s.running = shared_->running;
  s.max_threads = shared_->max_threads;
  s.wakeups = shared_->wakeups;
  s.deliveries = shared_->deliveries;
  s.stuck = shared_->stuck;
  s.batches = shared_->batches;
  s.batched = shared_->batched;
  return s;
}

// Makes the function keep the event loop alive (`hold`) or not. Once Node has finalized it
// (environment teardown: a worker ending, the process exiting), nothing may touch it; and a
// failed call must not throw, as it may come from a finalizer during that teardown.
void Dispatcher::Hold(Napi::Env env, Shared* shared, bool hold) {
  std::lock_guard<std::mutex> lock(shared->done_mu);
  if (shared->js_closed) return;
  napi_threadsafe_function f = shared->tsfn;
  if (hold) napi_ref_threadsafe_function(env, f);
  else napi_unref_threadsafe_function(env, f);
}

void Dispatcher::Submit(Job job) {
  if (shared_->in_flight++ == 0) Hold(env_, shared_.get(), true);
  if (job.deadline_ns != 0) job.queued_at = MonotonicNanos();
  Wake wake;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->queue.push_back(std::move(job));
    shared_->queued.store(shared_->queue.size(), std::memory_order_release);
    wake = WakeOneLocked(shared_.get());
  }
  Act(wake, shared_);
}

void Dispatcher::SubmitMany(std::vector<Job>* jobs) {
  if (jobs->empty()) return;
  if (shared_->in_flight == 0) Hold(env_, shared_.get(), true);
  shared_->in_flight += jobs->size();
  const uint64_t now = MonotonicNanos();
  Wake wake;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    for (Job& job : *jobs) {
      if (job.deadline_ns != 0) job.queued_at = now;
      shared_->queue.push_back(std::move(job));
    }
    shared_->queued.store(shared_->queue.size(), std::memory_order_release);
    wake = WakeOneLocked(shared_.get());
  }
  jobs->clear();
  Act(wake, shared_);
}

// At most one wake-up is outstanding at a time: a burst of submissions costs the JavaScript
// thread one futex wake, not one per request. The worker that takes a job wakes the next one if
// work remains (see WorkerMain), so a burst still fans out to as many threads as it needs --
// which matters for devices, where each request holds a thread for its whole latency.
// Says what the caller does once it has released the lock: notify an idle thread, start a new
// one (none idle, below the cap), or nothing.
Dispatcher::Wake Dispatcher::WakeOneLocked(Shared* shared) {
  // A spinning thread takes the job without a wake-up.
  if (shared->signaled > 0 || shared->spinning > 0) return Wake::kNone;
  if (shared->idle > 0) {
    ++shared->signaled;
    ++shared->wakeups;
    return Wake::kNotify;
  }
  // Stuck threads will not come back for the queue: only the others count as about to.
  if (shared->threads < shared->Cap() && shared->queue.size() > shared->running - shared->stuck) {
    ++shared->threads;
    return Wake::kSpawn;
  }
  return Wake::kNone;
}

// Outside the lock: a thread notified while the notifier still holds the mutex wakes only to
// block on it, and needs a second wake-up when it is released -- a futex round trip, and on a
// virtual machine an inter-processor interrupt, added to every request's hop.
void Dispatcher::Act(Wake wake, const std::shared_ptr<Shared>& shared) {
  if (wake == Wake::kNotify) shared->work_cv.notify_one();
  else if (wake == Wake::kSpawn) std::thread(WorkerMain, shared).detach();
}

void Dispatcher::WorkerMain(std::shared_ptr<Shared> shared) {
  // A batch's jobs, their records and requests: kept across jobs, so that batching allocates
  // only while they grow.
  std::vector<Job> more;
  std::vector<Running> behind;
  std::vector<Request> requests;
  std::vector<Status> statuses;
  std::unique_lock<std::mutex> lock(shared->mu);
#if defined(__linux__)
  // Raising one's own niceness needs no privilege; failure only costs event-loop latency.
  if (shared->nice != 0) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), shared->nice);
#endif
  for (;;) {
    if (!shared->stopping && shared->queue.empty() && shared->spinning == 0 && shared->spin_ns > 0) {
      // A serial caller submits its next request a few microseconds after its last completed:
      // one thread waits for it awake for a moment rather than asleep, saving the next request
      // the wake-up (a futex call and, on a virtual machine, an interrupt between processors).
      ++shared->spinning;
      const uint64_t until = MonotonicNanos() + shared->spin_ns;
      lock.unlock();
      for (unsigned i = 1; shared->queued.load(std::memory_order_acquire) == 0 && !shared->stop_spinning.load(std::memory_order_relaxed);
           ++i) {
        CpuRelax();
        if (i % 64 == 0 && MonotonicNanos() > until) break;
      }
      lock.lock();
      --shared->spinning;
    }
    while (!shared->stopping && shared->queue.empty()) {
      ++shared->idle;
      shared->work_cv.wait(lock);
      --shared->idle;
      if (shared->signaled > 0) --shared->signaled;
    }
    if (shared->stopping) break;
    Job job = shared->queue.pop_front();
    // Every thread busy: the jobs of a queueing session waiting behind this one go with it.
    more.clear();
    if (shared->batching && shared->idle == 0 && shared->threads >= shared->Cap() && Batchable(job) && job.session->queues())
      TakeBehind(&shared->queue, job, &more);
    shared->queued.store(shared->queue.size(), std::memory_order_release);
    ++shared->running;
    const uint64_t start = MonotonicNanos();
    Running running{job.id, start, job.deadline_ns, false, job.cancelled.get()};
    shared->running_jobs.push_back(&running);
    behind.clear();
    behind.reserve(more.size());  // the list below points into it
    for (const Job& j : more) {
      behind.push_back(Running{j.id, start, j.deadline_ns, false, j.cancelled.get(), false});
      shared->running_jobs.push_back(&behind.back());
    }
    if (!more.empty()) {
      ++shared->batches;
      shared->batched += more.size() + 1;
    }
    const Wake wake = shared->queue.empty() ? Wake::kNone : WakeOneLocked(shared.get());
    lock.unlock();
    Act(wake, shared);

    if (more.empty()) {
      // An abandoned session (its device is gone or stopped answering) is not touched again:
      // on a removed virtio-crypto card even a new request can block forever or fault in the
      // kernel.
      Status st = job.cancelled && job.cancelled->abandoned() ? Status::Fail(ESHUTDOWN, Syscall::kValidate) : RunJob(job);
      job.nanos = static_cast<double>(MonotonicNanos() - start);
      job.result = st.encode();
      job.session.reset();
    } else {
      RunBatched(&job, &more, &requests, &statuses, start, MonotonicNanos);
    }

    lock.lock();
    if (running.overdue) {
      job.abandoned = true;
      --shared->stuck;
    }
    auto& list = shared->running_jobs;
    *std::find(list.begin(), list.end(), &running) = list.back();
    list.pop_back();
    for (size_t i = 0; i < behind.size(); ++i) {
      if (behind[i].overdue) more[i].abandoned = true;
      *std::find(list.begin(), list.end(), &behind[i]) = list.back();
      list.pop_back();
    }
    lock.unlock();

    bool notify = false;
    {
      std::lock_guard<std::mutex> done_lock(shared->done_mu);
      shared->done.push_back(std::move(job));
      for (Job& j : more) shared->done.push_back(std::move(j));
      if (!shared->delivery_pending && !shared->js_closed) {
        shared->delivery_pending = true;
        notify = true;
      }
      // Queue the wake-up while holding done_mu so Shutdown cannot release the function
      // between the check of js_closed and the call.
      if (notify) {
        shared->tsfn.NonBlockingCall([shared](Napi::Env env, Napi::Function fn) { Deliver(env, fn, shared.get()); });
      }
    }
    lock.lock();
    --shared->running;
    // A stuck thread came back while its replacement runs: one of them retires.
    if (shared->threads > shared->Cap()) break;
  }
  --shared->threads;
  shared->exit_cv.notify_all();
}

// Takes the completed jobs; an empty take ends the delivery (the next completion wakes
// JavaScript again). Uncounts them from the jobs keeping the event loop alive.
std::vector<Job> Dispatcher::TakeDone(Napi::Env env, Shared* shared) {
  std::vector<Job> batch;
  bool closed = false;
  {
    std::lock_guard<std::mutex> lock(shared->done_mu);
    batch.swap(shared->done);
    shared->done.swap(shared->spare);
    if (batch.empty()) shared->delivery_pending = false;
    closed = shared->js_closed;
  }
  if (batch.empty()) return batch;
  ++shared->deliveries;
  size_t counted = 0;  // abandoned jobs were uncounted when reported overdue
  for (const Job& j : batch)
    if (!j.abandoned) ++counted;
  shared->in_flight -= counted;
  if (shared->in_flight == 0 && !closed) Hold(env, shared, false);
  return batch;
}

void Dispatcher::AppendDone(const std::vector<Job>& batch, std::vector<double>* out) {
  out->reserve(out->size() + batch.size() * 3);
  for (const Job& j : batch) {
    out->push_back(j.id);
    out->push_back(j.result);
    out->push_back(j.nanos);
  }
}

// The delivery stays pending after the call: JavaScript collects what completes meanwhile with
// Collect() in a later turn of the event loop, until a collection comes back empty. Were it
// cleared here, a thread completing while JavaScript runs would queue another call, and Node runs
// calls queued during a call in the same turn (up to 1000 of them): with a device lane that
// completes faster than JavaScript handles its completions, that chain held the event loop for
// the whole run (lab, 6.12, 1000 x 16 KiB on virtio_crypto_aes_cbc: one 998 ms timer gap).
//
// A worker terminated with requests in flight: Node then calls with no environment and no
// function while it tears the function down, and a call into an environment being torn down
// fails. There is no JavaScript left to hand those completions to, and a C++ exception out of
// Node's callback would end the whole process, so both end the delivery here.
void Dispatcher::Deliver(Napi::Env env, Napi::Function fn, Shared* shared) {
  if (static_cast<napi_env>(env) == nullptr || fn.IsEmpty()) return;
  try {
    std::vector<Job> batch = TakeDone(env, shared);
    if (batch.empty()) return;
    Napi::HandleScope scope(env);
    Napi::Float64Array out = Napi::Float64Array::New(env, batch.size() * 3);
    for (size_t i = 0; i < batch.size(); ++i) {
      out[i * 3] = batch[i].id;
      out[i * 3 + 1] = batch[i].result;
      out[i * 3 + 2] = batch[i].nanos;
    }
    Recycle(shared, &batch);
    // napi_call_function rather than fn.Call(): an exception the handler threw stays pending,
    // and Node reports it as uncaught, as for any callback; fn.Call() would take it and throw.
    napi_value undefined = nullptr;
    napi_value result = nullptr;
    napi_value argv[1] = {out};
    if (napi_get_undefined(env, &undefined) != napi_ok) return;
    napi_call_function(env, undefined, fn, 1, argv, &result);
  } catch (const Napi::Error&) {
    // The environment is being torn down (see above).
  }
}

void Dispatcher::Collect(std::vector<double>* out) {
  std::vector<Job> batch = TakeDone(env_, shared_.get());
  AppendDone(batch, out);
  Recycle(shared_.get(), &batch);
}

// Hands a taken batch's storage back for the next one (see Shared::spare).
void Dispatcher::Recycle(Shared* shared, std::vector<Job>* batch) {
  batch->clear();
  std::lock_guard<std::mutex> lock(shared->done_mu);
  if (shared->spare.capacity() < batch->capacity()) shared->spare.swap(*batch);
}

std::vector<OverdueJob> Dispatcher::Overdue() {
  std::vector<OverdueJob> out;
  Wake wake = Wake::kNone;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->stopping) return out;
    // Read under the lock: a thread that took a job after an earlier reading would have a start
    // later than `now`, and the unsigned difference would make a job just begun look overdue.
    const uint64_t now = MonotonicNanos();
    for (Running* r : shared_->running_jobs) {
      if (r->overdue || r->deadline_ns == 0 || now < r->start || now - r->start <= r->deadline_ns) continue;
      r->overdue = true;
      if (r->holds_thread) ++shared_->stuck;
      if (r->cancelled) r->cancelled->Set();
      out.push_back(OverdueJob{r->id, OverdueJob::kStuck});
    }
    // With every thread stuck and no replacement allowed, nothing will ever take the queue.
    if (shared_->threads == shared_->stuck && shared_->threads >= shared_->Cap()) {
      std::vector<Job> dropped;
      shared_->queue.TakeIf([now](const Job& j) { return j.deadline_ns != 0 && now > j.queued_at && now - j.queued_at > j.deadline_ns; },
                            &dropped);
      shared_->queued.store(shared_->queue.size(), std::memory_order_release);
      for (const Job& j : dropped) out.push_back(OverdueJob{j.id, OverdueJob::kStuckInQueue});
    }
    if (!shared_->queue.empty()) wake = WakeOneLocked(shared_.get());
  }
  Act(wake, shared_);
  if (!out.empty()) {
    shared_->in_flight -= out.size();
    if (shared_->in_flight == 0) Hold(env_, shared_.get(), false);
  }
  return out;
}

void Dispatcher::Shutdown() {
  if (!shared_) return;
  std::unique_lock<std::mutex> lock(shared_->mu);
  if (shared_->stopping) return;
  shared_->stopping = true;
  shared_->stop_spinning.store(true, std::memory_order_relaxed);
  shared_->work_cv.notify_all();
  // The environment frees the JavaScript memory of the requests once this returns. A lane that
  // waits at shutdown (CPU work, which always ends) waits for its jobs however long they run.
  // Elsewhere a thread blocked in a request gets a short grace period, as one stuck in the
  // kernel (a device removed under it) may never return and is left detached; a job still
  // running then is abandoned, so that a late return copies nothing into or out of the
  // memory about to be freed (see RunJob).
  if (shared_->wait_at_shutdown) {
    shared_->exit_cv.wait(lock, [this] { return shared_->running == 0; });
  } else if (!shared_->exit_cv.wait_for(lock, std::chrono::seconds(2), [this] { return shared_->running == 0; })) {
    for (Running* r : shared_->running_jobs)
      if (r->cancelled) r->cancelled->Set();
  }
  lock.unlock();
  std::lock_guard<std::mutex> done_lock(shared_->done_mu);
  if (!shared_->js_closed) {
    shared_->js_closed = true;
    shared_->tsfn.Abort();
  }
}

}  // namespace kcrypto
