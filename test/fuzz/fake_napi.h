// A stand-in for the few Node-API functions the addon's argument readers call
// (native/request_args.cc, native/open_args.h), over JavaScript values made up by a fuzz
// harness: numbers, strings, null/undefined, arrays (sparse ones too) and typed arrays of every
// type, each typed array's bytes in a buffer of exactly its byte length. Every other Node-API
// function the linked code refers to aborts when called.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.h"

namespace kcrypto::fuzz {

enum class Kind { kUndefined, kNull, kBoolean, kNumber, kString, kObject, kArray, kTypedArray, kFunction, kBigInt, kSymbol };

struct FakeValue {
  Kind kind = Kind::kUndefined;
  uint32_t number = 0;  // kNumber: the value, as N-API's uint32/int32 readers give it
  std::string text;     // kString
  // kTypedArray: its type, element count and bytes (element count * element size).
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0;
  std::unique_ptr<Buffer> bytes;
  // kArray: the elements, and the length the array claims (a sparse array claims more; the
  // missing elements read as undefined, or throw where `throws` says so: a getter).
  std::vector<napi_value> elements;
  uint32_t claimed = 0;
  bool throws = false;
};

size_t ElementSize(napi_typedarray_type t);

// The values of one fuzz input; napi_value is a FakeValue*.
class FakeHeap {
 public:
  FakeHeap();
  ~FakeHeap();
  napi_env env() const;
  napi_value New(std::unique_ptr<FakeValue> v);
  napi_value Undefined() const { return undefined_; }
  // A value made up from the input; arrays nest `depth` levels at most.
  napi_value Make(FuzzedDataProvider* in, int depth);
  static FakeValue* Of(napi_value v) { return reinterpret_cast<FakeValue*>(v); }

 private:
  std::vector<std::unique_ptr<FakeValue>> values_;
  napi_value undefined_;
};

}  // namespace kcrypto::fuzz
