#include "openssl_open.h"

#include <cerrno>
#include <string>

#include "../addon.h"
#include "../common/wipe.h"
#include "../open_args.h"
#include "../session_wrap.h"
#include "openssl_engine.h"

namespace kcrypto::openssl {

Napi::Value OpenOpenSsl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* addon = static_cast<Addon*>(info.Data());
  Spec spec;
  std::string kind;
  if (info.Length() < 3 || !open_args::String(info[0], &kind) || !open_args::String(info[1], &spec.name)) {
    Napi::TypeError::New(env, "kcrypto: openOpenSsl(kind, name, key)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (kind == "cipher") spec.kind = Kind::kCipher;
  else if (kind == "digest") spec.kind = Kind::kDigest;
  else if (kind == "hmac") spec.kind = Kind::kHmac;
  else {
    MakeSystemError(env, EINVAL, "validate", "unknown OpenSSL session kind").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!info[2].IsNull() && !info[2].IsUndefined() && !open_args::Bytes(info[2], &spec.key)) {
    Napi::TypeError::New(env, "kcrypto: openOpenSsl: key must be a Uint8Array or null").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::unique_ptr<Engine> engine;
  Status st = Engine::Open(std::move(spec), &engine);
  Wipe(&spec.key);
  if (!st.ok()) {
    MakeSystemError(env, st.err, SyscallName(st.syscall), st.err == ENOENT ? "OpenSSL: no such algorithm" : "OpenSSL")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return SessionWrap::Wrap(env, addon, std::shared_ptr<EngineSession>(std::move(engine)));
}

}  // namespace kcrypto::openssl
