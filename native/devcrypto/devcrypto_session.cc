#include "devcrypto_session.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "../common/iovec_cursor.h"
#include "../common/kernel_gate.h"
#include "../common/wipe.h"
#include "abi/freebsd.h"

namespace kcrypto::devcrypto {

namespace {

// 128-bit-style big-endian counter over the whole IV, as FreeBSD's AES_ICM uses it.
void AddCounter(uint8_t* iv, size_t len, uint64_t blocks) {
  for (size_t i = len; i > 0 && blocks != 0; --i) {
    const uint64_t sum = static_cast<uint64_t>(iv[i - 1]) + (blocks & 0xff);
    iv[i - 1] = static_cast<uint8_t>(sum);
    blocks = (blocks >> 8) + (sum >> 8);
  }
}

}  // namespace

Status Session::Open(Spec spec, std::unique_ptr<Session>* out) {
  std::unique_ptr<Session> s;
  Status st = Deferred(std::move(spec), &s);
  if (st.ok()) st = s->Open();
  if (st.ok()) *out = std::move(s);
  return st;
}

// The spec, checked and completed; no system call.
Status Session::Deferred(Spec spec, std::unique_ptr<Session>* out) {
  std::unique_ptr<Session> s(new Session());  // private constructor: make_unique cannot reach it
  s->spec_ = std::move(spec);
  Spec& sp = s->spec_;
  auto fail = [&sp](Status st) {
    Wipe(&sp.key);
    Wipe(&sp.mac_key);
    return st;
  };

  s->driver_ = DriverFor(sp.abi);
  if (s->driver_ == nullptr) return fail(Invalid(ENOTSUP));  // an ABI this build does not carry
  const Abi abi = sp.abi;
  switch (sp.mode) {
    case Mode::kCipher:
      if (sp.cipher == 0 || sp.mac != 0) return fail(Invalid());
      break;
    case Mode::kDigest:
      if (sp.mac == 0 || sp.cipher != 0 || sp.digest_len == 0 || sp.digest_len > kMaxDigest) return fail(Invalid());
      break;
    case Mode::kAead:
      if (sp.cipher == 0) return fail(Invalid());
      if (sp.mac_key.empty()) {
        Status st = s->driver_->CheckAeadKeys(sp.mac, sp.key.bytes(), sp.mac_key.Fill());
        sp.mac_key.Adopted();
        if (!st.ok()) return fail(st);
      } else {
        // The ABI leaves a MAC key it was given as it is: a scratch vector it cannot grow.
        std::vector<uint8_t> given(sp.mac_key.data(), sp.mac_key.data() + sp.mac_key.size());
        Status st = s->driver_->CheckAeadKeys(sp.mac, sp.key.bytes(), &given);
        SecureZero(given.data(), given.size());
        if (!st.ok()) return fail(st);
      }
      if (sp.tag_len == 0) sp.tag_len = 16;
      break;
    case Mode::kEta:
      // cryptodev-linux only offers its TLS/SRTP framings for cipher+MAC sessions, NetBSD
      // neither takes AAD nor verifies: only FreeBSD has generic encrypt-then-authenticate.
      if (abi != Abi::kFreeBSD) return fail(Invalid(ENOTSUP));
      if (sp.cipher == 0 || sp.mac == 0) return fail(Invalid());
      if (sp.tag_len == 0) sp.tag_len = sp.digest_len;
      if (sp.tag_len == 0) return fail(Invalid());
      break;
    default: return fail(Invalid());
  }
  if (sp.tag_len > kMaxDigest || sp.iv_len > kMaxIv || sp.block_len == 0) return fail(Invalid());
  if (sp.chain == Chain::kCtr) sp.block_len = 16;
  if (sp.abi == Abi::kFreeBSD && sp.crid == -1) sp.crid = static_cast<int32_t>(freebsd_abi::CRYPTO_FLAG_HARDWARE);
  *out = std::move(s);
  return Status::Ok();
}

Status Session::Open() {
  return open_.Run([this] { return OpenNow(); });
}

Status Session::OpenNow() {
  Status st = Connect();
  if (!st.ok()) {
    // Nothing will use the keys: the session is dead.
    Wipe(&spec_.key);
    Wipe(&spec_.mac_key);
  }
  return st;
}

// The system calls of an open: the device, the driver lookup, the kernel sessions, the facts.
// Committed to the session whole, under its lock; on a failure the descriptor closes here, and
// the kernel frees the sessions made on it with it.
Status Session::Connect() {
  Spec& sp = spec_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Invalid(EBADF);
  }
  UniqueFd device(gate::Admit(gate::kDevCrypto) ? ::open(sp.path.c_str(), O_RDWR | O_CLOEXEC) : -1);
  if (!device.valid()) return Status::FromErrno(Syscall::kOpen);
  const int fd = device.get();

