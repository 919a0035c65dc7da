// Jobs a dispatcher thread takes together for a session whose kernel interface has a queue of
// its own (EngineSession::queues): when every thread of the lane is busy, the jobs of that
// session waiting right behind the one a thread took go to the kernel's queue with it, in one
// RunBatch(), rather than wait for a thread each. The kernel works on them while the thread
// waits; the lane's other threads go on with their own jobs.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dispatcher.h"
#include "job_ring.h"
#include "owned_request.h"

namespace kcrypto {

// At most this many jobs in one batch (cryptodev-linux's queue takes 64 at a time by default).
inline constexpr size_t kMaxBatch = 64;

// A job that may go in a batch: a plain request, not a control, of a session not abandoned.
inline bool Batchable(const Job& j) {
  const Op op = j.request.op;
  return (op == Op::kEncrypt || op == Op::kDecrypt || op == Op::kDigest) && !(j.cancelled && j.cancelled->abandoned());
}

// Moves the jobs of `head`'s session waiting at the front of `queue` into `out` (up to
// kMaxBatch with `head`), in order. The caller holds the queue's lock.
inline void TakeBehind(JobRing<Job>* queue, const Job& head, std::vector<Job>* out) {
  while (!queue->empty() && out->size() + 1 < kMaxBatch && queue->front().session == head.session && Batchable(queue->front()))
    out->push_back(queue->pop_front());
}

// Runs `head` and `more` as one batch; each job gets its result and an equal share of the time.
inline void RunBatched(Job* head, std::vector<Job>* more, std::vector<Request>* reqs, std::vector<Status>* out, uint64_t nanos_start,
                       uint64_t (*now)()) {
  const size_t n = more->size() + 1;
  auto job = [head, more](size_t i) -> Job& { return i == 0 ? *head : (*more)[i - 1]; };
  // Guarded jobs (one session's: all or none) run on copies their thread owns, copied in and
  // out under the session's flag, as a single job's (see owned_request.h).
  const bool guarded = head->guard_output && head->cancelled;
  thread_local std::vector<OwnedRequest> owned;
  reqs->clear();
  reqs->resize(n);
  bool copied = true;
  if (guarded) {
    if (owned.size() < n) owned.resize(n);
    copied = head->cancelled->UnlessAbandoned([&] {
      for (size_t i = 0; i < n; ++i) owned[i].CopyIn(job(i).request, &(*reqs)[i]);
    });
  } else {
    for (size_t i = 0; i < n; ++i) (*reqs)[i] = job(i).request;
  }
  // Abandoned since they were taken: not touched again (as Dispatcher::WorkerMain's single jobs).
  if (!copied || (head->cancelled && head->cancelled->abandoned())) out->assign(n, Status::Fail(ESHUTDOWN, Syscall::kValidate));
  else head->session->RunBatch(*reqs, out);
  if (out->size() != n) out->assign(n, Status::Fail(EIO, Syscall::kValidate));
  if (guarded && copied) {
    const bool back = head->cancelled->UnlessAbandoned([&] {
      for (size_t i = 0; i < n; ++i)
        if ((*out)[i].ok()) owned[i].CopyOut(job(i).request, (*out)[i].bytes);
    });
    if (!back)
      for (Status& st : *out)
        if (st.ok()) st = Status::Fail(ESHUTDOWN, Syscall::kValidate);
  }
  const double share = static_cast<double>(now() - nanos_start) / static_cast<double>(n);
  auto finish = [share](Job& j, const Status& st) {
    j.result = st.encode();
    j.nanos = share;
    j.session.reset();
  };
  finish(*head, (*out)[0]);
  for (size_t i = 0; i < more->size(); ++i) finish((*more)[i], (*out)[i + 1]);
}

}  // namespace kcrypto
