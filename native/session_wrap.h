// The JavaScript face of an engine session, whatever the engine: run inline, submit to the
// dispatcher, hash streams, close. Engines create instances through their open functions.
#pragma once

#include <napi.h>

#include <memory>

#include "common/abandon.h"
#include "common/dispatcher.h"
#include "common/engine.h"

namespace kcrypto {

class Addon;

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps an open engine session in a new JavaScript object.
  static Napi::Object Wrap(Napi::Env env, Addon* addon, std::shared_ptr<EngineSession> session);
  // The engine session behind `value`; null, with a JavaScript error pending, when `value` is
  // not an open session of this addon. For entry points that take a session argument.
  static std::shared_ptr<EngineSession> EngineOf(Napi::Env env, Addon* addon, Napi::Value value);

  explicit SessionWrap(const Napi::CallbackInfo& info);
  ~SessionWrap() override;

  // Why a job could not be made (see PrepareJob); kOk when it was.
  enum class JobError : uint32_t { kOk = 0, kClosed = 1, kArguments = 2 };
  // The session wrapped by `value` when it is one of this addon's (type-tagged at Wrap), else null.
  static SessionWrap* FromValue(napi_env env, napi_value value);
  // Makes the job submit() queues for this session from the numbers `args` (kSubmitArgs of them,
  // see SubmitArg) and the three buffers; `lane` is the dispatcher lane it goes to. Throws
  // nothing: the caller reports a failure its own way (`message` says what was wrong).
  JobError PrepareJob(napi_env env, const double* args, napi_value input, napi_value output, napi_value iv, Job* job, uint32_t* lane,
                      const char** message);

 private:
  std::shared_ptr<EngineSession> Live(Napi::Env env);
  std::shared_ptr<EngineSession> LiveForStream(Napi::Env env);
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value OpenStream(const Napi::CallbackInfo& info);
  Napi::Value CopyStream(const Napi::CallbackInfo& info);
  Napi::Value CloseStream(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Descriptors(const Napi::CallbackInfo& info);
  Napi::Value MaxRequest(const Napi::CallbackInfo& info);
  Napi::Value Abandon(const Napi::CallbackInfo& info);
  Napi::Value AbandonAndDrop(const Napi::CallbackInfo& info);

  Addon* addon_ = nullptr;
  std::shared_ptr<EngineSession> session_;
  // Set once the session is abandoned (its device is gone or its requests are stuck): from then on
  // nothing touches its descriptors, queued jobs are not run, and closing it leaves them open.
  std::shared_ptr<AbandonFlag> abandoned_ = std::make_shared<AbandonFlag>();
};

}  // namespace kcrypto