  if (!sp.device.empty()) {
    int32_t crid = -1;
    std::string name;
    Status st = driver_->FindDevice(fd, -1, sp.device, &crid, &name);
    if (!st.ok()) return st;
    sp.crid = crid;
  }
  const int32_t requested_crid = sp.crid;

  std::vector<uint32_t> made(1, 0);
  int32_t crid = -1;
  if (Status st = driver_->CreateSession(fd, Params(sp.iv_len), &made[0], &crid); !st.ok()) return st;
  // Later sessions go to the driver the kernel chose for the first, so that every request of
  // this engine session runs on the driver it reports.
  if (sp.abi == Abi::kFreeBSD && crid >= 0) sp.crid = crid;
  if (sp.contexts > 1) {
    std::vector<uint32_t> more;
    if (Status st = driver_->CreateSessions(fd, Params(sp.iv_len), sp.contexts - 1, &more); !st.ok()) return st;
    made.insert(made.end(), more.begin(), more.end());
  }

  // Reporting only: an older module without CIOCGSESSINFO still gives a working session.
  SessionInfo info;
  (void)driver_->Describe(fd, made[0], crid, &info);
  if (sp.abi == Abi::kFreeBSD) {
    info.crid = crid;
    const uint32_t flags = static_cast<uint32_t>(requested_crid);
    const uint32_t hw = freebsd_abi::CRYPTO_FLAG_HARDWARE, sw = freebsd_abi::CRYPTO_FLAG_SOFTWARE;
    if ((flags & (hw | sw)) == hw) info.hardware = 1;
    else if ((flags & (hw | sw)) == sw) info.hardware = 0;
  }
  const bool async = driver_->ProbeAsync(fd) == 0;

  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Invalid(EBADF);
  fd_ = std::move(device);
  all_ = made;
  for (uint32_t ses : made) pool_.Add({ses, sp.iv_len});
  info_ = std::move(info);
  async_ = async;
  return Status::Ok();
}

Session::~Session() { Close(); }

size_t Session::tag_len() const { return spec_.tag_len; }

// The parameters of every kernel session this engine session makes: the spec's, with the
// nonce length of the pool they go to.
SessionParams Session::Params(uint32_t iv_len) const {
  SessionParams p;
  p.cipher = spec_.cipher;
  p.mac = spec_.mac;
  p.key = spec_.key.data();
  p.key_len = spec_.key.size();
  p.mac_key = spec_.mac_key.data();
  p.mac_key_len = spec_.mac_key.size();
  p.iv_len = iv_len;
  p.tag_len = spec_.mode == Mode::kCipher ? 0 : spec_.tag_len;
  p.crid = spec_.crid;
  return p;
}

// The nonce length of the kernel session a request needs: its own for a FreeBSD AEAD, whose
// sessions each take one length; the spec's everywhere else (the IV length is not a session
// parameter there, or the mode has a single one).
uint32_t Session::SessionIvLen(const Request& req) const {
  if (spec_.abi == Abi::kFreeBSD && spec_.mode == Mode::kAead && req.iv != nullptr && req.iv_len != 0 && req.iv_len <= kMaxIv)
    return static_cast<uint32_t>(req.iv_len);
  return spec_.iv_len;
}

