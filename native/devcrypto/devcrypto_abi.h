// One /dev/crypto ABI as a table of operations: each system's request layouts, numbers and
// quirks live behind this interface (devcrypto_abi_{linux,freebsd,netbsd}.cc), and the engine
// session (devcrypto_session.cc) is written once against it. The Linux addon carries all three
// tables, because the lab's CUSE fixture emulates each system's ABI on a Linux character
// device; a BSD build carries only its own.
//
// Nothing here touches Node-API, so each ABI file also compiles on its own (the unit test
// test/unit/devcrypto-abi.test.ts builds them with -Werror on every Linux CI run).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../common/engine.h"
#include "../common/status.h"

#if defined(__linux__)
#define KCRYPTO_DEVCRYPTO_LINUX 1
#define KCRYPTO_DEVCRYPTO_FREEBSD 1
#define KCRYPTO_DEVCRYPTO_NETBSD 1
#elif defined(__FreeBSD__)
#define KCRYPTO_DEVCRYPTO_FREEBSD 1
#elif defined(__NetBSD__)
#define KCRYPTO_DEVCRYPTO_NETBSD 1
#endif

namespace kcrypto::devcrypto {

// Values shared with src/kernel/bridge/devcrypto.ts: append only.
enum class Abi : uint32_t { kCryptodevLinux = 1, kFreeBSD = 2, kNetBSD = 3 };

// Session parameters in the ABI's own numbering (the TypeScript tables translate).
struct SessionParams {
  uint32_t cipher = 0;
  uint32_t mac = 0;
  const uint8_t* key = nullptr;
  size_t key_len = 0;
  const uint8_t* mac_key = nullptr;
  size_t mac_key_len = 0;
  uint32_t iv_len = 0;   // FreeBSD session2_op.ivlen (0: the transform's default)
  uint32_t tag_len = 0;  // FreeBSD session2_op.maclen (0: full length)
  int32_t crid = -1;     // FreeBSD: driver id or CRYPTO_FLAG_* mask
};

// What the kernel says about a session (CIOCGSESSINFO, CIOCFINDDEV).
struct SessionInfo {
  std::string cipher_name;    // cryptodev-linux cra_name
  std::string cipher_driver;  // cryptodev-linux cra_driver_name; FreeBSD driver name
  std::string mac_name;
  std::string mac_driver;
  int hardware = -1;  // 1/0 when the ABI says (cryptodev-linux KERNEL_DRIVER_ONLY), else -1
  int32_t crid = -1;  // FreeBSD driver id
  uint32_t alignmask = 0;
};

// One CIOCCRYPT: a cipher pass over len bytes, or a digest of them into `mac`.
struct CryptArgs {
  uint32_t ses = 0;
  bool encrypt = true;
  const uint8_t* src = nullptr;
  uint8_t* dst = nullptr;  // cipher output (len bytes); null for digests
  size_t len = 0;
  uint8_t* mac = nullptr;       // digest output, room for kMaxDigest bytes
  const uint8_t* iv = nullptr;  // room for kMaxIv bytes (the kernel reads the session's IV size)
};

// A cipher pass over len bytes of src into dst.
inline CryptArgs CipherPass(uint32_t ses, bool encrypt, const uint8_t* src, uint8_t* dst, size_t len, const uint8_t* iv) {
  CryptArgs a;
  a.ses = ses;
  a.encrypt = encrypt;
  a.src = src;
  a.dst = dst;
  a.len = len;
  a.iv = iv;
  return a;
}

// One AEAD request (cryptodev-linux CIOCAUTHCRYPT, FreeBSD CIOCCRYPTAEAD).
struct AeadArgs {
  uint32_t ses = 0;
  bool encrypt = true;
  const uint8_t* src = nullptr;  // payload; on cryptodev-linux decrypt, payload ‖ tag
  uint8_t* dst = nullptr;        // cryptodev-linux: room for len + tag_len either way
  size_t len = 0;                // payload bytes, without the tag
  const uint8_t* aad = nullptr;
  size_t aad_len = 0;
  uint8_t* tag = nullptr;  // FreeBSD: tag out (encrypt) or in (decrypt)
  size_t tag_len = 0;
  const uint8_t* iv = nullptr;
  size_t iv_len = 0;
};

// A request the addon refuses before it reaches the kernel.
inline Status Invalid(int err = EINVAL) { return Status::Fail(err, Syscall::kValidate); }

// Largest digest and IV the kernels write or read; callers pass buffers at least this large.
inline constexpr size_t kMaxDigest = 64;
inline constexpr size_t kMaxIv = 64;

// The kernels read the session's IV size from the pointer they are given, whatever the caller
// passed: hand them a zero-padded copy of full size so they never read past the caller's IV.
struct IvBuffer {
  std::array<uint8_t, kMaxIv> bytes{};
  const uint8_t* ptr = nullptr;
  size_t len = 0;
  bool Set(const uint8_t* iv, size_t n) {
    if (n > bytes.size()) return false;
    if (iv != nullptr) {
      std::memcpy(bytes.data(), iv, n);
      ptr = bytes.data();
    }
    len = n;
    return true;
  }
};

class AbiDriver {
 public:
  virtual ~AbiDriver() = default;
  virtual Abi abi() const = 0;
  virtual const char* name() const = 0;

