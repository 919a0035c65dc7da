// Fuzzes what an AF_ALG cipher request hands the kernel (native/afalg/afalg_message.cc): the
// checks before any system call against an independent reading of the rules, the control
// header walked with CMSG_FIRSTHDR/CMSG_NXTHDR as the kernel walks it, and the MSG_MORE chunk
// plan of a long request cut with the session's own IovecCursor.
#include <linux/if_alg.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "afalg/afalg_message.h"
#include "common/iovec_cursor.h"
#include "fuzz_check.h"

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

using kcrypto::IovecCursor;
using kcrypto::Op;
using kcrypto::Request;
using kcrypto::Status;
using kcrypto::Syscall;
using kcrypto::afalg::BuildControl;
using kcrypto::afalg::ChunkAt;
using kcrypto::afalg::CipherPlan;
using kcrypto::afalg::Control;
using kcrypto::afalg::kMaxIv;
using kcrypto::afalg::PlanCipher;
using kcrypto::fuzz::Buffer;

namespace {

constexpr size_t kPage = 4096;

// The refusal the rules call for, or Ok: the rules read again, independently of PlanCipher.
Status Expected(const Request& req, size_t total, bool aead, bool chunkable, size_t limit) {
  const Status invalid = Status::Fail(EINVAL, Syscall::kValidate), too_big = Status::Fail(E2BIG, Syscall::kValidate);
  if (req.op != Op::kEncrypt && req.op != Op::kDecrypt) return invalid;
  if (total == 0 && !aead) return Status::Ok(0);
  if (total > limit && (aead || !chunkable || limit == 0)) return too_big;
  if (req.iv_len > kMaxIv) return invalid;
  if (aead && req.assoc_len > total) return invalid;
  if (total > limit && req.output_len < total) return invalid;
  return Status::Ok();
}

// Walks the control header as the kernel's af_alg_cmsg_send does and checks each message.
void CheckControl(const Control& control, const Request& req, bool aead) {
  FUZZ_CHECK(control.len <= control.bytes.size());
  msghdr msg{};
  msg.msg_control = const_cast<uint8_t*>(control.bytes.data());
  msg.msg_controllen = control.len;
  const uint8_t* end = control.bytes.data() + control.len;
  int seen_op = 0, seen_iv = 0, seen_assoc = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    const auto* base = reinterpret_cast<const uint8_t*>(c);
    FUZZ_CHECK(c->cmsg_len >= CMSG_LEN(0));
    FUZZ_CHECK(base + c->cmsg_len <= end);
    FUZZ_CHECK(c->cmsg_level == SOL_ALG);
    const size_t data = c->cmsg_len - CMSG_LEN(0);
    switch (c->cmsg_type) {
      case ALG_SET_OP: {
        FUZZ_CHECK(seen_op++ == 0 && seen_iv == 0 && seen_assoc == 0);
        FUZZ_CHECK(data == sizeof(uint32_t));
        uint32_t op;
        std::memcpy(&op, CMSG_DATA(c), sizeof op);
        FUZZ_CHECK(op == (req.op == Op::kEncrypt ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT));
        break;
      }
      case ALG_SET_IV: {
        FUZZ_CHECK(seen_iv++ == 0 && seen_op == 1 && seen_assoc == 0);
        FUZZ_CHECK(data >= sizeof(af_alg_iv));
        af_alg_iv head;
        std::memcpy(&head, CMSG_DATA(c), sizeof head);
        // The kernel trusts ivlen only as far as cmsg_len covers it.
        FUZZ_CHECK(head.ivlen == data - sizeof(af_alg_iv));
        FUZZ_CHECK(head.ivlen == req.iv_len);
        FUZZ_CHECK(req.iv_len == 0 || std::memcmp(CMSG_DATA(c) + sizeof(af_alg_iv), req.iv, req.iv_len) == 0);
        break;
      }
      case ALG_SET_AEAD_ASSOCLEN: {
        FUZZ_CHECK(seen_assoc++ == 0 && seen_op == 1);
        FUZZ_CHECK(data == sizeof(uint32_t));
        uint32_t assoc;
        std::memcpy(&assoc, CMSG_DATA(c), sizeof assoc);
        FUZZ_CHECK(assoc == req.assoc_len);
        FUZZ_CHECK(assoc <= req.input_len());
        break;
      }
      default: FUZZ_CHECK(!"unknown control message");
    }
  }
  FUZZ_CHECK(seen_op == 1);
  FUZZ_CHECK(seen_iv == (req.iv != nullptr ? 1 : 0));
  FUZZ_CHECK(seen_assoc == (aead ? 1 : 0));
}

