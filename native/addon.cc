#include "addon.h"

#include <dlfcn.h>
#include <sys/socket.h>
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define KC_HAVE_GETRANDOM 1
#endif

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/kernel_gate.h"
#include "common/key_bytes.h"
#include "common/loopback_engine.h"
#include "openssl/openssl_open.h"
#include "session_wrap.h"

#if defined(__linux__)
#include "afalg/afalg_open.h"
#endif
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__)
#include "devcrypto/devcrypto_open.h"
#endif

namespace kcrypto {

const char* SyscallName(Syscall s) {
  switch (s) {
    case Syscall::kNone: return "";
    case Syscall::kSocket: return "socket";
    case Syscall::kBind: return "bind";
    case Syscall::kSetsockopt: return "setsockopt";
    case Syscall::kAccept: return "accept";
    case Syscall::kSendmsg: return "sendmsg";
    case Syscall::kRecvmsg: return "recvmsg";
    case Syscall::kOpen: return "open";
    case Syscall::kIoctl: return "ioctl";
    case Syscall::kPoll: return "poll";
    case Syscall::kValidate: return "validate";
    case Syscall::kGetsockopt: return "getsockopt";
    case Syscall::kClose: return "close";
    case Syscall::kRead: return "read";
    case Syscall::kWrite: return "write";
    case Syscall::kPipe: return "pipe";
    case Syscall::kVmsplice: return "vmsplice";
    case Syscall::kSplice: return "splice";
  }
  return "";
}

Napi::Error MakeSystemError(Napi::Env env, int err, const char* syscall, const char* what) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

namespace {

// Test double of the engine interface (see common/loopback_engine.h).
// openLoopback(delayUs, failErrno[, hang[, queues]])
Napi::Value OpenLoopbackFn(const Napi::CallbackInfo& info) {
  const bool hang = info.Length() > 2 && info[2].ToBoolean().Value();
  const bool queues = info.Length() > 3 && info[3].ToBoolean().Value();
  auto engine =
      std::make_shared<LoopbackEngine>(info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Int32Value(), hang, queues);
  return SessionWrap::Wrap(info.Env(), static_cast<Addon*>(info.Data()), std::move(engine));
}

// releaseLoopbacks(): lets every hanging loopback request and close() that has started return.
Napi::Value ReleaseLoopbacksFn(const Napi::CallbackInfo& info) {
  LoopbackEngine::ReleaseHangs();
  return info.Env().Undefined();
}

// The addon's threads are detached (one stuck in the kernel under a removed device may never
// return) and outlive the environment that started them. Node unloads an addon that a worker
// loaded when that worker ends: the code would go from under threads still finishing (a
// SIGSEGV when workers that used kcrypto exit). Marked RTLD_NODELETE, the library stays mapped
// for the life of the process.
void KeepLoaded() {
  static std::once_flag once;
  std::call_once(once, [] {
    static const char anchor = 0;
    Dl_info info;
    if (dladdr(&anchor, &info) != 0 && info.dli_fname != nullptr) dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
  });
}

}  // namespace

namespace {

// keyCopyStats() -> { made, released, unwiped }: the key copies the addon made and let go of
// (common/key_bytes.h), for the tests that check every one was wiped.
Napi::Value KeyCopyStatsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const KeyCopyStats s = KeyCopies();
  Napi::Object o = Napi::Object::New(env);
  o.Set("made", Napi::Number::New(env, static_cast<double>(s.made)));
  o.Set("released", Napi::Number::New(env, static_cast<double>(s.released)));
  o.Set("unwiped", Napi::Number::New(env, static_cast<double>(s.unwiped)));
  return o;
}

}  // namespace