  virtual Status CreateSession(int fd, const SessionParams& p, uint32_t* ses, int32_t* crid) const = 0;
  // Several identical sessions; NetBSD does it in one CIOCNGSESSION.
  virtual Status CreateSessions(int fd, const SessionParams& p, size_t n, std::vector<uint32_t>* out) const;
  virtual Status FreeSession(int fd, uint32_t ses) const = 0;
  // NetBSD frees them in one CIOCNFSESSION. Errors are ignored: closing the fd frees them too.
  virtual void FreeSessions(int fd, const std::vector<uint32_t>& ses) const;
  virtual Status Describe(int fd, uint32_t ses, int32_t crid, SessionInfo* info) const;

  virtual Status Crypt(int fd, const CryptArgs& a) const = 0;
  virtual Status Aead(int fd, const AeadArgs& a) const;
  // Checks an AEAD session's keys at open, and fills in a MAC key the ABI derives from them;
  // by default an AEAD session takes no MAC.
  virtual Status CheckAeadKeys(uint32_t mac, const std::vector<uint8_t>& key, std::vector<uint8_t>* mac_key) const;
  // An ABI without an AEAD request frames AEAD requests itself over Crypt() (NetBSD: AES-GCM
  // over CIOCCRYPT); `key` is the session's cipher key.
  virtual bool frames_aead() const { return false; }
  virtual Status FramedAead(int fd, uint32_t ses, const Request& req, const std::vector<uint8_t>& key, size_t tag_len) const;

  // Multi-part hashing (cryptodev-linux only): `reset` starts a new hash in the session.
  virtual bool multipart() const { return false; }
  virtual Status HashUpdate(int fd, uint32_t ses, const uint8_t* src, size_t len, bool reset) const;
  virtual Status HashFinal(int fd, uint32_t ses, uint8_t* mac, bool reset) const;
  virtual Status CopyHash(int fd, uint32_t dst_ses, uint32_t src_ses) const;

  // Queues the requests with the kernel and collects their completions (cryptodev-linux
  // CIOCASYNCCRYPT/FETCH, NetBSD CIOCNCRYPTM/RETM, both with poll); ABIs without an async
  // interface run them one by one. `out` gets one status per request. The caller serialises
  // batches on one fd: completions come back through the fd, not the request.
  virtual void CryptBatch(int fd, const std::vector<CryptArgs>& reqs, std::vector<Status>* out) const;
  // 0: this fd's kernel supports the async interface; else why not.
  virtual int ProbeAsync(int fd) const;

  virtual Status AsymFeatures(int fd, uint32_t* mask) const;

  // FreeBSD CIOCFINDDEV: crid -1 looks `name` up, any other crid returns its name.
  virtual Status FindDevice(int fd, int32_t crid, const std::string& name, int32_t* crid_out, std::string* name_out) const;

  // Largest payload one request may carry (0: none).
  virtual size_t max_request() const { return 0; }
  // Self-description for the ABI unit test: struct sizes and request numbers.
  virtual std::vector<std::pair<const char*, uint64_t>> sizes() const = 0;
  virtual std::vector<std::pair<const char*, uint64_t>> requests() const = 0;
  virtual std::vector<std::pair<const char*, uint64_t>> constants() const = 0;
  virtual std::vector<std::pair<const char*, uint64_t>> algorithms() const = 0;
};

// The ABI tables compiled into this build (null for one that is not).
const AbiDriver* DriverFor(Abi abi);
#if defined(KCRYPTO_DEVCRYPTO_LINUX)
const AbiDriver* CryptodevLinuxDriver();
#endif
#if defined(KCRYPTO_DEVCRYPTO_FREEBSD)
const AbiDriver* FreeBSDDriver();
#endif
#if defined(KCRYPTO_DEVCRYPTO_NETBSD)
const AbiDriver* NetBSDDriver();
#endif

// The system calls of the ABI files (devcrypto_syscalls.cc; the fuzz harnesses link a simulated
// kernel instead).
namespace detail {
// ioctl(2) retried on EINTR; the Status names the system call.
Status Ioctl(int fd, unsigned long request, void* arg);
// Waits until the fd is readable (completions pending).
Status WaitReadable(int fd);
}  // namespace detail

}  // namespace kcrypto::devcrypto
