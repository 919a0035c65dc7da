// Fuzzes the /dev/crypto engine of every ABI (native/devcrypto/: the engine session, its hash
// streams and the three ABI tables) against the simulated kernel of devcrypto_kernel.cc. An
// input describes a session (ABI, mode, algorithms, key and IV/tag/digest/block lengths, chain,
// request limit, kernel sessions) and a run of requests on it -- ciphers, digests, AEADs
// (NetBSD's framed over CIOCCRYPT), batches through the async queues, hash streams and their
// copies -- with buffers of fuzz-chosen lengths; the kernel's answers come from the input too.
// Besides the kernel's checks of each request: a successful request reports no more bytes than
// its output holds, and closing the session frees every kernel session it made.
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "devcrypto/devcrypto_session.h"
#include "devcrypto_kernel.h"

using kcrypto::Op;
using kcrypto::Request;
using kcrypto::Status;
using kcrypto::devcrypto::Abi;
using kcrypto::devcrypto::Chain;
using kcrypto::devcrypto::Mode;
using kcrypto::devcrypto::Session;
using kcrypto::devcrypto::Spec;
using kcrypto::fuzz::Buffer;
using kcrypto::fuzz::DevCryptoKernel;

namespace {

// One request's buffers, registered with the kernel while the request runs.
struct Owned {
  std::vector<std::unique_ptr<Buffer>> buffers;
  Request req;
};

size_t Length(FuzzedDataProvider* in, size_t typical) {
  switch (in->ConsumeIntegralInRange<int>(0, 5)) {
    case 0: return 0;
    case 1: return typical;
    case 2: return in->ConsumeIntegralInRange<size_t>(0, 64);
    case 3: return in->ConsumeIntegralInRange<size_t>(0, 6000);
    default: return in->ConsumeIntegralInRange<size_t>(0, 300);
  }
}

void MakeRequest(FuzzedDataProvider* in, DevCryptoKernel* kernel, const std::vector<int32_t>& streams, Owned* o) {
  Request& r = o->req;
  r.op = static_cast<Op>(in->PickValueInArray<uint32_t>({0, 1, 2, 0, 1, 3, 4, 5, 6}));
  const size_t segments = in->ConsumeIntegralInRange<size_t>(0, 4);
  size_t total = 0;
  for (size_t i = 0; i < segments; ++i) {
    o->buffers.push_back(std::make_unique<Buffer>(Length(in, 32), in));
    const Buffer& b = *o->buffers.back();
    kernel->Register(b.data(), b.size(), false);
    if (b.size() > 0) r.input.push_back(iovec{b.data(), b.size()});
    total += b.size();
  }
  if (in->ConsumeBool()) {
    const size_t extra = in->PickValueInArray<size_t>({0, 16, 64, 12, 8});
    const size_t n = in->ConsumeBool() ? total + extra : (total + extra >= 16 ? total + extra - 16 : 0);
    o->buffers.push_back(std::make_unique<Buffer>(in->ConsumeBool() ? n : Length(in, total), in));
    const Buffer& b = *o->buffers.back();
    kernel->Register(b.data(), b.size(), true);
    r.output = b.data();
    r.output_len = b.size();
  }
  if (in->ConsumeBool()) {
    o->buffers.push_back(std::make_unique<Buffer>(in->PickValueInArray<size_t>({16, 12, 8, 0, 64, 65, 7}), in));
    const Buffer& b = *o->buffers.back();
    kernel->Register(b.data(), b.size(), false);
    r.iv = b.data();
    r.iv_len = b.size();
  }
  r.assoc_len = in->ConsumeBool() ? 0 : in->ConsumeIntegralInRange<uint32_t>(0, static_cast<uint32_t>(total + 20));
  r.stream = !streams.empty() && in->ConsumeBool() ? streams[in->ConsumeIntegralInRange<size_t>(0, streams.size() - 1)]
                                                   : in->ConsumeIntegralInRange<int32_t>(-1, 4);
}

void CheckResult(const Status& st, const Request& r) {
  if (st.ok()) FUZZ_CHECK(st.bytes <= r.output_len || r.op == Op::kHashUpdate);
  else FUZZ_CHECK(st.err > 0);
}

Spec MakeSpec(FuzzedDataProvider* in) {
  Spec sp;
  sp.abi = static_cast<Abi>(in->ConsumeIntegralInRange<uint32_t>(1, 3));
  sp.path = "/dev/null";  // a real descriptor; its ioctls go to the simulated kernel
  sp.mode = static_cast<Mode>(in->PickValueInArray<uint32_t>({0, 1, 2, 3, 0, 1, 2, 4}));
  sp.cipher = in->PickValueInArray<uint32_t>({11, 0, 29, 7});
  sp.mac = in->PickValueInArray<uint32_t>({0, 30, 15, 3});
  auto bytes = [in](kcrypto::KeyBytes* k) {
    const size_t n = in->PickValueInArray<size_t>({16, 0, 20, 28, 36, 32, 3});
    std::vector<uint8_t> v = in->ConsumeBytes<uint8_t>(n);
    v.resize(n);
    k->Assign(v.data(), v.size());
  };
  bytes(&sp.key);
  bytes(&sp.mac_key);
  sp.iv_len = in->PickValueInArray<uint32_t>({0, 12, 16, 8, 13, 64, 65});
  sp.tag_len = in->PickValueInArray<uint32_t>({0, 16, 12, 8, 64, 65});
  sp.digest_len = in->PickValueInArray<uint32_t>({32, 0, 20, 64, 65, 16});
  sp.block_len = in->PickValueInArray<uint32_t>({16, 1, 8, 0, 3});
  sp.chain = static_cast<Chain>(in->ConsumeIntegralInRange<uint32_t>(0, 3));
  sp.crid = in->ConsumeBool() ? -1 : in->ConsumeIntegralInRange<int32_t>(-2, 70);
  if (in->ConsumeIntegralInRange<int>(0, 7) == 0) sp.device = in->ConsumeRandomLengthString(40);
  sp.max_request = in->PickValueInArray<size_t>({0, 0, 64, 4096, 17, 1, 65536});
  sp.contexts = in->ConsumeIntegralInRange<uint32_t>(1, 4);
  return sp;
}

// The ABI tables' calls the engine session does not make, and requests longer than a kernel
// request's length field: each must be refused before the kernel, not truncated.
void FuzzTable(FuzzedDataProvider* in) {
  using namespace kcrypto::devcrypto;
  const Abi abi = static_cast<Abi>(in->ConsumeIntegralInRange<uint32_t>(1, 3));
  const AbiDriver* d = DriverFor(abi);
  DevCryptoKernel kernel(abi, in);
  const int fd = 1000;  // never reaches a real system call
  uint32_t mask = 0;
  (void)d->AsymFeatures(fd, &mask);
  (void)d->ProbeAsync(fd);
  int32_t crid = -1;
  std::string name;
  if (d->FindDevice(fd, in->ConsumeIntegralInRange<int32_t>(-1, 70), in->ConsumeRandomLengthString(40), &crid, &name).ok())
    FUZZ_CHECK(name.size() <= 32);

  SessionParams p;
  p.cipher = 11;
  p.mac = in->ConsumeBool() ? 0 : 3;
  p.tag_len = 16;
  p.iv_len = 12;
  uint32_t ses = 0;
  if (!d->CreateSession(fd, p, &ses, &crid).ok()) return;
  const size_t n = in->ConsumeIntegralInRange<size_t>(1, 64);
  Buffer src(n, in), dst(n + 16, in), mac(kMaxDigest, in), iv(kMaxIv, in);
  kernel.Register(src.data(), src.size(), false);
  kernel.Register(dst.data(), dst.size(), true);
  kernel.Register(mac.data(), mac.size(), true);
  kernel.Register(iv.data(), iv.size(), false);
  // A length past what the request's field or the kernel takes, over buffers of n bytes.
  // (cryptodev-linux has no limit of its own below its 32-bit length field.)
  size_t huge = in->PickValueInArray<size_t>({size_t{1} << 32, (size_t{1} << 32) + n, 256 * 1024, SIZE_MAX - 8});
  if (abi == Abi::kCryptodevLinux && huge <= UINT32_MAX) huge = size_t{1} << 32;
  const auto refused = [](const Status& st) { return st.err == E2BIG && st.syscall == kcrypto::Syscall::kValidate; };
  CryptArgs a = CipherPass(ses, in->ConsumeBool(), src.data(), dst.data(), huge, iv.data());
  a.mac = mac.data();
  FUZZ_CHECK(refused(d->Crypt(fd, a)));
  AeadArgs e;
  e.ses = ses;
  e.src = src.data();
  e.dst = dst.data();
  e.len = huge;
  e.aad = src.data();
  e.aad_len = in->ConsumeBool() ? n : huge;
  e.tag = mac.data();
  e.tag_len = 16;
  e.iv = iv.data();
  e.iv_len = 12;
  const Status st = d->Aead(fd, e);
  FUZZ_CHECK(refused(st) || (abi == Abi::kNetBSD && st.err == ENOTSUP));
  if (d->multipart()) FUZZ_CHECK(refused(d->HashUpdate(fd, ses, src.data(), huge, in->ConsumeBool())));
  std::vector<CryptArgs> batch(in->ConsumeIntegralInRange<size_t>(1, 3), a);
  std::vector<Status> out;
  d->CryptBatch(fd, batch, &out);
  FUZZ_CHECK(out.size() == batch.size());
  for (const Status& r : out) FUZZ_CHECK(refused(r));
  (void)d->FreeSession(fd, ses);
  FUZZ_CHECK(kernel.live_sessions() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeIntegralInRange<int>(0, 7) == 7) {
    FuzzTable(&in);
    return 0;
  }
  Spec spec = MakeSpec(&in);
  DevCryptoKernel kernel(spec.abi, &in);
  std::unique_ptr<Session> session;
  if (!Session::Deferred(std::move(spec), &session).ok()) return 0;
  const bool opened = session->Open().ok();
  std::vector<int32_t> streams;
  for (int step = in.ConsumeIntegralInRange<int>(1, 12); step > 0 && in.remaining_bytes() > 0; --step) {
    kernel.Unregister();
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
      case 0:
      case 1: {
        Owned o;
        MakeRequest(&in, &kernel, streams, &o);
        CheckResult(session->Run(o.req), o.req);
        break;
      }
      case 2: {
        std::vector<Owned> owned(in.ConsumeIntegralInRange<size_t>(0, 6));
        std::vector<Request> reqs;
        for (Owned& o : owned) {
          MakeRequest(&in, &kernel, streams, &o);
          reqs.push_back(o.req);
        }
        std::vector<Status> out;
        session->RunBatch(reqs, &out);
        FUZZ_CHECK(out.size() == reqs.size());
        for (size_t i = 0; i < reqs.size(); ++i) CheckResult(out[i], reqs[i]);
        FUZZ_CHECK(kernel.outstanding() == 0);  // a batch collects all of its completions
        break;
      }
      case 3: {
        int32_t h = -1;
        if (session->OpenStream(&h).ok()) streams.push_back(h);
        break;
      }
      case 4: {
        const int32_t from = !streams.empty() && in.ConsumeBool() ? streams[in.ConsumeIntegralInRange<size_t>(0, streams.size() - 1)]
                                                                  : in.ConsumeIntegralInRange<int32_t>(-1, 3);
        int32_t h = -1;
        if (session->CopyStream(from, &h).ok()) streams.push_back(h);
        break;
      }
      default: {
        if (streams.empty()) break;
        const size_t i = in.ConsumeIntegralInRange<size_t>(0, streams.size() - 1);
        session->CloseStream(streams[i]);
        streams.erase(streams.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
  kernel.Unregister();
  session->Close();
  // Every kernel session made on a session that opened is freed when it closes.
  if (opened) FUZZ_CHECK(kernel.live_sessions() == 0);
  return 0;
}
