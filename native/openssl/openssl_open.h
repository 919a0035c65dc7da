// JavaScript entry point of the OpenSSL engine.
#pragma once

#include <napi.h>

namespace kcrypto::openssl {

// openOpenSsl(kind: 'cipher' | 'digest' | 'hmac', name, key|null) -> EngineSession
Napi::Value OpenOpenSsl(const Napi::CallbackInfo& info);

}  // namespace kcrypto::openssl
