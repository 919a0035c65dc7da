// Per-environment state of the addon (one per Node.js environment, worker threads included).
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "common/dispatcher.h"

namespace kcrypto {

// The numbers of a submit() call, at these indices of the argument array JavaScript hands the
// addon once (setSubmitArgs): a call with more than six arguments costs node-addon-api an
// allocation, and every argument an N-API call. submitBatch() reads job i's at i * kSubmitArgs.
// Shared with src/kernel/bridge/addon.ts.
enum SubmitArg : uint32_t {
  kSubmitId = 0,
  kSubmitLane = 1,
  kSubmitOp = 2,
  kSubmitAssocLen = 3,
  kSubmitStream = 4,
  kSubmitDeadlineMs = 5,
  kSubmitDisposable = 6,
  kSubmitShape = 7,        // SubmitShape bits: which of the job's arguments need no look
  kSubmitInputLength = 8,  // the input's length in bytes as JavaScript queued the job
  kSubmitArgs = 9,
};

// What JavaScript already knows of a job's arguments, so that the addon does not ask N-API (a
// call each, and a failed typed-array query costs more than a successful one).
enum SubmitShape : uint32_t {
  kShapeSameSession = 1,  // submitBatch: the session is the previous job's (its argument is null)
  kShapeNoOutput = 2,
  kShapeNoIv = 4,
};

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  // Lanes: CPU-bound requests (one thread per core, below the JavaScript thread's priority) and
  // device requests (which sleep in the kernel for the device's latency, so many may be in
  // flight at once).
  enum Lane : uint32_t { kCpuLane = 0, kDeviceLane = 1, kLanes = 2 };
  Dispatcher* dispatcher(uint32_t lane) const { return lane < kLanes ? dispatchers_[lane].get() : nullptr; }
  Napi::FunctionReference session_ctor;
  // The argument array of submit(); null until JavaScript has set it.
  const double* submit_args() const { return submit_args_; }

 private:
  Napi::Value SetCompletionHandler(const Napi::CallbackInfo& info);
  Napi::Value SetMaxThreads(const Napi::CallbackInfo& info);
  Napi::Value SetBatching(const Napi::CallbackInfo& info);
  Napi::Value DispatcherStats(const Napi::CallbackInfo& info);
  Napi::Value Overdue(const Napi::CallbackInfo& info);
  Napi::Value CollectCompletions(const Napi::CallbackInfo& info);
  Napi::Value ProbeAfAlg(const Napi::CallbackInfo& info);
  Napi::Value ProbeBind(const Napi::CallbackInfo& info);
  Napi::Value ProbeBindSnapshot(const Napi::CallbackInfo& info);
  Napi::Value ErrnoTable(const Napi::CallbackInfo& info);
  Napi::Value SetForbidden(const Napi::CallbackInfo& info);
  Napi::Value KernelGate(const Napi::CallbackInfo& info);
  Napi::Value GetRandom(const Napi::CallbackInfo& info);
  Napi::Value SetSubmitArgs(const Napi::CallbackInfo& info);
  Napi::Value SubmitBatch(const Napi::CallbackInfo& info);

  std::unique_ptr<Dispatcher> dispatchers_[kLanes];
  Napi::Reference<Napi::Float64Array> submit_args_ref_;
  double* submit_args_ = nullptr;
  size_t submit_args_len_ = 0;
  // submitBatch()'s jobs per lane, kept so their storage is reused from batch to batch.
  std::vector<Job> batch_[kLanes];
};

// Builds the Error that JavaScript turns into a KCryptoError: errno and syscall attached.
Napi::Error MakeSystemError(Napi::Env env, int err, const char* syscall, const char* what);
const char* SyscallName(Syscall s);

}  // namespace kcrypto
