#include "devcrypto_open.h"

#include <fcntl.h>
#include <unistd.h>

#if defined(__FreeBSD__)
#include <sys/sysctl.h>
#include <sys/types.h>
#endif

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "../addon.h"
#include "../common/unique_fd.h"
#include "../session_wrap.h"
#include "devcrypto_session.h"

namespace kcrypto::devcrypto {

namespace {

// FreeBSD driver ids (hids) are indexes into the framework's driver table; CIOCFINDDEV is
// tried on each to list the drivers.
constexpr int32_t kMaxCrid = 64;

const char* AbiName(Abi abi) {
  switch (abi) {
    case Abi::kCryptodevLinux: return "cryptodev-linux";
    case Abi::kFreeBSD: return "freebsd";
    case Abi::kNetBSD: return "netbsd";
  }
  return "";
}

bool ParseAbi(const Napi::Value& v, Abi* abi) {
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "cryptodev-linux" || s == "linux") *abi = Abi::kCryptodevLinux;
    else if (s == "freebsd") *abi = Abi::kFreeBSD;
    else if (s == "netbsd") *abi = Abi::kNetBSD;
    else return false;
    return true;
  }
  if (v.IsNumber()) {
    const uint32_t n = v.As<Napi::Number>().Uint32Value();
    if (n < 1 || n > 3) return false;
    *abi = static_cast<Abi>(n);
    return true;
  }
  return false;
}

// Every ABI of this build, when the caller names none.
Abi NativeAbi() {
#if defined(__FreeBSD__)
  return Abi::kFreeBSD;
#elif defined(__NetBSD__)
  return Abi::kNetBSD;
#else
  return Abi::kCryptodevLinux;
#endif
}