Addon::Addon(Napi::Env env, Napi::Object exports) {
  KeepLoaded();
  gate::forbidden.fetch_or(gate::ParseForbid(std::getenv("KCRYPTO_FORBID")), std::memory_order_acq_rel);
  session_ctor = Napi::Persistent(SessionWrap::Define(env));
  DefineAddon(exports, {
                           InstanceMethod<&Addon::SetCompletionHandler>("setCompletionHandler"),
                           InstanceMethod<&Addon::SetMaxThreads>("setMaxThreads"),
                           InstanceMethod<&Addon::SetBatching>("setBatching"),
                           InstanceMethod<&Addon::DispatcherStats>("dispatcherStats"),
                           InstanceMethod<&Addon::Overdue>("overdue"),
                           InstanceMethod<&Addon::CollectCompletions>("collectCompletions"),
                           InstanceMethod<&Addon::ProbeAfAlg>("probeAfAlg"),
                           InstanceMethod<&Addon::ProbeBind>("probeBind"),
                           InstanceMethod<&Addon::ProbeBindSnapshot>("probeBindSnapshot"),
                           InstanceMethod<&Addon::ErrnoTable>("errnoTable"),
                           InstanceMethod<&Addon::SetForbidden>("setForbidden"),
                           InstanceMethod<&Addon::KernelGate>("kernelGate"),
                           InstanceMethod<&Addon::GetRandom>("getRandom"),
                           InstanceMethod<&Addon::SetSubmitArgs>("setSubmitArgs"),
                           InstanceMethod<&Addon::SubmitBatch>("submitBatch"),
                       });
  // The loopback engine is a test double: the release build's surface has it only for a
  // process that asks before it loads the addon (the unit tests; bench may set it too).
  const char* hooks = std::getenv("KCRYPTO_TEST_HOOKS");
  if (hooks != nullptr && std::strcmp(hooks, "1") == 0) {
    exports.Set("openLoopback", Napi::Function::New(env, OpenLoopbackFn, "openLoopback", this));
    exports.Set("releaseLoopbacks", Napi::Function::New(env, ReleaseLoopbacksFn, "releaseLoopbacks", this));
    exports.Set("keyCopyStats", Napi::Function::New(env, KeyCopyStatsFn, "keyCopyStats", this));
  }
  exports.Set("openOpenSsl", Napi::Function::New(env, openssl::OpenOpenSsl, "openOpenSsl", this));
#if defined(__linux__)
  exports.Set("openAfAlg", Napi::Function::New(env, afalg::OpenAfAlg, "openAfAlg", this));
#endif
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__)
  devcrypto::Register(env, exports, this);
#endif
}

Addon::~Addon() {
  for (auto& d : dispatchers_)
    if (d) d->Shutdown();
}

namespace {

// How long a CPU-lane thread stays awake for the next job: KCRYPTO_SPIN_US, else 50 us (about a
// round trip's worth; measured on a 2-core KVM guest, it takes the next request of a serial
// caller without a wake-up). A lone core has nothing to spin for.
uint64_t SpinNs() {
  if (std::thread::hardware_concurrency() < 2) return 0;
  const char* env = std::getenv("KCRYPTO_SPIN_US");
  if (env != nullptr && *env != '\0') return std::strtoull(env, nullptr, 10) * 1000;
  return 50000;
}

}  // namespace

