#include "session_wrap.h"

#include <cstring>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "addon.h"
#include "request_args.h"

namespace kcrypto {

namespace {

// Abandoned sessions: kept, never closed and never destroyed -- not even at exit. In the lab, a
// close() of a transform bound to a removed virtio-crypto card hung the 6.1 guest while the
// kernel was removing the card, and faulted in the 6.12 kernel afterwards (a use after free
// under __fput). So their descriptors stay open until the process ends; the storage is
// constructed in place and never destructed.
void Keep(std::shared_ptr<EngineSession> s) {
  struct Kept {
    std::mutex mu;
    std::vector<std::shared_ptr<EngineSession>> sessions;
  };
  alignas(Kept) static unsigned char storage[sizeof(Kept)];
  static Kept* kept = ::new (storage) Kept();
  std::lock_guard<std::mutex> lock(kept->mu);
  kept->sessions.push_back(std::move(s));
}

// Marks the objects that wrap an engine session, so a batch of submissions can tell them from
// any other object at the cost of one N-API call (an instanceof check costs several).
constexpr napi_type_tag kSessionTag = {0x6b63727970746f00ULL, 0x73657373696f6e31ULL};

}  // namespace

Napi::Function SessionWrap::Define(Napi::Env env) {
  return DefineClass(env, "EngineSession",
                     {
                         InstanceMethod<&SessionWrap::Run>("run"),
                         InstanceMethod<&SessionWrap::Submit>("submit"),
                         InstanceMethod<&SessionWrap::OpenStream>("openStream"),
                         InstanceMethod<&SessionWrap::CopyStream>("copyStream"),
                         InstanceMethod<&SessionWrap::CloseStream>("closeStream"),
                         InstanceMethod<&SessionWrap::Close>("close"),
                         InstanceMethod<&SessionWrap::Descriptors>("descriptors"),
                         InstanceMethod<&SessionWrap::MaxRequest>("maxRequest"),
                         InstanceMethod<&SessionWrap::Abandon>("abandon"),
                         InstanceMethod<&SessionWrap::AbandonAndDrop>("drop"),
                     });
}

Napi::Object SessionWrap::Wrap(Napi::Env env, Addon* addon, std::shared_ptr<EngineSession> session) {
  Napi::Object obj = addon->session_ctor.New({});
  SessionWrap* w = Unwrap(obj);
  w->addon_ = addon;
  w->session_ = std::move(session);
  napi_type_tag_object(env, obj, &kSessionTag);
  return obj;
}

SessionWrap* SessionWrap::FromValue(napi_env env, napi_value value) {
  bool tagged = false;
  napi_valuetype t;
  if (napi_typeof(env, value, &t) != napi_ok || t != napi_object) return nullptr;
  if (napi_check_object_type_tag(env, value, &kSessionTag, &tagged) != napi_ok || !tagged) return nullptr;
  void* w = nullptr;
  if (napi_unwrap(env, value, &w) != napi_ok) return nullptr;
  return static_cast<SessionWrap*>(w);
}

std::shared_ptr<EngineSession> SessionWrap::EngineOf(Napi::Env env, Addon* addon, Napi::Value value) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon->session_ctor.Value())) {
    Napi::TypeError::New(env, "kcrypto: not an engine session").ThrowAsJavaScriptException();
    return nullptr;
  }
  return Unwrap(value.As<Napi::Object>())->Live(env);
}

SessionWrap::SessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SessionWrap>(info) {}

// A session the program forgot to close is closed when collected. Requests still running on
// the dispatcher hold their own reference, so their descriptors stay valid until they finish.
SessionWrap::~SessionWrap() {
  if (!session_) return;
  if (abandoned_->abandoned()) Keep(std::move(session_));
  else if (session_.use_count() == 1) session_->Close();
}

std::shared_ptr<EngineSession> SessionWrap::Live(Napi::Env env) {
  if (!session_) {
    MakeSystemError(env, EBADF, "validate", "session is closed").ThrowAsJavaScriptException();
    return nullptr;
  }
  return session_;
}

Napi::Value SessionWrap::Run(const Napi::CallbackInfo& info) {
  std::shared_ptr<EngineSession> s = Live(info.Env());
  if (!s) return info.Env().Undefined();
  if (abandoned_->abandoned()) return Napi::Number::New(info.Env(), Status::Fail(ESHUTDOWN, Syscall::kValidate).encode());
  Request req;
  if (!ReadRequest(info, 0, &req)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), s->Run(req).encode());
}

Napi::Value SessionWrap::Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // submit(input, output, iv); the numbers are in the addon's argument array (SubmitArg).
  const double* args = addon_->submit_args();
  if (args == nullptr || addon_->dispatcher(Addon::kCpuLane) == nullptr || info.Length() < 3) {
    Napi::Error::New(env, "kcrypto: submit(input, output, iv) needs the argument array and a completion handler installed")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Job job;
  uint32_t lane = 0;
  const char* message = nullptr;
  switch (PrepareJob(env, args, info[0], info[1], info[2], &job, &lane, &message)) {
    case JobError::kOk: addon_->dispatcher(lane)->Submit(std::move(job)); break;
    case JobError::kClosed: MakeSystemError(env, EBADF, "validate", message).ThrowAsJavaScriptException(); break;
    case JobError::kArguments: Napi::TypeError::New(env, message).ThrowAsJavaScriptException(); break;
  }
  return env.Undefined();
}