// Cuts the request as RunCipher does and checks that the chunks cover the input once, in order,
// each within the limit, whole pages but the last, each output window inside the output.
void CheckChunks(const CipherPlan& plan, const Request& req, size_t limit) {
  FUZZ_CHECK(plan.chunk == limit);
  IovecCursor cursor(req.input);
  size_t seg = 0, seg_off = 0, sent = 0;
  std::vector<iovec> piece;
  while (sent < plan.total) {
    const size_t chunk = ChunkAt(plan, sent);
    FUZZ_CHECK(chunk > 0);  // no progress: RunCipher would loop for ever
    FUZZ_CHECK(chunk <= limit);
    const bool last = sent + chunk == plan.total;
    if (!last && limit % kPage == 0) FUZZ_CHECK(chunk % kPage == 0);  // whole cipher blocks
    piece.clear();
    cursor.Take(chunk, &piece);
    size_t got = 0;
    for (const iovec& v : piece) {
      // Each piece is the next part of the input, in order.
      while (seg < req.input.size() && seg_off == req.input[seg].iov_len) ++seg, seg_off = 0;
      FUZZ_CHECK(seg < req.input.size());
      const iovec& s = req.input[seg];
      FUZZ_CHECK(v.iov_base == static_cast<uint8_t*>(s.iov_base) + seg_off);
      FUZZ_CHECK(v.iov_len > 0 && v.iov_len <= s.iov_len - seg_off);
      seg_off += v.iov_len;
      got += v.iov_len;
    }
    FUZZ_CHECK(got == chunk);
    FUZZ_CHECK(sent + chunk <= req.output_len);  // the chunk's output window
    sent += chunk;
  }
  FUZZ_CHECK(sent == plan.total);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bool aead = in.ConsumeBool();
  const bool chunkable = in.ConsumeBool();
  size_t limit;
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: limit = kPage * in.ConsumeIntegralInRange<size_t>(0, 16); break;  // what sessions have
    case 1: limit = in.ConsumeIntegralInRange<size_t>(0, 3 * kPage); break;
    case 2: limit = SIZE_MAX; break;
    default: limit = 0; break;
  }
  Request req;
  req.op = static_cast<Op>(in.ConsumeIntegralInRange<uint32_t>(0, 8));
  std::vector<Buffer> segments;
  const size_t count = in.ConsumeIntegralInRange<size_t>(0, 6);
  for (size_t i = 0; i < count; ++i) segments.emplace_back(in.ConsumeIntegralInRange<size_t>(1, in.ConsumeBool() ? 64 : 40000), &in);
  for (const Buffer& b : segments) req.input.push_back(iovec{b.data(), b.size()});
  const size_t total = req.input_len();
  Buffer output(in.ConsumeBool() ? total : in.ConsumeIntegralInRange<size_t>(0, total + 64), &in);
  req.output = output.data();
  req.output_len = output.size();
  std::unique_ptr<Buffer> iv;
  if (in.ConsumeBool()) {
    iv = std::make_unique<Buffer>(in.ConsumeIntegralInRange<size_t>(0, kMaxIv + 16), &in);
    req.iv = iv->data();
    req.iv_len = iv->size();
  }
  req.assoc_len = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, static_cast<uint32_t>(total)) : in.ConsumeIntegral<uint32_t>();

  CipherPlan plan;
  const Status st = PlanCipher(req, aead, chunkable, limit, &plan);
  const Status want = Expected(req, total, aead, chunkable, limit);
  FUZZ_CHECK(st.err == want.err && st.syscall == want.syscall);
  if (!st.ok()) return 0;
  FUZZ_CHECK(plan.total == total);
  FUZZ_CHECK(plan.nothing == (total == 0 && !aead));
  if (plan.nothing) return 0;
  FUZZ_CHECK(plan.chunked == (total > limit));

  Control control;
  BuildControl(req, aead, &control);
  CheckControl(control, req, aead);
  if (plan.chunked) CheckChunks(plan, req, limit);
  return 0;
}