Napi::Value Addon::SetCompletionHandler(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) {
    Napi::TypeError::New(info.Env(), "kcrypto: completion handler must be a function").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  if (dispatchers_[kCpuLane]) {
    Napi::Error::New(info.Env(), "kcrypto: completion handler already installed").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  for (auto& d : dispatchers_) d = std::make_unique<Dispatcher>(info.Env(), info[0].As<Napi::Function>());
  // CPU work may use every core, at lower priority than the JavaScript thread (which then still
  // gets a core whenever it has work); device requests mostly sleep in the kernel.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  dispatchers_[kCpuLane]->SetMaxThreads(cores);
  dispatchers_[kCpuLane]->SetNice(10);
  dispatchers_[kCpuLane]->SetSpin(SpinNs());
  // CPU work runs on JavaScript's memory and always ends: an environment being torn down waits
  // for it, rather than free memory a thread still works on (device jobs run on copies).
  dispatchers_[kCpuLane]->SetWaitAtShutdown(true);
  dispatchers_[kDeviceLane]->SetMaxThreads(16);
  return info.Env().Undefined();
}

// setSubmitArgs(Float64Array of kSubmitArgs): the array submit() reads its numbers from, kept
// alive (and its memory in place) by the reference held here.
Napi::Value Addon::SetSubmitArgs(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[0].As<Napi::Float64Array>().ElementLength() < kSubmitArgs) {
    Napi::TypeError::New(info.Env(), "kcrypto: setSubmitArgs needs a Float64Array of at least 8").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Float64Array a = info[0].As<Napi::Float64Array>();
  submit_args_ref_ = Napi::Persistent(a);
  submit_args_ = a.Data();
  submit_args_len_ = a.ElementLength();
  return info.Env().Undefined();
}

// submitBatch(count, session, input, output, iv, session, input, output, iv, ...): queues
// `count` jobs with one call, one lock per lane and at most one wake-up per lane. The session is
// null where it is the previous job's. Job i's numbers are at i * kSubmitArgs of the argument
// array. Arguments rather than an array: one napi_get_cb_info reads them all, where an array
// costs a property lookup per element. Returns undefined, or for jobs that were not queued a
// flat array of [index, JobError, message] (the caller fails those requests; the rest run).
Napi::Value Addon::SubmitBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t count = 0;
  if (submit_args_ == nullptr || !dispatchers_[kCpuLane] || info.Length() < 1 || napi_get_value_uint32(env, info[0], &count) != napi_ok ||
      count > submit_args_len_ / kSubmitArgs || info.Length() != 1 + static_cast<size_t>(count) * 4) {
    Napi::TypeError::New(env, "kcrypto: submitBatch(count, ...jobs) needs the argument array, a completion handler and count jobs")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  for (auto& lane : batch_) lane.reserve(count);
  Napi::Array failed;
  uint32_t failures = 0;
  SessionWrap* w = nullptr;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = 1 + static_cast<size_t>(i) * 4;
    Job job;
    uint32_t lane = 0;
    const char* message = "kcrypto: submitBatch: not an engine session";
    const uint32_t shape = static_cast<uint32_t>(submit_args_[i * kSubmitArgs + kSubmitShape]);
    if ((shape & kShapeSameSession) == 0 || w == nullptr) w = SessionWrap::FromValue(env, info[at]);
    const SessionWrap::JobError e =
        w == nullptr ? SessionWrap::JobError::kArguments
                     : w->PrepareJob(env, submit_args_ + i * kSubmitArgs, info[at + 1], info[at + 2], info[at + 3], &job, &lane, &message);
    if (e == SessionWrap::JobError::kOk) {
      batch_[lane].push_back(std::move(job));
      continue;
    }
    if (failures == 0) failed = Napi::Array::New(env);
    failed.Set(failures++, Napi::Number::New(env, i));
    failed.Set(failures++, Napi::Number::New(env, static_cast<uint32_t>(e)));
    failed.Set(failures++, Napi::String::New(env, message));
  }
  for (uint32_t lane = 0; lane < kLanes; ++lane) dispatchers_[lane]->SubmitMany(&batch_[lane]);
  return failures == 0 ? env.Undefined() : static_cast<Napi::Value>(failed);
}

