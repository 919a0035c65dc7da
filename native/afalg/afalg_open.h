// JavaScript entry points of the AF_ALG engine.
#pragma once

#include <napi.h>

#include <string>

namespace kcrypto::afalg {

// openAfAlg(type, name, key|null, authSize, chunkable, socketBuffer, maxRequest) -> EngineSession
Napi::Value OpenAfAlg(const Napi::CallbackInfo& info);
int ProbeSocket();
int ProbeBind(const std::string& type, const std::string& name);

}  // namespace kcrypto::afalg
