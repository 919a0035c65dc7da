#include "request_args.h"

namespace kcrypto {

namespace {

// One napi_get_typedarray_info per buffer: the node-addon-api wrappers make four N-API calls
// for the same answer, and N-API calls are a measurable share of a small request's cost.
bool AsBytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  size_t length = 0;
  void* bytes = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &bytes, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  *data = static_cast<uint8_t*>(bytes);
  *len = length;
  return true;
}

bool IsNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

}  // namespace

bool ReadRequest(const Napi::CallbackInfo& info, size_t first, Request* req) {
  Napi::Env env = info.Env();
  if (info.Length() < first + 6) {
    Napi::TypeError::New(env, "kcrypto: request needs op, input, output, iv, assocLen, stream").ThrowAsJavaScriptException();
    return false;
  }
  uint32_t op = 0, assoc = 0;
  int32_t stream = -1;
  if (napi_get_value_uint32(env, info[first], &op) != napi_ok || napi_get_value_uint32(env, info[first + 4], &assoc) != napi_ok ||
      napi_get_value_int32(env, info[first + 5], &stream) != napi_ok) {
    Napi::TypeError::New(env, "kcrypto: op, assocLen and stream must be numbers").ThrowAsJavaScriptException();
    return false;
  }
  req->op = static_cast<Op>(op);
  req->assoc_len = assoc;
  req->stream = stream;

  req->input.clear();
  uint8_t* p = nullptr;
  size_t n = 0;
  napi_value input = info[first + 1];
  if (AsBytes(env, input, &p, &n)) {
    if (n > 0) req->input.push_back(iovec{p, n});
  } else {
    bool is_array = false;
    if (napi_is_array(env, input, &is_array) == napi_ok && is_array) {
      uint32_t count = 0;
      napi_get_array_length(env, input, &count);
      req->input.reserve(count);
      for (uint32_t i = 0; i < count; ++i) {
        napi_value el;
        if (napi_get_element(env, input, i, &el) != napi_ok || !AsBytes(env, el, &p, &n)) {
          Napi::TypeError::New(env, "kcrypto: input segments must be Uint8Arrays").ThrowAsJavaScriptException();
          return false;
        }
        if (n > 0) req->input.push_back(iovec{p, n});
      }
    } else if (!IsNullish(env, input)) {
      Napi::TypeError::New(env, "kcrypto: input must be a Uint8Array or an array of them").ThrowAsJavaScriptException();
      return false;
    }
  }

  req->output = nullptr;
  req->output_len = 0;
  napi_value output = info[first + 2];
  if (!AsBytes(env, output, &req->output, &req->output_len) && !IsNullish(env, output)) {
    Napi::TypeError::New(env, "kcrypto: output must be a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  req->iv = nullptr;
  req->iv_len = 0;
  napi_value iv = info[first + 3];
  uint8_t* ivp = nullptr;
  if (AsBytes(env, iv, &ivp, &req->iv_len)) {
    req->iv = ivp;
  } else if (!IsNullish(env, iv)) {
    Napi::TypeError::New(env, "kcrypto: iv must be a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

}  // namespace kcrypto