Status Session::NewSession(uint32_t iv_len, uint32_t* ses) {
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Invalid(EBADF);
    fd = fd_.get();
  }
  int32_t crid = -1;
  Status st = driver_->CreateSession(fd, Params(iv_len), ses, &crid);
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  all_.push_back(*ses);
  return Status::Ok();
}

Status Session::Acquire(uint32_t iv_len, uint32_t* ses, int* fd) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Invalid(EBADF);
    *fd = fd_.get();
    Pooled p;
    if (pool_.Lend([iv_len](const Pooled& c) { return c.iv_len == iv_len; }, &p)) {
      *ses = p.ses;
      return Status::Ok();
    }
  }
  Status st = NewSession(iv_len, ses);
  if (!st.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    pool_.Cancel();
  }
  return st;
}

void Session::Release(uint32_t ses, uint32_t iv_len) {
  std::lock_guard<std::mutex> lock(mu_);
  pool_.Return({ses, iv_len}, !closed_);
}

Status Session::Run(const Request& req) {
  if (Status st = Opened(); !st.ok()) return st;
  if (req.op == Op::kHashUpdate || req.op == Op::kHashFinal) return RunStream(req);
  if (req.op == Op::kRandom) return Invalid(ENOTSUP);  // no RNG on /dev/crypto
  uint32_t ses = 0;
  int fd = -1;
  const uint32_t iv_len = SessionIvLen(req);
  Status st = Acquire(iv_len, &ses, &fd);
  if (!st.ok()) return st;
  switch (spec_.mode) {
    case Mode::kCipher: st = RunCipher(fd, ses, req); break;
    case Mode::kDigest: st = RunDigest(fd, ses, req); break;
    case Mode::kAead:
    case Mode::kEta:
      st = driver_->frames_aead() ? driver_->FramedAead(fd, ses, req, spec_.key.bytes(), tag_len()) : RunAead(fd, ses, req);
      break;
  }
  Release(ses, iv_len);
  return st;
}

Status Session::RunCipher(int fd, uint32_t ses, const Request& req) {
  if (req.op != Op::kEncrypt && req.op != Op::kDecrypt) return Invalid();
  const bool encrypt = req.op == Op::kEncrypt;
  const size_t total = req.input_len();
  if (total == 0) return Status::Ok(0);
  if (req.output_len < total) return Invalid();  // the kernel writes len bytes at dst
  IvBuffer iv;
  if (!iv.Set(req.iv, req.iv_len)) return Invalid();
  std::vector<uint8_t> scratch;

  const size_t limit = max_request();
  if (limit == 0 || total <= limit) {
    return driver_->Crypt(fd, CipherPass(ses, encrypt, Contiguous(req.input, 0, total, &scratch), req.output, total, iv.ptr));
  }

  // Longer than one request may be (FreeBSD: 256 KiB - 4): split on block boundaries, carrying
  // the IV ourselves, since no BSD kernel writes it back.
  if (spec_.chain == Chain::kNone || iv.ptr == nullptr) return Invalid(E2BIG);
  const size_t block = spec_.block_len;
  if (total % block != 0 || iv.len < block) return Invalid();
  const size_t chunk = limit / block * block;
  if (chunk == 0) return Invalid(E2BIG);
  std::array<uint8_t, kMaxIv> carry{};
  size_t done = 0;
  while (done < total) {
    const size_t n = std::min(chunk, total - done);
    const CryptArgs a = CipherPass(ses, encrypt, Contiguous(req.input, done, n, &scratch), req.output + done, n, iv.ptr);
    // CBC decryption chains on the ciphertext, which an in-place request is about to overwrite.
    if (spec_.chain == Chain::kCbc && !encrypt) std::memcpy(carry.data(), a.src + n - block, block);
    Status st = driver_->Crypt(fd, a);
    if (!st.ok()) return st;
    if (spec_.chain == Chain::kCbc) {
      std::memcpy(iv.bytes.data() + iv.len - block, encrypt ? a.dst + n - block : carry.data(), block);
    } else {
      AddCounter(iv.bytes.data(), iv.len, n / block);
    }
    done += n;
  }
  return Status::Ok(total);
}

