// Fuzzes the reading of a request's arguments from JavaScript (native/request_args.cc:
// ParseRequest, ParseBuffers) and of the engines' open options (native/open_args.h) over the
// fake Node-API of fake_napi.cc. The request that comes out is checked against an independent
// reading of the values: every input segment, the output and the IV point into the typed
// arrays given, with their byte lengths, in order, and each buffer a request points into is
// among the ones the reader keeps alive.
#include <algorithm>
#include <cstring>

#include "fake_napi.h"
#include "open_args.h"
#include "request_args.h"

using kcrypto::Op;
using kcrypto::ParseBuffers;
using kcrypto::ParseRequest;
using kcrypto::Request;
using kcrypto::fuzz::FakeHeap;
using kcrypto::fuzz::FakeValue;
using kcrypto::fuzz::Kind;

namespace {

bool IsBytes(napi_value v) {
  const FakeValue* f = FakeHeap::Of(v);
  return f->kind == Kind::kTypedArray && f->type == napi_uint8_array;
}

bool IsNullish(napi_value v) {
  const Kind k = FakeHeap::Of(v)->kind;
  return k == Kind::kNull || k == Kind::kUndefined;
}

// What the reader should make of the values: null when it must refuse them.
struct Expected {
  std::vector<std::pair<const uint8_t*, size_t>> input;
  std::vector<napi_value> input_values;
  const uint8_t* output = nullptr;
  size_t output_len = 0;
  const uint8_t* iv = nullptr;
  size_t iv_len = 0;
};

bool Expect(napi_value input, napi_value output, napi_value iv, Expected* e) {
  auto take = [e](napi_value v) {
    const FakeValue* f = FakeHeap::Of(v);
    e->input_values.push_back(v);
    if (f->length > 0) e->input.emplace_back(f->bytes->data(), f->length);
  };
  const FakeValue* in = FakeHeap::Of(input);
  if (IsBytes(input)) {
    take(input);
  } else if (in->kind == Kind::kArray) {
    for (uint32_t i = 0; i < in->claimed; ++i) {
      if (i >= in->elements.size()) return false;  // a hole reads as undefined, or throws
      if (!IsBytes(in->elements[i])) return false;
      take(in->elements[i]);
    }
  } else if (!IsNullish(input)) {
    return false;
  }
  for (auto [value, ptr, len] :
       {std::tuple{output, &e->output, &e->output_len}, std::tuple{iv, const_cast<const uint8_t**>(&e->iv), &e->iv_len}}) {
    if (value == nullptr || IsNullish(value)) continue;
    if (!IsBytes(value)) return false;
    *ptr = FakeHeap::Of(value)->bytes->data();
    *len = FakeHeap::Of(value)->length;
  }
  return true;
}

bool Kept(const std::vector<napi_value>& kept, napi_value v) { return std::find(kept.begin(), kept.end(), v) != kept.end(); }

void CheckRequest(const Request& req, const Expected& e, napi_value output, napi_value iv, const std::vector<napi_value>* kept) {
  FUZZ_CHECK(req.input.size() == e.input.size());
  uint32_t sum = 0;
  for (size_t i = 0; i < e.input.size(); ++i) {
    FUZZ_CHECK(req.input[i].iov_base == e.input[i].first && req.input[i].iov_len == e.input[i].second);
    const auto* p = static_cast<const uint8_t*>(req.input[i].iov_base);
    for (size_t k = 0; k < req.input[i].iov_len; ++k) sum += p[k];  // every byte readable (ASan)
  }
  FUZZ_CHECK(req.output == e.output && req.output_len == e.output_len);
  FUZZ_CHECK(req.iv == e.iv && req.iv_len == e.iv_len);
  if (req.output_len > 0) std::memset(req.output, static_cast<int>(sum), req.output_len);  // writable (ASan)
  for (size_t k = 0; k < req.iv_len; ++k) sum += req.iv[k];
  if (kept == nullptr) return;
  // Whatever the request points into stays alive while the request runs.
  for (napi_value v : e.input_values) FUZZ_CHECK(Kept(*kept, v));
  if (req.output != nullptr) FUZZ_CHECK(Kept(*kept, output));
  if (req.iv != nullptr) FUZZ_CHECK(Kept(*kept, iv));
}

void FuzzRequest(FakeHeap* heap, FuzzedDataProvider* in) {
  const bool whole = in->ConsumeBool();
  napi_value fields[5];
  for (napi_value& f : fields) f = heap->Make(in, 2);
  Request req;
  std::vector<napi_value> kept;
  Expected e;
  if (whole) {
    const bool numbers = FakeHeap::Of(fields[0])->kind == Kind::kNumber && FakeHeap::Of(fields[4])->kind == Kind::kNumber;
    const bool ok = Expect(fields[1], fields[2], fields[3], &e) && numbers;
    const char* error = ParseRequest(heap->env(), fields, &req, &kept);
    FUZZ_CHECK((error == nullptr) == ok);
    if (!ok) return;
    FUZZ_CHECK(static_cast<uint32_t>(req.op) == FakeHeap::Of(fields[0])->number);
    FUZZ_CHECK(req.assoc_len == FakeHeap::Of(fields[4])->number);
    CheckRequest(req, e, fields[2], fields[3], &kept);
    return;
  }
  // submit(): output and IV absent as the caller knew (null napi_value), no keep list.
  napi_value output = in->ConsumeBool() ? nullptr : fields[2];
  napi_value iv = in->ConsumeBool() ? nullptr : fields[3];
  const bool keep = in->ConsumeBool();
  // A request object reused from an earlier job: the reader must reset every field.
  if (in->ConsumeBool()) {
    static uint8_t stale[4];
    req.input.push_back(iovec{stale, sizeof stale});
    req.output = stale;
    req.output_len = sizeof stale;
    req.iv = stale;
    req.iv_len = sizeof stale;
  }
  const bool ok = Expect(fields[1], output, iv, &e);
  const char* error = ParseBuffers(heap->env(), fields[1], output, iv, &req, keep ? &kept : nullptr);
  FUZZ_CHECK((error == nullptr) == ok);
  if (ok) CheckRequest(req, e, output, iv, keep ? &kept : nullptr);
}

// The open options: each reader takes its kind and leaves the default (or the output) alone
// for any other.
void FuzzOpenArgs(FakeHeap* heap, FuzzedDataProvider* in) {
  namespace oa = kcrypto::open_args;
  for (int i = in->ConsumeIntegralInRange<int>(1, 8); i > 0; --i) {
    napi_value raw = heap->Make(in, 1);
    const FakeValue* f = FakeHeap::Of(raw);
    Napi::Value v(heap->env(), raw);
    const uint32_t def = in->ConsumeIntegral<uint32_t>();
    FUZZ_CHECK(oa::U32(v, def) == (f->kind == Kind::kNumber ? f->number : def));
    FUZZ_CHECK(oa::I32(v, static_cast<int32_t>(def)) == static_cast<int32_t>(f->kind == Kind::kNumber ? f->number : def));
    std::string s = "unchanged";
    FUZZ_CHECK(oa::String(v, &s) == (f->kind == Kind::kString));
    FUZZ_CHECK(s == (f->kind == Kind::kString ? f->text : "unchanged"));
    std::vector<uint8_t> key(3, 7);
    const bool bytes = IsBytes(raw);
    FUZZ_CHECK(oa::Bytes(v, &key) == bytes);
    if (bytes) FUZZ_CHECK(key.size() == f->length && (f->length == 0 || std::memcmp(key.data(), f->bytes->data(), f->length) == 0));
    else FUZZ_CHECK(key == std::vector<uint8_t>(3, 7));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  FakeHeap heap;
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0) FuzzOpenArgs(&heap, &in);
  else FuzzRequest(&heap, &in);
  return 0;
}
