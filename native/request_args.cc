#include "request_args.h"

#include <algorithm>

namespace kcrypto {

namespace {

// IOV_MAX on Linux and the BSDs: the most segments one sendmsg or readv takes.
constexpr uint32_t kMaxSegments = 1024;

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

const char* ParseRequest(napi_env env, const napi_value fields[5], Request* req, std::vector<napi_value>* buffers) {
  uint32_t op = 0, assoc = 0;
  if (napi_get_value_uint32(env, fields[0], &op) != napi_ok || napi_get_value_uint32(env, fields[4], &assoc) != napi_ok)
    return "kcrypto: op, assocLen and stream must be numbers";
  req->op = static_cast<Op>(op);
  req->assoc_len = assoc;
  return ParseBuffers(env, fields[1], fields[2], fields[3], req, buffers);
}

const char* ParseBuffers(napi_env env, napi_value input, napi_value output, napi_value iv, Request* req, std::vector<napi_value>* buffers) {
  auto keep = [buffers](napi_value v) {
    if (buffers != nullptr) buffers->push_back(v);
  };

  req->input.clear();
  uint8_t* p = nullptr;
  size_t n = 0;
  if (AsBytes(env, input, &p, &n)) {
    keep(input);
    if (n > 0) req->input.push_back(iovec{p, n});
  } else {
    bool is_array = false;
    if (napi_is_array(env, input, &is_array) == napi_ok && is_array) {
      uint32_t count = 0;
      napi_get_array_length(env, input, &count);
      // The length is the array's word: a sparse array claims up to 2^32 - 1 elements, whose
      // reservation alone would end the process. A request cannot gather more than IOV_MAX
      // segments anyway.
      req->input.reserve(std::min<uint32_t>(count, kMaxSegments));
      for (uint32_t i = 0; i < count; ++i) {
        napi_value el;
        if (napi_get_element(env, input, i, &el) != napi_ok || !AsBytes(env, el, &p, &n))
          return "kcrypto: input segments must be Uint8Arrays";
        keep(el);
        if (n > 0) req->input.push_back(iovec{p, n});
      }
    } else if (!IsNullish(env, input)) {
      return "kcrypto: input must be a Uint8Array or an array of them";
    }
  }

  req->output = nullptr;
  req->output_len = 0;
  if (output == nullptr) {
    // absent, as the caller knew
  } else if (AsBytes(env, output, &req->output, &req->output_len)) {
    keep(output);
  } else if (!IsNullish(env, output)) {
    return "kcrypto: output must be a Uint8Array";
  }
  req->iv = nullptr;
  req->iv_len = 0;
  uint8_t* ivp = nullptr;
  if (iv == nullptr) {
    // absent, as the caller knew
  } else if (AsBytes(env, iv, &ivp, &req->iv_len)) {
    req->iv = ivp;
    keep(iv);
  } else if (!IsNullish(env, iv)) {
    return "kcrypto: iv must be a Uint8Array";
  }
  return nullptr;
}

bool ReadRequest(const Napi::CallbackInfo& info, size_t first, Request* req) {
  Napi::Env env = info.Env();
  if (info.Length() < first + 6) {
    Napi::TypeError::New(env, "kcrypto: request needs op, input, output, iv, assocLen, stream").ThrowAsJavaScriptException();
    return false;
  }
  int32_t stream = -1;
  const char* error = nullptr;
  if (napi_get_value_int32(env, info[first + 5], &stream) != napi_ok) {
    error = "kcrypto: op, assocLen and stream must be numbers";
  } else {
    const napi_value fields[5] = {info[first], info[first + 1], info[first + 2], info[first + 3], info[first + 4]};
    error = ParseRequest(env, fields, req, nullptr);
  }
  if (error != nullptr) {
    Napi::TypeError::New(env, error).ThrowAsJavaScriptException();
    return false;
  }
  req->stream = stream;
  return true;
}

}  // namespace kcrypto
