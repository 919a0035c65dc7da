#include "fake_napi.h"

#include <cstring>

namespace kcrypto::fuzz {

namespace {

FakeHeap* g_heap = nullptr;
int g_env_tag = 0;

// A Node-API function the harness does not expect the code under test to reach.
[[noreturn]] void Unexpected(const char* name) {
  std::fprintf(stderr, "fake_napi: unexpected call of %s\n", name);
  std::abort();
}

}  // namespace

size_t ElementSize(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array: return 1;
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
  }
  return 1;
}

FakeHeap::FakeHeap() {
  g_heap = this;
  undefined_ = New(std::make_unique<FakeValue>());
}

FakeHeap::~FakeHeap() { g_heap = nullptr; }

napi_env FakeHeap::env() const { return reinterpret_cast<napi_env>(&g_env_tag); }

napi_value FakeHeap::New(std::unique_ptr<FakeValue> v) {
  values_.push_back(std::move(v));
  return reinterpret_cast<napi_value>(values_.back().get());
}

napi_value FakeHeap::Make(FuzzedDataProvider* in, int depth) {
  auto v = std::make_unique<FakeValue>();
  const int pick = in->ConsumeIntegralInRange<int>(0, depth > 0 ? 11 : 10);
  switch (pick) {
    case 0: v->kind = Kind::kUndefined; break;
    case 1: v->kind = Kind::kNull; break;
    case 2: v->kind = Kind::kBoolean; break;
    case 3:
      v->kind = Kind::kNumber;
      v->number = in->ConsumeIntegral<uint32_t>();
      break;
    case 4:
      v->kind = Kind::kString;
      v->text = in->ConsumeRandomLengthString(80);
      break;
    case 5: v->kind = in->PickValueInArray({Kind::kObject, Kind::kFunction, Kind::kBigInt, Kind::kSymbol}); break;
    case 6:
    case 7:
    case 8:
    case 9: {
      // Mostly Uint8Arrays, the only kind the readers take.
      v->kind = Kind::kTypedArray;
      v->type = pick <= 8 ? napi_uint8_array
                          : in->PickValueInArray({napi_int8_array, napi_uint8_clamped_array, napi_int16_array, napi_uint16_array,
                                                  napi_int32_array, napi_uint32_array, napi_float32_array, napi_float64_array,
                                                  napi_bigint64_array, napi_biguint64_array});
      v->length = in->ConsumeIntegralInRange<size_t>(0, in->ConsumeBool() ? 16 : 300);
      v->bytes = std::make_unique<Buffer>(v->length * ElementSize(v->type), in);
      break;
    }
    default: {
      v->kind = Kind::kArray;
      const size_t n = in->ConsumeIntegralInRange<size_t>(0, 8);
      for (size_t i = 0; i < n; ++i) v->elements.push_back(Make(in, depth - 1));
      switch (in->ConsumeIntegralInRange<int>(0, 3)) {
        case 0: v->claimed = in->ConsumeIntegral<uint32_t>(); break;  // sparse
        case 1: v->claimed = UINT32_MAX; break;
        default: v->claimed = static_cast<uint32_t>(n); break;
      }
      v->throws = in->ConsumeBool();
      break;
    }
  }
  return New(std::move(v));
}

}  // namespace kcrypto::fuzz

using kcrypto::fuzz::FakeHeap;
using kcrypto::fuzz::FakeValue;
using kcrypto::fuzz::Kind;
using kcrypto::fuzz::Unexpected;

