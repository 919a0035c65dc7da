// JavaScript entry points of the AF_ALG engine.
#pragma once

#include <napi.h>

#include <string>

namespace kcrypto::afalg {

// openAfAlg(type, name, key|null, authSize, chunkable, socketBuffer, maxRequest) -> EngineSession
Napi::Value OpenAfAlg(const Napi::CallbackInfo& info);
int ProbeSocket();
int ProbeBind(const std::string& type, const std::string& name);
// bind(type, name), then, while still bound, the text of the file at `path` (empty when it
// cannot be read): 0 or the bind's errno.
int ProbeBindSnapshot(const std::string& type, const std::string& name, const std::string& path, std::string* text);

}  // namespace kcrypto::afalg