Status Session::RunDigest(int fd, uint32_t ses, const Request& req) {
  if (req.op != Op::kDigest) return Invalid();
  const size_t total = req.input_len();
  const size_t limit = max_request();
  if (limit != 0 && total > limit) return Invalid(E2BIG);  // a BSD digest cannot be continued
  std::vector<uint8_t> scratch;
  std::array<uint8_t, kMaxDigest> mac{};
  CryptArgs a;
  a.ses = ses;
  a.src = Contiguous(req.input, 0, total, &scratch);
  a.len = total;
  a.mac = mac.data();
  Status st = driver_->Crypt(fd, a);
  if (!st.ok()) return st;
  const size_t n = std::min<size_t>(spec_.digest_len, req.output_len);
  if (n > 0) std::memcpy(req.output, mac.data(), n);
  return Status::Ok(n);
}

// Input: AAD ‖ plaintext (encrypt) or AAD ‖ ciphertext ‖ tag (decrypt), as on AF_ALG.
// Output: ciphertext ‖ tag, or plaintext.
Status Session::RunAead(int fd, uint32_t ses, const Request& req) {
  if (req.op != Op::kEncrypt && req.op != Op::kDecrypt) return Invalid();
  const bool encrypt = req.op == Op::kEncrypt;
  const size_t total = req.input_len();
  const size_t aad = req.assoc_len;
  const size_t tag = tag_len();
  if (aad > total || (!encrypt && total - aad < tag)) return Invalid();
  const size_t payload = encrypt ? total - aad : total - aad - tag;
  const size_t limit = max_request();
  if (limit != 0 && (payload > limit || aad > limit)) return Invalid(E2BIG);  // an AEAD cannot be split
  if (req.output_len < (encrypt ? payload + tag : payload)) return Invalid();
  IvBuffer iv;
  if (!iv.Set(req.iv, req.iv_len)) return Invalid();

  std::vector<uint8_t> aad_scratch, src_scratch, bounce;
  AeadArgs a;
  a.ses = ses;
  a.encrypt = encrypt;
  a.aad = Contiguous(req.input, 0, aad, &aad_scratch);
  a.aad_len = aad;
  a.len = payload;
  a.tag_len = tag;
  a.iv = iv.ptr;
  a.iv_len = iv.len;
  if (spec_.abi == Abi::kCryptodevLinux) {
    // Decrypt takes ciphertext ‖ tag as one source and may touch len + tag bytes of the
    // destination; give it room when the caller's buffer is exactly the plaintext.
    a.src = Contiguous(req.input, aad, encrypt ? payload : payload + tag, &src_scratch);
    const size_t room = payload + tag;
    if (req.output_len >= room) {
      a.dst = req.output;
    } else {
      bounce.resize(room);
      a.dst = bounce.data();
    }
    Status st = driver_->Aead(fd, a);
    // (An empty plaintext may have no output buffer at all: memcpy must not see its null.)
    if (st.ok() && a.dst != req.output && st.bytes > 0) std::memcpy(req.output, bounce.data(), st.bytes);
    if (!bounce.empty()) Wipe(&bounce);
    return st;
  }
  // FreeBSD: separate tag pointer; in for decrypt, out for encrypt.
  a.src = Contiguous(req.input, aad, payload, &src_scratch);
  a.dst = req.output;
  std::vector<uint8_t> tag_scratch;
  a.tag = encrypt ? req.output + payload : const_cast<uint8_t*>(Contiguous(req.input, aad + payload, tag, &tag_scratch));
  return driver_->Aead(fd, a);
}

void Session::Close() {
  std::vector<uint32_t> sessions;
  UniqueFd fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    sessions.swap(all_);
    (void)pool_.Drain();
    streams_.clear();
    fd = std::move(fd_);
  }
  // Closing the fd frees them as well; freeing first returns hardware session slots even if
  // something else still holds a duplicate of the fd.
  if (fd.valid() && driver_ != nullptr) driver_->FreeSessions(fd.get(), sessions);
  Wipe(&spec_.key);
  Wipe(&spec_.mac_key);
}

size_t Session::open_descriptors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fd_.valid() ? 1 : 0;
}

size_t Session::kernel_sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return all_.size();
}