namespace {

// Moves `job`'s input and IV into memory the job owns (see Job::owned_input). An input shorter
// or longer than JavaScript queued was detached (transferred) in between: refused, never run on
// what is left of it.
const char* OwnInput(double queued_length, Job* job) {
  Request& req = job->request;
  const size_t in_len = req.input_len();
  if (static_cast<double>(in_len) != queued_length) return "kcrypto: the request's input was detached before it reached the addon";
  const size_t iv_len = req.iv != nullptr ? req.iv_len : 0;
  if (in_len + iv_len == 0) return nullptr;
  job->owned_input.resize(in_len + iv_len);
  uint8_t* at = job->owned_input.data();
  for (const iovec& v : req.input) {
    std::memcpy(at, v.iov_base, v.iov_len);
    at += v.iov_len;
  }
  req.input.clear();
  if (in_len > 0) req.input.push_back(iovec{job->owned_input.data(), in_len});
  if (iv_len > 0) {
    std::memcpy(at, req.iv, iv_len);
    req.iv = at;
  }
  return nullptr;
}

}  // namespace

SessionWrap::JobError SessionWrap::PrepareJob(napi_env env, const double* args, napi_value input, napi_value output, napi_value iv,
                                              Job* job, uint32_t* lane, const char** message) {
  if (!session_) {
    *message = "session is closed";
    return JobError::kClosed;
  }
  *lane = static_cast<uint32_t>(args[kSubmitLane]);
  if (addon_->dispatcher(*lane) == nullptr) {
    *message = "kcrypto: submit: no such lane";
    return JobError::kArguments;
  }
  job->id = args[kSubmitId];
  job->request.op = static_cast<Op>(static_cast<uint32_t>(args[kSubmitOp]));
  job->request.assoc_len = static_cast<uint32_t>(args[kSubmitAssocLen]);
  job->request.stream = static_cast<int32_t>(args[kSubmitStream]);
  const uint32_t shape = static_cast<uint32_t>(args[kSubmitShape]);
  if ((shape & kShapeNoOutput) != 0) output = nullptr;
  if ((shape & kShapeNoIv) != 0) iv = nullptr;
  if (const char* error = ParseBuffers(env, input, output, iv, &job->request, nullptr)) {
    *message = error;
    return JobError::kArguments;
  }
  if (const char* error = OwnInput(args[kSubmitInputLength], job)) {
    *message = error;
    return JobError::kArguments;
  }
  if (args[kSubmitDeadlineMs] > 0) job->deadline_ns = static_cast<uint64_t>(args[kSubmitDeadlineMs] * 1e6);
  job->cancelled = abandoned_;
  // Every device job runs on its thread's copies, a disposable output's too (one the caller
  // never reads after a failure): a request that returns after its worker was torn down would
  // otherwise have the kernel write into memory the environment freed, and given to others.
  job->guard_output = *lane == Addon::kDeviceLane;
  job->session = session_;
  return JobError::kOk;
}

namespace {

// A new stream's handle, or the failure thrown.
Napi::Value StreamHandle(Napi::Env env, const Status& st, int32_t handle, const char* what) {
  if (!st.ok()) {
    MakeSystemError(env, st.err, SyscallName(st.syscall), what).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, handle);
}

}  // namespace

// The live session for a stream call: null, with ESHUTDOWN thrown, once it is abandoned.
std::shared_ptr<EngineSession> SessionWrap::LiveForStream(Napi::Env env) {
  std::shared_ptr<EngineSession> s = Live(env);
  if (s && abandoned_->abandoned()) {
    MakeSystemError(env, ESHUTDOWN, "validate", "session was abandoned").ThrowAsJavaScriptException();
    return nullptr;
  }
  return s;
}

Napi::Value SessionWrap::OpenStream(const Napi::CallbackInfo& info) {
  std::shared_ptr<EngineSession> s = LiveForStream(info.Env());
  if (!s) return info.Env().Undefined();
  int32_t handle = -1;
  Status st = s->OpenStream(&handle);
  return StreamHandle(info.Env(), st, handle, "cannot open hash stream");
}

Napi::Value SessionWrap::CopyStream(const Napi::CallbackInfo& info) {
  std::shared_ptr<EngineSession> s = LiveForStream(info.Env());
  if (!s) return info.Env().Undefined();
  int32_t handle = -1;
  Status st = s->CopyStream(info[0].As<Napi::Number>().Int32Value(), &handle);
  return StreamHandle(info.Env(), st, handle, "cannot copy hash state");
}

// On an abandoned session the stream's descriptor is left open (see Keep).
Napi::Value SessionWrap::CloseStream(const Napi::CallbackInfo& info) {
  if (session_ && !abandoned_->abandoned()) session_->CloseStream(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// The TypeScript layer calls close() only once its requests have completed; a request still
// on the dispatcher keeps the engine session alive, and Close() makes it fail with EBADF
// instead of touching closed descriptors.
Napi::Value SessionWrap::Close(const Napi::CallbackInfo& info) {
  if (!session_) return info.Env().Undefined();
  if (abandoned_->abandoned()) {
    Keep(std::move(session_));
    return info.Env().Undefined();
  }
  session_->Close();
  session_.reset();
  return info.Env().Undefined();
}

// abandon(): abandons the session. Jobs still queued for it complete with ESHUTDOWN without
// running; jobs already inside the kernel finish (or not) on their own threads.
Napi::Value SessionWrap::Abandon(const Napi::CallbackInfo& info) {
  abandoned_->Set();
  return info.Env().Undefined();
}

// drop(): abandons the session and lets go of it without closing its descriptors (see Keep).
Napi::Value SessionWrap::AbandonAndDrop(const Napi::CallbackInfo& info) {
  abandoned_->Set();
  if (session_) Keep(std::move(session_));
  return info.Env().Undefined();
}

Napi::Value SessionWrap::MaxRequest(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), session_ ? static_cast<double>(session_->max_request()) : 0.0);
}

Napi::Value SessionWrap::Descriptors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), session_ ? static_cast<double>(session_->open_descriptors()) : 0.0);
}

}  // namespace kcrypto
