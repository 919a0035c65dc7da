// The ABI tables' shared defaults. The two system calls they make, detail::Ioctl and
// detail::WaitReadable, live in devcrypto_syscalls.cc, so that a test build can link these
// tables against a simulated kernel instead.
#include "devcrypto_abi.h"

#include <cerrno>

namespace kcrypto::devcrypto {

namespace {
Status Unsupported() { return Status::Fail(ENOTSUP, Syscall::kValidate); }
}  // namespace

Status AbiDriver::CreateSessions(int fd, const SessionParams& p, size_t n, std::vector<uint32_t>* out) const {
  std::vector<uint32_t> made;
  for (size_t i = 0; i < n; ++i) {
    uint32_t ses = 0;
    int32_t crid = -1;
    Status st = CreateSession(fd, p, &ses, &crid);
    if (!st.ok()) {
      FreeSessions(fd, made);
      return st;
    }
    made.push_back(ses);
  }
  out->insert(out->end(), made.begin(), made.end());
  return Status::Ok();
}

void AbiDriver::FreeSessions(int fd, const std::vector<uint32_t>& ses) const {
  for (uint32_t s : ses) (void)FreeSession(fd, s);
}

Status AbiDriver::Describe(int, uint32_t, int32_t, SessionInfo*) const { return Status::Ok(); }
Status AbiDriver::Aead(int, const AeadArgs&) const { return Unsupported(); }
Status AbiDriver::CheckAeadKeys(uint32_t mac, const std::vector<uint8_t>&, std::vector<uint8_t>*) const {
  return mac == 0 ? Status::Ok() : Status::Fail(EINVAL, Syscall::kValidate);
}
Status AbiDriver::FramedAead(int, uint32_t, const Request&, const std::vector<uint8_t>&, size_t) const { return Unsupported(); }
Status AbiDriver::HashUpdate(int, uint32_t, const uint8_t*, size_t, bool) const { return Unsupported(); }
Status AbiDriver::HashFinal(int, uint32_t, uint8_t*, bool) const { return Unsupported(); }
Status AbiDriver::CopyHash(int, uint32_t, uint32_t) const { return Unsupported(); }

void AbiDriver::CryptBatch(int fd, const std::vector<CryptArgs>& reqs, std::vector<Status>* out) const {
  out->clear();
  out->reserve(reqs.size());
  for (const CryptArgs& a : reqs) out->push_back(Crypt(fd, a));
}

int AbiDriver::ProbeAsync(int) const { return ENOTSUP; }
Status AbiDriver::AsymFeatures(int, uint32_t*) const { return Unsupported(); }

Status AbiDriver::FindDevice(int, int32_t, const std::string&, int32_t*, std::string*) const { return Unsupported(); }

const AbiDriver* DriverFor(Abi abi) {
  switch (abi) {
#if defined(KCRYPTO_DEVCRYPTO_LINUX)
    case Abi::kCryptodevLinux: return CryptodevLinuxDriver();
#endif
#if defined(KCRYPTO_DEVCRYPTO_FREEBSD)
    case Abi::kFreeBSD: return FreeBSDDriver();
#endif
#if defined(KCRYPTO_DEVCRYPTO_NETBSD)
    case Abi::kNetBSD: return NetBSDDriver();
#endif
    default: return nullptr;
  }
}

}  // namespace kcrypto::devcrypto