// setMaxThreads(lane, n)
Napi::Value Addon::SetMaxThreads(const Napi::CallbackInfo& info) {
  if (Dispatcher* d = dispatcher(info[0].As<Napi::Number>().Uint32Value())) d->SetMaxThreads(info[1].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

// setBatching(lane, on): whether a busy lane batches jobs for kernel queues (see common/job_batch.h)
Napi::Value Addon::SetBatching(const Napi::CallbackInfo& info) {
  if (Dispatcher* d = dispatcher(info[0].As<Napi::Number>().Uint32Value())) d->SetBatching(info[1].ToBoolean().Value());
  return info.Env().Undefined();
}

namespace {

Napi::Object StatsObject(Napi::Env env, const Dispatcher::Stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", static_cast<double>(s.threads));
  o.Set("idle", static_cast<double>(s.idle));
  o.Set("queued", static_cast<double>(s.queued));
  o.Set("running", static_cast<double>(s.running));
  o.Set("maxThreads", static_cast<double>(s.max_threads));
  o.Set("wakeups", static_cast<double>(s.wakeups));
  o.Set("deliveries", static_cast<double>(s.deliveries));
  o.Set("stuck", static_cast<double>(s.stuck));
  o.Set("batches", static_cast<double>(s.batches));
  o.Set("batched", static_cast<double>(s.batched));
  return o;
}

}  // namespace

// Totals over both lanes, and each lane under `cpu` and `device`.
Napi::Value Addon::DispatcherStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Dispatcher::Stats lanes[kLanes];
  Dispatcher::Stats total;
  for (uint32_t i = 0; i < kLanes; ++i) {
    if (dispatchers_[i]) lanes[i] = dispatchers_[i]->stats();
    total.threads += lanes[i].threads;
    total.idle += lanes[i].idle;
    total.queued += lanes[i].queued;
    total.running += lanes[i].running;
    total.max_threads += lanes[i].max_threads;
    total.wakeups += lanes[i].wakeups;
    total.deliveries += lanes[i].deliveries;
    total.stuck += lanes[i].stuck;
    total.batches += lanes[i].batches;
    total.batched += lanes[i].batched;
  }
  Napi::Object o = StatsObject(env, total);
  o.Set("cpu", StatsObject(env, lanes[kCpuLane]));
  o.Set("device", StatsObject(env, lanes[kDeviceLane]));
  return o;
}

// collectCompletions(): what both lanes completed since their last delivery or collection, as a
// flat Float64Array of (id, result, nanos) triples, like a delivery (see Dispatcher::Collect).
Napi::Value Addon::CollectCompletions(const Napi::CallbackInfo& info) {
  std::vector<double> all;
  for (auto& d : dispatchers_)
    if (d) d->Collect(&all);
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), all.size());
  if (!all.empty()) std::memcpy(out.Data(), all.data(), all.size() * sizeof(double));
  return out;
}

// overdue(): the jobs of both lanes that became overdue since the last call, as a flat
// Float64Array of (id, kind) pairs (kind: 1 stuck running past its deadline, 2 stuck in the queue;
// see OverdueJob).
Napi::Value Addon::Overdue(const Napi::CallbackInfo& info) {
  std::vector<OverdueJob> all;
  for (auto& d : dispatchers_) {
    if (!d) continue;
    std::vector<OverdueJob> some = d->Overdue();
    all.insert(all.end(), some.begin(), some.end());
  }
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), all.size() * 2);
  for (size_t i = 0; i < all.size(); ++i) {
    out[i * 2] = all[i].id;
    out[i * 2 + 1] = static_cast<double>(all[i].kind);
  }
  return out;
}

// socket(AF_ALG): 0 when the kernel offers AF_ALG, else the errno (EAFNOSUPPORT, EPERM...).
Napi::Value Addon::ProbeAfAlg(const Napi::CallbackInfo& info) {
#if defined(__linux__)
  return Napi::Number::New(info.Env(), afalg::ProbeSocket());
#else
  return Napi::Number::New(info.Env(), EAFNOSUPPORT);
#endif
}

// bind(type, name) on a fresh AF_ALG socket: 0 or the errno. Used to learn which socket types
// and which drivers this kernel lets user space reach.
Napi::Value Addon::ProbeBind(const Napi::CallbackInfo& info) {
#if defined(__linux__)
  return Napi::Number::New(info.Env(), afalg::ProbeBind(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value()));
#else
  return Napi::Number::New(info.Env(), EAFNOSUPPORT);
#endif
}

// bind(type, name) and, while bound, the text of a file (/proc/crypto): { errno, text }. The
// kernel's reference count on the implementation a generic name reached is one higher in that
// text, which names the driver a session on that generic name runs on.
Napi::Value Addon::ProbeBindSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString()) {
    Napi::TypeError::New(env, "kcrypto: probeBindSnapshot(type, name, path)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
#if defined(__linux__)
  std::string text;
  int rc = afalg::ProbeBindSnapshot(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(),
                                    info[2].As<Napi::String>().Utf8Value(), &text);
  out.Set("errno", Napi::Number::New(env, rc));
  if (rc == 0) out.Set("text", Napi::String::New(env, text));
#else
  out.Set("errno", Napi::Number::New(env, EAFNOSUPPORT));
#endif
  return out;
}

// setForbidden(mask): adds interfaces to the process's forbid (gate::kAfAlg | gate::kDevCrypto);
// returns the whole mask. Bits are never cleared.
Napi::Value Addon::SetForbidden(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "kcrypto: setForbidden(mask)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint32_t add = info[0].As<Napi::Number>().Uint32Value() & gate::kAll;
  return Napi::Number::New(env, gate::forbidden.fetch_or(add, std::memory_order_acq_rel) | add);
}

// kernelGate() -> { forbidden, afalgSockets, devcryptoOpens }: the forbid mask and how many
// times this process has asked the kernel for an AF_ALG socket or a /dev/crypto descriptor.
Napi::Value Addon::KernelGate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("forbidden", Napi::Number::New(env, gate::forbidden.load(std::memory_order_acquire)));
  o.Set("afalgSockets", Napi::Number::New(env, static_cast<double>(gate::afalg_sockets.load(std::memory_order_relaxed))));
  o.Set("devcryptoOpens", Napi::Number::New(env, static_cast<double>(gate::devcrypto_opens.load(std::memory_order_relaxed))));
  return o;
}

