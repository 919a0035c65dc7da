// Reading the arguments of the engines' open functions (openAfAlg, openDevCrypto): one reading
// of a JavaScript value per kind, so both engines accept and default their options alike.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/key_bytes.h"

namespace kcrypto::open_args {

// A number as uint32, or `def` when the value is not a number.
inline uint32_t U32(const Napi::Value& v, uint32_t def) { return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : def; }

// A number as int32, or `def` when the value is not a number.
inline int32_t I32(const Napi::Value& v, int32_t def) { return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : def; }

// A string into *out; false (and *out untouched) when the value is not a string.
inline bool String(const Napi::Value& v, std::string* out) {
  if (!v.IsString()) return false;
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

// A Uint8Array's bytes, copied into *out (key material: the caller wipes it); false (and *out
// untouched) when the value is not a Uint8Array.
inline bool Bytes(const Napi::Value& v, std::vector<uint8_t>* out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array u = v.As<Napi::Uint8Array>();
  out->assign(u.Data(), u.Data() + u.ByteLength());
  return true;
}

// The same into key storage (see common/key_bytes.h).
inline bool Bytes(const Napi::Value& v, KeyBytes* out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array u = v.As<Napi::Uint8Array>();
  out->Assign(u.Data(), u.ByteLength());
  return true;
}

}  // namespace kcrypto::open_args
