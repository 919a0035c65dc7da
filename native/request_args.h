// Reads a request's arguments from JavaScript: input (a Uint8Array or an array of them),
// output, IV, associated-data length, stream handle. Pointers reference the JavaScript
// buffers directly; the TypeScript layer holds those buffers until the request completes.
#pragma once

#include <napi.h>

#include <vector>

#include "common/engine.h"

namespace kcrypto {

// Arguments from info[first]: op, input, output, iv, assocLen, stream.
bool ReadRequest(const Napi::CallbackInfo& info, size_t first, Request* req);

// The one reading of a request's fields (op, input, output, iv, assocLen), for ReadRequest and
// for the entries of a /dev/crypto batch. Adds every buffer the request points into to
// `buffers` when given (to keep them alive); returns null, or the message of a TypeError.
const char* ParseRequest(napi_env env, const napi_value fields[5], Request* req, std::vector<napi_value>* buffers);

// The buffers of a request (input, output, iv), for ParseRequest and for submit(), which takes
// its numbers from the addon's argument array (see Addon::SetSubmitArgs). A null napi_value for
// output or iv: absent, known without asking N-API (see SubmitShape).
const char* ParseBuffers(napi_env env, napi_value input, napi_value output, napi_value iv, Request* req, std::vector<napi_value>* buffers);

}  // namespace kcrypto
