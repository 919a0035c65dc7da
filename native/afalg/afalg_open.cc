#include "afalg_open.h"

#include <fcntl.h>
#include <linux/if_alg.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../addon.h"
#include "../common/kernel_gate.h"
#include "../common/unique_fd.h"
#include "../open_args.h"
#include "../session_wrap.h"
#include "afalg_session.h"

namespace kcrypto::afalg {

namespace {

bool ParseType(const std::string& s, Type* t) {
  if (s == "hash") *t = Type::kHash;
  else if (s == "skcipher") *t = Type::kSkcipher;
  else if (s == "aead") *t = Type::kAead;
  else if (s == "rng") *t = Type::kRng;
  else return false;
  return true;
}

}  // namespace

int ProbeSocket() {
  UniqueFd fd(gate::Admit(gate::kAfAlg) ? ::socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) : -1);
  return fd.valid() ? 0 : errno;
}

namespace {

// A fresh AF_ALG socket bound to (type, name): 0 and the socket in *out, or the errno.
int BindFresh(const std::string& type, const std::string& name, UniqueFd* out) {
  UniqueFd fd(gate::Admit(gate::kAfAlg) ? ::socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) : -1);
  if (!fd.valid()) return errno;
  sockaddr_alg sa{};
  sa.salg_family = AF_ALG;
  if (type.size() >= sizeof(sa.salg_type) || name.size() >= sizeof(sa.salg_name)) return ENAMETOOLONG;
  std::memcpy(sa.salg_type, type.data(), type.size());
  std::memcpy(sa.salg_name, name.data(), name.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return errno;
  *out = std::move(fd);
  return 0;
}

}  // namespace

int ProbeBind(const std::string& type, const std::string& name) {
  UniqueFd fd;
  return BindFresh(type, name, &fd);
}

int ProbeBindSnapshot(const std::string& type, const std::string& name, const std::string& path, std::string* text) {
  UniqueFd fd;
  if (int rc = BindFresh(type, name, &fd); rc != 0) return rc;
  // The transform stays allocated while the socket is bound: what the file says now shows
  // which implementation the kernel chose (its reference count is one higher).
  text->clear();
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) return 0;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof buf);
    if (n > 0) {
      text->append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  return 0;
}

Napi::Value OpenAfAlg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* addon = static_cast<Addon*>(info.Data());
  Spec spec;
  if (info.Length() < 7 || !info[0].IsString() || !info[1].IsString()) {
    Napi::TypeError::New(env, "kcrypto: openAfAlg(type, name, key, authSize, chunkable, socketBuffer, maxRequest[, deferred])")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!ParseType(info[0].As<Napi::String>().Utf8Value(), &spec.type)) {
    MakeSystemError(env, EINVAL, "validate", "unknown AF_ALG socket type").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  (void)open_args::String(info[1], &spec.name);
  (void)open_args::Bytes(info[2], &spec.key);
  spec.auth_size = open_args::U32(info[3], 0);
  spec.chunkable = info[4].ToBoolean().Value();
  spec.socket_buffer = open_args::U32(info[5], static_cast<uint32_t>(spec.socket_buffer));
  spec.max_request = open_args::U32(info[6], 0);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  if (spec.max_request % page != 0) {
    MakeSystemError(env, EINVAL, "validate", "maxRequest must be a multiple of the page size").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // deferred: the system calls wait for an Op::kOpen job on the session's lane (a device's).
  if (info.Length() > 7 && info[7].ToBoolean().Value())
    return SessionWrap::Wrap(env, addon, std::shared_ptr<EngineSession>(Session::Deferred(std::move(spec))));
  std::unique_ptr<Session> session;
  Status st = Session::Open(std::move(spec), &session);
  if (!st.ok()) {
    MakeSystemError(env, st.err, SyscallName(st.syscall), "AF_ALG").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return SessionWrap::Wrap(env, addon, std::shared_ptr<EngineSession>(std::move(session)));
}

}  // namespace kcrypto::afalg