Napi::Value Throw(Napi::Env env, int err, const char* syscall, const std::string& what) {
  MakeSystemError(env, err, syscall, what.c_str()).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowStatus(Napi::Env env, const Status& st, const std::string& what) {
  return Throw(env, st.err, SyscallName(st.syscall), what);
}

uint32_t U32(const Napi::Object& o, const char* key, uint32_t def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : def;
}

bool Bytes(const Napi::Value& v, std::vector<uint8_t>* out) {
  if (!v.IsTypedArray()) return false;
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  if (t.TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array u = v.As<Napi::Uint8Array>();
  out->assign(u.Data(), u.Data() + u.ByteLength());
  return true;
}

bool ParseMode(const Napi::Value& v, Mode* m) {
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
  if (s == "cipher") *m = Mode::kCipher;
  else if (s == "digest") *m = Mode::kDigest;
  else if (s == "aead") *m = Mode::kAead;
  else if (s == "eta") *m = Mode::kEta;
  else return false;
  return true;
}

bool ParseChain(const Napi::Value& v, Chain* c) {
  if (v.IsUndefined() || v.IsNull()) {
    *c = Chain::kNone;
    return true;
  }
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
  if (s == "none") *c = Chain::kNone;
  else if (s == "cbc") *c = Chain::kCbc;
  else if (s == "ctr") *c = Chain::kCtr;
  else return false;
  return true;
}

Napi::Object InfoObject(Napi::Env env, const Session& s) {
  const SessionInfo& i = s.info();
  Napi::Object o = Napi::Object::New(env);
  o.Set("abi", AbiName(s.driver()->abi()));
  o.Set("cipherName", i.cipher_name);
  o.Set("cipherDriver", i.cipher_driver);
  o.Set("macName", i.mac_name);
  o.Set("macDriver", i.mac_driver);
  o.Set("hardware", i.hardware < 0 ? env.Null() : Napi::Boolean::New(env, i.hardware == 1));
  o.Set("crid", i.crid < 0 ? env.Null() : Napi::Number::New(env, i.crid));
  o.Set("alignmask", Napi::Number::New(env, i.alignmask));
  o.Set("async", Napi::Boolean::New(env, s.async()));
  o.Set("maxRequest", Napi::Number::New(env, static_cast<double>(s.max_request())));
  o.Set("multipart", Napi::Boolean::New(env, s.driver()->multipart()));
  return o;
}

// openDevCrypto({ path, abi, mode, cipher, mac, key, macKey, ivLength, tagLength, digestLength,
//                 blockLength, chain, crid, device, maxRequest, contexts }) -> { session, info }
Napi::Value OpenDevCrypto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* addon = static_cast<Addon*>(info.Data());
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "kcrypto: openDevCrypto(options)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  Spec spec;
  Napi::Value abi = o.Get("abi");
  if (abi.IsUndefined()) spec.abi = NativeAbi();
  else if (!ParseAbi(abi, &spec.abi)) return Throw(env, EINVAL, "validate", "unknown /dev/crypto ABI");
  if (!ParseMode(o.Get("mode"), &spec.mode)) return Throw(env, EINVAL, "validate", "mode must be cipher, digest, aead or eta");
  if (!ParseChain(o.Get("chain"), &spec.chain)) return Throw(env, EINVAL, "validate", "chain must be none, cbc or ctr");
  Napi::Value path = o.Get("path");
  if (path.IsString()) spec.path = path.As<Napi::String>().Utf8Value();
  spec.cipher = U32(o, "cipher", 0);
  spec.mac = U32(o, "mac", 0);
  (void)Bytes(o.Get("key"), &spec.key);
  (void)Bytes(o.Get("macKey"), &spec.mac_key);
  spec.iv_len = U32(o, "ivLength", 0);
  spec.tag_len = U32(o, "tagLength", 0);
  spec.digest_len = U32(o, "digestLength", 0);
  spec.block_len = U32(o, "blockLength", 1);
  spec.max_request = U32(o, "maxRequest", 0);
  spec.contexts = std::max(1u, U32(o, "contexts", 1));
  Napi::Value crid = o.Get("crid");
  if (crid.IsNumber()) spec.crid = crid.As<Napi::Number>().Int32Value();
  Napi::Value device = o.Get("device");
  if (device.IsString()) spec.device = device.As<Napi::String>().Utf8Value();

  const std::string what = std::string("/dev/crypto (") + AbiName(spec.abi) + ")";
  std::unique_ptr<Session> session;
  Status st = Session::Open(std::move(spec), &session);
  if (!st.ok()) return ThrowStatus(env, st, what);
  Napi::Object result = Napi::Object::New(env);
  result.Set("info", InfoObject(env, *session));
  result.Set("session", SessionWrap::Wrap(env, addon, std::shared_ptr<EngineSession>(std::move(session))));
  return result;
}

#if defined(__FreeBSD__)
Napi::Value AllowSoft(Napi::Env env) {
  int v = 0;
  size_t len = sizeof v;
  if (::sysctlbyname("kern.crypto.allow_soft", &v, &len, nullptr, 0) == 0) return Napi::Number::New(env, v);
  len = sizeof v;
  if (::sysctlbyname("kern.cryptodevallowsoft", &v, &len, nullptr, 0) == 0) return Napi::Number::New(env, v);
  return env.Null();
}
#else
Napi::Value AllowSoft(Napi::Env env) { return env.Null(); }
#endif

// devCryptoInfo(path, abi) -> { abi, compiled, open, async, asymFeatures, asymErrno, allowSoft, devices }
Napi::Value DevCryptoInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "/dev/crypto";
  Abi abi = NativeAbi();
  if (info.Length() > 1 && !info[1].IsUndefined() && !ParseAbi(info[1], &abi)) return Throw(env, EINVAL, "validate", "unknown /dev/crypto ABI");
  const AbiDriver* d = DriverFor(abi);
  Napi::Object o = Napi::Object::New(env);
  o.Set("abi", AbiName(abi));
  o.Set("path", path);
  o.Set("compiled", Napi::Boolean::New(env, d != nullptr));
  o.Set("allowSoft", AllowSoft(env));
  o.Set("async", env.Null());
  o.Set("asymFeatures", env.Null());
  o.Set("asymErrno", env.Null());
  o.Set("devices", Napi::Array::New(env));
  if (d == nullptr) {
    o.Set("open", Napi::Number::New(env, ENOTSUP));
    return o;
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  o.Set("open", Napi::Number::New(env, fd.valid() ? 0 : errno));
  if (!fd.valid()) return o;
  o.Set("async", Napi::Boolean::New(env, d->ProbeAsync(fd.get()) == 0));
  uint32_t mask = 0;
  Status st = d->AsymFeatures(fd.get(), &mask);
  o.Set("asymFeatures", st.ok() ? Napi::Number::New(env, mask) : env.Null());
  o.Set("asymErrno", Napi::Number::New(env, st.err));
  if (abi == Abi::kFreeBSD) {
    Napi::Array devices = Napi::Array::New(env);
    uint32_t n = 0;
    for (int32_t crid = 0; crid < kMaxCrid; ++crid) {
      int32_t found = -1;
      std::string name;
      if (!d->FindDevice(fd.get(), crid, std::string(), &found, &name).ok()) continue;
      Napi::Object dev = Napi::Object::New(env);
      dev.Set("crid", Napi::Number::New(env, crid));
      dev.Set("name", name);
      devices.Set(n++, dev);
    }
    o.Set("devices", devices);
  }
  return o;
}

// devCryptoFindDevice(path, abi, nameOrCrid) -> { crid, name }
Napi::Value DevCryptoFindDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Abi abi = NativeAbi();
  if (info.Length() < 3 || !info[0].IsString() || !ParseAbi(info[1], &abi) || !(info[2].IsString() || info[2].IsNumber())) {
    Napi::TypeError::New(env, "kcrypto: devCryptoFindDevice(path, abi, nameOrCrid)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const AbiDriver* d = DriverFor(abi);
  if (d == nullptr) return Throw(env, ENOTSUP, "validate", "ABI not compiled into this build");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return Throw(env, errno, "open", path);
  int32_t crid = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : -1;
  const std::string name = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string();
  int32_t found = -1;
  std::string found_name;
  Status st = d->FindDevice(fd.get(), crid, name, &found, &found_name);
  if (!st.ok()) return ThrowStatus(env, st, "CIOCFINDDEV");
  Napi::Object o = Napi::Object::New(env);
  o.Set("crid", Napi::Number::New(env, found));
  o.Set("name", found_name);
  return o;
}

// Keeps every buffer a worker's requests point into alive until it completes.
class Pins {
 public:
  void Add(const Napi::Value& v) {
    if (v.IsObject()) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

 private:
  std::vector<Napi::ObjectReference> refs_;
};

Napi::Float64Array Encode(Napi::Env env, const std::vector<Status>& results) {
  Napi::Float64Array a = Napi::Float64Array::New(env, results.size());
  for (size_t i = 0; i < results.size(); ++i) a[i] = results[i].encode();
  return a;
}

class BatchWorker final : public Napi::AsyncWorker {
 public:
  BatchWorker(Napi::Env env, std::shared_ptr<EngineSession> session, std::vector<Request> reqs, Pins pins)
      : Napi::AsyncWorker(env, "kcrypto:devcrypto:batch"),
        deferred_(Napi::Promise::Deferred::New(env)),
        session_(std::move(session)),
        reqs_(std::move(reqs)),
        pins_(std::move(pins)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override { session_->RunBatch(reqs_, &results_); }
  void OnOK() override { deferred_.Resolve(Encode(Env(), results_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<EngineSession> session_;
  std::vector<Request> reqs_;
  std::vector<Status> results_;
  Pins pins_;
};

bool AsUint8(const Napi::Value& v, uint8_t** data, size_t* len) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array u = v.As<Napi::Uint8Array>();
  *data = u.Data();
  *len = u.ByteLength();
  return true;
}

// One [op, input, output, iv, assocLen] entry, as SessionWrap.run() takes them.
bool ReadEntry(const Napi::Value& entry, Request* req, Pins* pins) {
  if (!entry.IsArray()) return false;
  Napi::Array e = entry.As<Napi::Array>();
  if (e.Length() < 5 || !e.Get(0u).IsNumber() || !e.Get(4u).IsNumber()) return false;
  req->op = static_cast<Op>(e.Get(0u).As<Napi::Number>().Uint32Value());
  req->assoc_len = e.Get(4u).As<Napi::Number>().Uint32Value();
  uint8_t* p = nullptr;
  size_t n = 0;
  Napi::Value input = e.Get(1u);
  if (AsUint8(input, &p, &n)) {
    pins->Add(input);
    if (n > 0) req->input.push_back(iovec{p, n});
  } else if (input.IsArray()) {
    Napi::Array segs = input.As<Napi::Array>();
    for (uint32_t i = 0; i < segs.Length(); ++i) {
      Napi::Value seg = segs.Get(i);
      if (!AsUint8(seg, &p, &n)) return false;
      pins->Add(seg);
      if (n > 0) req->input.push_back(iovec{p, n});
    }
  } else if (!input.IsNull() && !input.IsUndefined()) {
    return false;
  }
  Napi::Value output = e.Get(2u);
  if (AsUint8(output, &req->output, &req->output_len)) pins->Add(output);
  else if (!output.IsNull() && !output.IsUndefined()) return false;
  Napi::Value iv = e.Get(3u);
  uint8_t* ivp = nullptr;
  if (AsUint8(iv, &ivp, &req->iv_len)) {
    req->iv = ivp;
    pins->Add(iv);
  } else if (!iv.IsNull() && !iv.IsUndefined()) {
    return false;
  }
  return true;
}

// devCryptoRunBatch(session, [[op, input, output, iv, assocLen], ...]) -> Promise<Float64Array>
Napi::Value DevCryptoRunBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* addon = static_cast<Addon*>(info.Data());
  if (info.Length() < 2 || !info[1].IsArray()) {
    Napi::TypeError::New(env, "kcrypto: devCryptoRunBatch(session, requests)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::shared_ptr<EngineSession> session = SessionWrap::EngineOf(env, addon, info[0]);
  if (!session) return env.Undefined();
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<Request> reqs(list.Length());
  Pins pins;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    if (!ReadEntry(list.Get(i), &reqs[i], &pins)) {
      Napi::TypeError::New(env, "kcrypto: each request is [op, input, output, iv, assocLen]").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  auto worker = std::make_unique<BatchWorker>(env, std::move(session), std::move(reqs), std::move(pins));
  Napi::Promise promise = worker->Promise();
  worker.release()->Queue();  // the async queue owns it now and deletes it after completion
  return promise;
}

class KeyWorker final : public Napi::AsyncWorker {
 public:
  KeyWorker(Napi::Env env, const AbiDriver* driver, std::string path, std::vector<KeyRequest> reqs, Pins pins)
      : Napi::AsyncWorker(env, "kcrypto:devcrypto:key"),
        deferred_(Napi::Promise::Deferred::New(env)),
        driver_(driver),
        path_(std::move(path)),
        reqs_(std::move(reqs)),
        pins_(std::move(pins)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override {
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid()) {
      open_errno_ = errno;
      return;
    }
    if (reqs_.size() > 1) driver_->KeyBatch(fd.get(), &reqs_, &results_);  // NetBSD: CIOCNFKEYM
    else if (reqs_.size() == 1) results_.push_back(driver_->Key(fd.get(), &reqs_[0]));
  }
  void OnOK() override {
    if (open_errno_ != 0) {
      deferred_.Reject(MakeSystemError(Env(), open_errno_, "open", path_.c_str()).Value());
      return;
    }
    deferred_.Resolve(Encode(Env(), results_));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  const AbiDriver* driver_;
  std::string path_;
  std::vector<KeyRequest> reqs_;
  std::vector<Status> results_;
  Pins pins_;
  int open_errno_ = 0;
};

// A parameter: a Uint8Array (all its bits) or { data, bits }.
bool ReadParam(const Napi::Value& v, KeyParam* p, Pins* pins) {
  size_t len = 0;
  if (AsUint8(v, &p->data, &len)) {
    pins->Add(v);
    p->nbits = static_cast<uint32_t>(len * 8);
    return len <= UINT32_MAX / 8;
  }
  if (!v.IsObject()) return false;
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value data = o.Get("data");
  if (!AsUint8(data, &p->data, &len)) return false;
  pins->Add(data);
  Napi::Value bits = o.Get("bits");
  p->nbits = bits.IsNumber() ? bits.As<Napi::Number>().Uint32Value() : static_cast<uint32_t>(len * 8);
  return p->nbits <= len * 8;  // the kernel reads (nbits + 7) / 8 bytes
}

// devCryptoKey(path, abi, [{ op, inputs, outputs, crid }]) -> Promise<Float64Array>
Napi::Value DevCryptoKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Abi abi = NativeAbi();
  if (info.Length() < 3 || !info[0].IsString() || !ParseAbi(info[1], &abi) || !info[2].IsArray()) {
    Napi::TypeError::New(env, "kcrypto: devCryptoKey(path, abi, requests)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const AbiDriver* d = DriverFor(abi);
  if (d == nullptr) return Throw(env, ENOTSUP, "validate", "ABI not compiled into this build");
  Napi::Array list = info[2].As<Napi::Array>();
  std::vector<KeyRequest> reqs(list.Length());
  Pins pins;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value v = list.Get(i);
    bool ok = v.IsObject();
    if (ok) {
      Napi::Object o = v.As<Napi::Object>();
      reqs[i].op = U32(o, "op", 0);
      Napi::Value crid = o.Get("crid");
      if (crid.IsNumber()) reqs[i].crid = crid.As<Napi::Number>().Int32Value();
      Napi::Value in = o.Get("inputs"), out = o.Get("outputs");
      ok = in.IsArray() && out.IsArray();
      for (uint32_t k = 0; ok && k < in.As<Napi::Array>().Length(); ++k) {
        KeyParam p;
        ok = ReadParam(in.As<Napi::Array>().Get(k), &p, &pins);
        reqs[i].in.push_back(p);
      }
      for (uint32_t k = 0; ok && k < out.As<Napi::Array>().Length(); ++k) {
        KeyParam p;
        ok = ReadParam(out.As<Napi::Array>().Get(k), &p, &pins);
        reqs[i].out.push_back(p);
      }
    }
    if (!ok) {
      Napi::TypeError::New(env, "kcrypto: each key request is { op, inputs, outputs, crid? } of Uint8Array or { data, bits }")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  auto worker = std::make_unique<KeyWorker>(env, d, info[0].As<Napi::String>().Utf8Value(), std::move(reqs), std::move(pins));
  Napi::Promise promise = worker->Promise();
  worker.release()->Queue();  // the async queue owns it now and deletes it after completion
  return promise;
}

Napi::Object Pairs(Napi::Env env, const std::vector<std::pair<const char*, uint64_t>>& pairs) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [name, value] : pairs) o.Set(name, Napi::Number::New(env, static_cast<double>(value)));
  return o;
}

// devCryptoAbiTable(abi) -> { abi, pointerBytes, maxRequest, multipart, sizes, requests, constants, algorithms } | null
Napi::Value DevCryptoAbiTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Abi abi = NativeAbi();
  if (info.Length() < 1 || !ParseAbi(info[0], &abi)) return Throw(env, EINVAL, "validate", "unknown /dev/crypto ABI");
  const AbiDriver* d = DriverFor(abi);
  if (d == nullptr) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("abi", d->name());
  o.Set("pointerBytes", Napi::Number::New(env, sizeof(void*)));
  o.Set("maxRequest", Napi::Number::New(env, static_cast<double>(d->max_request())));
  o.Set("multipart", Napi::Boolean::New(env, d->multipart()));
  o.Set("sizes", Pairs(env, d->sizes()));
  o.Set("requests", Pairs(env, d->requests()));
  o.Set("constants", Pairs(env, d->constants()));
  o.Set("algorithms", Pairs(env, d->algorithms()));
  return o;
}

// devCryptoAbis() -> the ABIs this build carries.
Napi::Value DevCryptoAbis(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  uint32_t n = 0;
  for (Abi abi : {Abi::kCryptodevLinux, Abi::kFreeBSD, Abi::kNetBSD})
    if (DriverFor(abi) != nullptr) a.Set(n++, Napi::String::New(env, AbiName(abi)));
  return a;
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports, Addon* addon) {
  exports.Set("openDevCrypto", Napi::Function::New(env, OpenDevCrypto, "openDevCrypto", addon));
  exports.Set("devCryptoInfo", Napi::Function::New(env, DevCryptoInfo, "devCryptoInfo", addon));
  exports.Set("devCryptoFindDevice", Napi::Function::New(env, DevCryptoFindDevice, "devCryptoFindDevice", addon));
  exports.Set("devCryptoKey", Napi::Function::New(env, DevCryptoKey, "devCryptoKey", addon));
  exports.Set("devCryptoRunBatch", Napi::Function::New(env, DevCryptoRunBatch, "devCryptoRunBatch", addon));
  exports.Set("devCryptoAbiTable", Napi::Function::New(env, DevCryptoAbiTable, "devCryptoAbiTable", addon));
  exports.Set("devCryptoAbis", Napi::Function::New(env, DevCryptoAbis, "devCryptoAbis", addon));
}

}  // namespace kcrypto::devcrypto
