// A simulated /dev/crypto kernel for the fuzz harnesses: it stands in for the ABI tables'
// system calls (detail::Ioctl and detail::WaitReadable, native/devcrypto/devcrypto_syscalls.cc)
// and, for each request number of the three ABIs, decodes the argument as that system's kernel
// would, checks every pointer and length it would follow, then reads and writes those ranges
// as the kernel would (so AddressSanitizer sees them too) and answers with results and errnos
// chosen by the fuzz input: failed and partial requests, per-entry errors, a full async ring,
// completions out of order or fetched later.
//
// A range is accepted when it lies inside one buffer the harness registered (writes only into
// writable ones), or, for the addon's own memory (its IV and digest copies, scratch and struct
// arrays), when AddressSanitizer says every byte of it is addressable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "devcrypto/devcrypto_abi.h"
#include "fuzz_check.h"

namespace kcrypto::fuzz {

class DevCryptoKernel {
 public:
  DevCryptoKernel(devcrypto::Abi abi, FuzzedDataProvider* in);
  ~DevCryptoKernel();

  void Register(const void* p, size_t n, bool writable);
  // Forgets the registered buffers (before the harness frees them).
  void Unregister() { ranges_.clear(); }
  // Sessions the addon holds (made and not freed).
  size_t live_sessions() const { return sessions_.size(); }
  bool Exists(uint32_t ses) const { return sessions_.count(ses) != 0; }
  // Requests queued or completed and not yet collected.
  size_t outstanding() const { return queued_.size() + done_.size(); }

  Status Ioctl(unsigned long request, void* arg);
  Status WaitReadable();

 private:
  struct Session {
    bool cipher = false;
    bool mac = false;
    uint32_t iv_size = 0;      // bytes the kernel reads at iv
    uint32_t digest_size = 0;  // bytes it writes at mac
  };
  // One queued request (cryptodev-linux CIOCASYNCCRYPT, NetBSD CIOCNCRYPTM): the kernel works
  // on its buffers when it completes, after the submitting call has returned.
  struct Job {
    uint32_t ses = 0;
    uint32_t reqid = 0;
    void* opaque = nullptr;
    const uint8_t* src = nullptr;
    uint8_t* dst = nullptr;
    uint8_t* mac = nullptr;
    const uint8_t* iv = nullptr;
    size_t len = 0;
    int status = 0;
    uint8_t raw[128] = {};  // cryptodev-linux: the crypt_op, copied back by CIOCASYNCFETCH
  };
  struct Range {
    const uint8_t* p;
    size_t n;
    bool writable;
  };

  int Errno();  // 0 mostly, else an errno the kernel can return
  void Read(const void* p, size_t n, const char* what);
  void Write(void* p, size_t n, const char* what);
  void CheckRange(const void* p, size_t n, bool write, const char* what);
  Session& Known(uint32_t ses, const char* what);
  uint32_t NewSession(uint32_t cipher, uint32_t mac, const void* key, size_t keylen, const void* mackey, size_t mackeylen, uint32_t ivlen,
                      uint32_t maclen);
  void Free(uint32_t ses);
  // The memory a cipher/digest request touches: src, dst, the session's IV and digest.
  void RunCrypt(const Session& s, const uint8_t* src, uint8_t* dst, size_t len, uint8_t* mac, const uint8_t* iv, bool final);
  void Complete(Job* job);

  Status Linux(unsigned long request, void* arg);
  Status FreeBSD(unsigned long request, void* arg);
  Status NetBSD(unsigned long request, void* arg);

  devcrypto::Abi abi_;
  FuzzedDataProvider* in_;
  std::vector<Range> ranges_;
  std::map<uint32_t, Session> sessions_;
  uint32_t next_ses_ = 1;
  uint32_t next_reqid_ = 1;
  int strays_ = 0;
  std::deque<Job> queued_;
  std::deque<Job> done_;
};

// The kernel the system calls of the linked ABI tables go to (null: none; a call then fails).
extern DevCryptoKernel* g_kernel;

}  // namespace kcrypto::fuzz