// The host's errno numbers by name: Linux and the BSDs number them differently, so the
// TypeScript side never hard-codes them.
Napi::Value Addon::ErrnoTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
// A table, several entries a line.
// clang-format off
#define KC_ERRNO(name) o.Set(#name, Napi::Number::New(env, name));
  KC_ERRNO(EPERM) KC_ERRNO(ENOENT) KC_ERRNO(EINTR) KC_ERRNO(EIO) KC_ERRNO(ENXIO) KC_ERRNO(E2BIG)
  KC_ERRNO(EBADF) KC_ERRNO(EAGAIN) KC_ERRNO(ENOMEM) KC_ERRNO(EACCES) KC_ERRNO(EFAULT) KC_ERRNO(EBUSY)
  KC_ERRNO(EEXIST) KC_ERRNO(ENODEV) KC_ERRNO(EINVAL) KC_ERRNO(ENFILE) KC_ERRNO(EMFILE) KC_ERRNO(ENOTTY)
  KC_ERRNO(ENOSPC) KC_ERRNO(ERANGE) KC_ERRNO(ENOSYS) KC_ERRNO(EMSGSIZE) KC_ERRNO(EPROTONOSUPPORT)
  KC_ERRNO(EOPNOTSUPP) KC_ERRNO(EAFNOSUPPORT) KC_ERRNO(ETIMEDOUT) KC_ERRNO(EBADMSG) KC_ERRNO(EOVERFLOW)
  KC_ERRNO(ENOPROTOOPT) KC_ERRNO(ESOCKTNOSUPPORT) KC_ERRNO(EINPROGRESS) KC_ERRNO(ECANCELED)
  KC_ERRNO(EDEADLK) KC_ERRNO(ENOTSUP) KC_ERRNO(ENOBUFS) KC_ERRNO(ESHUTDOWN)
#ifdef ERESTART
  KC_ERRNO(ERESTART)
#endif
#ifdef ENOKEY
  KC_ERRNO(ENOKEY) KC_ERRNO(EKEYREJECTED) KC_ERRNO(EKEYREVOKED) KC_ERRNO(EKEYEXPIRED) KC_ERRNO(ENOPKG)
#endif
#undef KC_ERRNO
      // clang-format on
      return o;
}

// getRandom(view): fills the bytes of an ArrayBufferView from the kernel's RNG with getrandom(2),
// on the calling thread (WebCrypto's getRandomValues() is synchronous); 0 or the errno. The
// urandom source blocks only until the kernel's pool is first initialised, at boot.
Napi::Value Addon::GetRandom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "kcrypto: getRandom(typedArray)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::TypedArray view = info[0].As<Napi::TypedArray>();
  auto* bytes = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
  size_t left = view.ByteLength();
#if defined(KC_HAVE_GETRANDOM)
  while (left > 0) {
    // Reads past 256 bytes may return short when a signal arrives; EINTR before any byte.
    ssize_t n = getrandom(bytes, left, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Napi::Number::New(env, errno);
    }
    bytes += n;
    left -= static_cast<size_t>(n);
  }
  return Napi::Number::New(env, 0);
#else
  (void)bytes;
  (void)left;
  return Napi::Number::New(env, ENOSYS);
#endif
}

}  // namespace kcrypto

using KcryptoAddon = kcrypto::Addon;
NODE_API_ADDON(KcryptoAddon)
