#include "request_args.h"

namespace kcrypto {

namespace {

bool AsBytes(Napi::Value v, uint8_t** data, size_t* len) {
  if (!v.IsTypedArray()) return false;
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array u8 = v.As<Napi::Uint8Array>();
  *data = u8.Data();
  *len = u8.ByteLength();
  return true;
}

}  // namespace

bool ReadRequest(const Napi::CallbackInfo& info, size_t first, Request* req) {
  Napi::Env env = info.Env();
  if (info.Length() < first + 6) {
    Napi::TypeError::New(env, "kcrypto: request needs op, input, output, iv, assocLen, stream").ThrowAsJavaScriptException();
    return false;
  }
  req->op = static_cast<Op>(info[first].As<Napi::Number>().Uint32Value());
  Napi::Value input = info[first + 1];
  req->input.clear();
  uint8_t* p = nullptr;
  size_t n = 0;
  if (input.IsArray()) {
    Napi::Array arr = input.As<Napi::Array>();
    req->input.reserve(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      if (!AsBytes(arr.Get(i), &p, &n)) {
        Napi::TypeError::New(env, "kcrypto: input segments must be Uint8Arrays").ThrowAsJavaScriptException();
        return false;
      }
      if (n > 0) req->input.push_back(iovec{p, n});
    }
  } else if (AsBytes(input, &p, &n)) {
    if (n > 0) req->input.push_back(iovec{p, n});
  } else if (!input.IsNull() && !input.IsUndefined()) {
    Napi::TypeError::New(env, "kcrypto: input must be a Uint8Array or an array of them").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Value output = info[first + 2];
  req->output = nullptr;
  req->output_len = 0;
  if (!output.IsNull() && !output.IsUndefined() && !AsBytes(output, &req->output, &req->output_len)) {
    Napi::TypeError::New(env, "kcrypto: output must be a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Value iv = info[first + 3];
  req->iv = nullptr;
  req->iv_len = 0;
  if (!iv.IsNull() && !iv.IsUndefined()) {
    uint8_t* ivp = nullptr;
    if (!AsBytes(iv, &ivp, &req->iv_len)) {
      Napi::TypeError::New(env, "kcrypto: iv must be a Uint8Array").ThrowAsJavaScriptException();
      return false;
    }
    req->iv = ivp;
  }
  req->assoc_len = info[first + 4].As<Napi::Number>().Uint32Value();
  req->stream = info[first + 5].As<Napi::Number>().Int32Value();
  return true;
}

}  // namespace kcrypto