extern "C" {

napi_status napi_typeof(napi_env, napi_value value, napi_valuetype* result) {
  switch (FakeHeap::Of(value)->kind) {
    case Kind::kUndefined: *result = napi_undefined; break;
    case Kind::kNull: *result = napi_null; break;
    case Kind::kBoolean: *result = napi_boolean; break;
    case Kind::kNumber: *result = napi_number; break;
    case Kind::kString: *result = napi_string; break;
    case Kind::kFunction: *result = napi_function; break;
    case Kind::kBigInt: *result = napi_bigint; break;
    case Kind::kSymbol: *result = napi_symbol; break;
    case Kind::kObject:
    case Kind::kArray:
    case Kind::kTypedArray: *result = napi_object; break;
  }
  return napi_ok;
}

napi_status napi_get_value_uint32(napi_env, napi_value value, uint32_t* result) {
  const FakeValue* v = FakeHeap::Of(value);
  if (v->kind != Kind::kNumber) return napi_number_expected;
  *result = v->number;
  return napi_ok;
}

napi_status napi_get_value_int32(napi_env, napi_value value, int32_t* result) {
  const FakeValue* v = FakeHeap::Of(value);
  if (v->kind != Kind::kNumber) return napi_number_expected;
  *result = static_cast<int32_t>(v->number);
  return napi_ok;
}

napi_status napi_get_typedarray_info(napi_env, napi_value value, napi_typedarray_type* type, size_t* length, void** data,
                                     napi_value* arraybuffer, size_t* byte_offset) {
  const FakeValue* v = FakeHeap::Of(value);
  if (v->kind != Kind::kTypedArray) return napi_invalid_arg;
  if (type != nullptr) *type = v->type;
  if (length != nullptr) *length = v->length;
  if (data != nullptr) *data = v->bytes->data();
  if (arraybuffer != nullptr) kcrypto::fuzz::Fail(__FILE__, __LINE__, "arraybuffer not modelled");
  if (byte_offset != nullptr) *byte_offset = 0;
  return napi_ok;
}

napi_status napi_is_typedarray(napi_env, napi_value value, bool* result) {
  *result = FakeHeap::Of(value)->kind == Kind::kTypedArray;
  return napi_ok;
}

napi_status napi_is_array(napi_env, napi_value value, bool* result) {
  *result = FakeHeap::Of(value)->kind == Kind::kArray;
  return napi_ok;
}

napi_status napi_get_array_length(napi_env, napi_value value, uint32_t* result) {
  const FakeValue* v = FakeHeap::Of(value);
  if (v->kind != Kind::kArray) return napi_array_expected;
  *result = v->claimed;
  return napi_ok;
}

napi_status napi_get_element(napi_env, napi_value object, uint32_t index, napi_value* result) {
  const FakeValue* v = FakeHeap::Of(object);
  if (v->kind != Kind::kArray) return napi_object_expected;
  if (index < v->elements.size()) {
    *result = v->elements[index];
    return napi_ok;
  }
  if (v->throws) return napi_pending_exception;
  *result = kcrypto::fuzz::g_heap->Undefined();
  return napi_ok;
}

napi_status napi_get_value_string_utf8(napi_env, napi_value value, char* buf, size_t bufsize, size_t* result) {
  const FakeValue* v = FakeHeap::Of(value);
  if (v->kind != Kind::kString) return napi_string_expected;
  if (buf == nullptr) {
    *result = v->text.size();
    return napi_ok;
  }
  if (bufsize == 0) {
    if (result != nullptr) *result = 0;
    return napi_ok;
  }
  const size_t n = std::min(bufsize - 1, v->text.size());
  std::memcpy(buf, v->text.data(), n);
  buf[n] = '\0';
  if (result != nullptr) *result = n;
  return napi_ok;
}

napi_status napi_get_value_double(napi_env, napi_value value, double* result) {
  const FakeValue* v = FakeHeap::Of(value);
  if (v->kind != Kind::kNumber) return napi_number_expected;
  *result = v->number;
  return napi_ok;
}

// Referred to by the error paths of node-addon-api's wrappers and by ReadRequest, which the
// harness does not call.
napi_status napi_get_last_error_info(napi_env, const napi_extended_error_info**) { Unexpected("napi_get_last_error_info"); }
napi_status napi_is_exception_pending(napi_env, bool*) { Unexpected("napi_is_exception_pending"); }
napi_status napi_get_and_clear_last_exception(napi_env, napi_value*) { Unexpected("napi_get_and_clear_last_exception"); }
napi_status napi_create_string_utf8(napi_env, const char*, size_t, napi_value*) { Unexpected("napi_create_string_utf8"); }
napi_status napi_create_error(napi_env, napi_value, napi_value, napi_value*) { Unexpected("napi_create_error"); }
napi_status napi_create_type_error(napi_env, napi_value, napi_value, napi_value*) { Unexpected("napi_create_type_error"); }
napi_status napi_throw(napi_env, napi_value) { Unexpected("napi_throw"); }
napi_status napi_create_reference(napi_env, napi_value, uint32_t, napi_ref*) { Unexpected("napi_create_reference"); }
napi_status napi_delete_reference(napi_env, napi_ref) { Unexpected("napi_delete_reference"); }
napi_status napi_get_reference_value(napi_env, napi_ref, napi_value*) { Unexpected("napi_get_reference_value"); }
napi_status napi_reference_unref(napi_env, napi_ref, uint32_t*) { Unexpected("napi_reference_unref"); }
napi_status napi_set_named_property(napi_env, napi_value, const char*, napi_value) { Unexpected("napi_set_named_property"); }
napi_status napi_get_named_property(napi_env, napi_value, const char*, napi_value*) { Unexpected("napi_get_named_property"); }
napi_status napi_create_object(napi_env, napi_value*) { Unexpected("napi_create_object"); }
napi_status napi_get_boolean(napi_env, bool, napi_value*) { Unexpected("napi_get_boolean"); }
napi_status napi_define_properties(napi_env, napi_value, size_t, const napi_property_descriptor*) { Unexpected("napi_define_properties"); }
napi_status napi_get_undefined(napi_env, napi_value*) { Unexpected("napi_get_undefined"); }
napi_status napi_strict_equals(napi_env, napi_value, napi_value, bool*) { Unexpected("napi_strict_equals"); }
napi_status napi_is_error(napi_env, napi_value, bool*) { Unexpected("napi_is_error"); }

napi_status napi_open_escapable_handle_scope(napi_env, napi_escapable_handle_scope*) { Unexpected("napi_open_escapable_handle_scope"); }
napi_status napi_close_escapable_handle_scope(napi_env, napi_escapable_handle_scope) { Unexpected("napi_close_escapable_handle_scope"); }
napi_status napi_escape_handle(napi_env, napi_escapable_handle_scope, napi_value, napi_value*) { Unexpected("napi_escape_handle"); }
napi_status napi_open_handle_scope(napi_env, napi_handle_scope*) { Unexpected("napi_open_handle_scope"); }
napi_status napi_close_handle_scope(napi_env, napi_handle_scope) { Unexpected("napi_close_handle_scope"); }
napi_status napi_has_property(napi_env, napi_value, napi_value, bool*) { Unexpected("napi_has_property"); }
napi_status napi_get_property(napi_env, napi_value, napi_value, napi_value*) { Unexpected("napi_get_property"); }
void napi_fatal_error(const char*, size_t, const char*, size_t) { Unexpected("napi_fatal_error"); }

}  // extern "C"
