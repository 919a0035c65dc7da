// Reads a request's arguments from JavaScript: input (a Uint8Array or an array of them),
// output, IV, associated-data length, stream handle. Pointers reference the JavaScript
// buffers directly; the TypeScript layer holds those buffers until the request completes.
#pragma once

#include <napi.h>

#include "common/engine.h"

namespace kcrypto {

// Arguments from info[first]: op, input, output, iv, assocLen, stream.
bool ReadRequest(const Napi::CallbackInfo& info, size_t first, Request* req);

}  // namespace kcrypto
