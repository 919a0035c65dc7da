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
#include "../common/kernel_gate.h"
#include "../common/unique_fd.h"
#include "../open_args.h"
#include "../request_args.h"
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
//                 blockLength, chain, crid, device, maxRequest, contexts, deferred }) -> { session, info }
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
  (void)open_args::String(o.Get("path"), &spec.path);
  spec.cipher = open_args::U32(o.Get("cipher"), 0);
  spec.mac = open_args::U32(o.Get("mac"), 0);
  (void)open_args::Bytes(o.Get("key"), &spec.key);
  (void)open_args::Bytes(o.Get("macKey"), &spec.mac_key);
  spec.iv_len = open_args::U32(o.Get("ivLength"), 0);
  spec.tag_len = open_args::U32(o.Get("tagLength"), 0);
  spec.digest_len = open_args::U32(o.Get("digestLength"), 0);
  spec.block_len = open_args::U32(o.Get("blockLength"), 1);
  spec.max_request = open_args::U32(o.Get("maxRequest"), 0);
  spec.contexts = std::max(1u, open_args::U32(o.Get("contexts"), 1));
  spec.crid = open_args::I32(o.Get("crid"), spec.crid);
  (void)open_args::String(o.Get("device"), &spec.device);

  // deferred: the system calls wait for an Op::kOpen job on the session's lane (a device's);
  // nothing is known of the kernel's choice until then (info: null).
  const bool deferred = o.Get("deferred").ToBoolean().Value();

  const std::string what = std::string("/dev/crypto (") + AbiName(spec.abi) + ")";
  std::unique_ptr<Session> session;
  Status st = deferred ? Session::Deferred(std::move(spec), &session) : Session::Open(std::move(spec), &session);
  if (!st.ok()) return ThrowStatus(env, st, what);
  Napi::Object result = Napi::Object::New(env);
  result.Set("info", deferred ? env.Null() : Napi::Value(InfoObject(env, *session)));
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
  if (info.Length() > 1 && !info[1].IsUndefined() && !ParseAbi(info[1], &abi))
    return Throw(env, EINVAL, "validate", "unknown /dev/crypto ABI");
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
  UniqueFd fd(gate::Admit(gate::kDevCrypto) ? ::open(path.c_str(), O_RDWR | O_CLOEXEC) : -1);
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
  UniqueFd fd(gate::Admit(gate::kDevCrypto) ? ::open(path.c_str(), O_RDWR | O_CLOEXEC) : -1);
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

// One [op, input, output, iv, assocLen] entry, read as SessionWrap.run() reads its arguments.
bool ReadEntry(Napi::Env env, const Napi::Value& entry, Request* req, Pins* pins) {
  if (!entry.IsArray()) return false;
  Napi::Array e = entry.As<Napi::Array>();
  if (e.Length() < 5) return false;
  napi_value fields[5];
  for (uint32_t i = 0; i < 5; ++i) fields[i] = e.Get(i);
  std::vector<napi_value> buffers;
  if (ParseRequest(env, fields, req, &buffers) != nullptr) return false;
  for (napi_value b : buffers) pins->Add(Napi::Value(env, b));
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
    if (!ReadEntry(env, list.Get(i), &reqs[i], &pins)) {
      Napi::TypeError::New(env, "kcrypto: each request is [op, input, output, iv, assocLen]").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  auto worker = std::make_unique<BatchWorker>(env, std::move(session), std::move(reqs), std::move(pins));
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
  exports.Set("devCryptoRunBatch", Napi::Function::New(env, DevCryptoRunBatch, "devCryptoRunBatch", addon));
  exports.Set("devCryptoAbiTable", Napi::Function::New(env, DevCryptoAbiTable, "devCryptoAbiTable", addon));
  exports.Set("devCryptoAbis", Napi::Function::New(env, DevCryptoAbis, "devCryptoAbis", addon));
}

}  // namespace kcrypto::devcrypto