size_t Session::max_request() const {
  const size_t abi = driver_ != nullptr ? driver_->max_request() : 0;
  if (spec_.max_request == 0) return abi;
  return abi == 0 ? spec_.max_request : std::min(abi, spec_.max_request);
}

// Once open, with a queue: while a batch of this session is in the kernel's queue, another would
// only wait for it (one batch at a time per descriptor), and its jobs are better off on threads.
bool Session::queues() const {
  const bool mode = spec_.mode == Mode::kCipher || spec_.mode == Mode::kDigest;
  return mode && open_.Succeeded() && async_ && !batching_.load(std::memory_order_relaxed);
}

// Ciphers and digests that fit one request go to the kernel's queue in one submission; the
// rest (AEAD, streams, split requests, or an ABI without a queue) run one by one.
void Session::RunBatch(const std::vector<Request>& reqs, std::vector<Status>* out) {
  if (Status st = Opened(); !st.ok()) {
    out->assign(reqs.size(), st);
    return;
  }
  out->assign(reqs.size(), Status::Fail(EIO, Syscall::kIoctl));
  const bool queued_mode = spec_.mode == Mode::kCipher || spec_.mode == Mode::kDigest;
  if (!async_ || !queued_mode || reqs.size() < 2) {
    for (size_t i = 0; i < reqs.size(); ++i) (*out)[i] = Run(reqs[i]);
    return;
  }

  const size_t limit = max_request();
  std::vector<size_t> queued;  // indexes of requests going to the kernel queue
  std::vector<CryptArgs> args;
  std::vector<std::vector<uint8_t>> scratch(reqs.size());
  std::vector<IvBuffer> ivs(reqs.size());
  std::vector<std::array<uint8_t, kMaxDigest>> macs(spec_.mode == Mode::kDigest ? reqs.size() : 0);
  for (size_t i = 0; i < reqs.size(); ++i) {
    const Request& r = reqs[i];
    const size_t n = r.input_len();
    const bool cipher = spec_.mode == Mode::kCipher;
    if ((cipher && r.op != Op::kEncrypt && r.op != Op::kDecrypt) || (!cipher && r.op != Op::kDigest) || (limit != 0 && n > limit) ||
        (cipher && n == 0)) {
      (*out)[i] = Run(r);  // validation, splitting and empty requests take the ordinary path
      continue;
    }
    if ((cipher && r.output_len < n) || !ivs[i].Set(r.iv, r.iv_len)) {
      (*out)[i] = Invalid();
      continue;
    }
    CryptArgs a;
    a.encrypt = r.op != Op::kDecrypt;
    a.src = Contiguous(r.input, 0, n, &scratch[i]);
    a.len = n;
    a.iv = ivs[i].ptr;
    if (cipher) a.dst = r.output;
    else a.mac = macs[i].data();
    queued.push_back(i);
    args.push_back(a);
  }
  if (args.empty()) return;

  uint32_t ses = 0;
  int fd = -1;
  Status st = Acquire(spec_.iv_len, &ses, &fd);
  if (!st.ok()) {
    for (size_t i : queued) (*out)[i] = st;
    return;
  }
  for (CryptArgs& a : args) a.ses = ses;
  std::vector<Status> results;
  {
    std::lock_guard<std::mutex> lock(batch_mu_);
    batching_.store(true, std::memory_order_relaxed);
    driver_->CryptBatch(fd, args, &results);
    batching_.store(false, std::memory_order_relaxed);
  }
  Release(ses, spec_.iv_len);
  for (size_t k = 0; k < queued.size(); ++k) {
    const size_t i = queued[k];
    Status r = k < results.size() ? results[k] : Status::Fail(EIO, Syscall::kIoctl);
    if (r.ok() && spec_.mode == Mode::kDigest) {
      const size_t n = std::min<size_t>(spec_.digest_len, reqs[i].output_len);
      if (n > 0) std::memcpy(reqs[i].output, macs[i].data(), n);
      r = Status::Ok(n);
    }
    (*out)[i] = r;
  }
}

}  // namespace kcrypto::devcrypto
