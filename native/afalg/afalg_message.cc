#include "afalg_message.h"

#include <cerrno>
#include <cstring>

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

namespace kcrypto::afalg {

Status PlanCipher(const Request& req, bool aead, bool chunkable, size_t limit, CipherPlan* plan) {
  *plan = CipherPlan{};
  if (req.op != Op::kEncrypt && req.op != Op::kDecrypt) return Status::Fail(EINVAL, Syscall::kValidate);
  plan->total = req.input_len();
  // Nothing to transform: the kernel would leave an empty request open on the socket.
  if (plan->total == 0 && !aead) {
    plan->nothing = true;
    return Status::Ok(0);
  }
  plan->chunked = plan->total > limit;
  // A limit of 0 (a socket buffer smaller than a page) leaves no chunk that could make progress.
  if (plan->chunked && (aead || !chunkable || limit == 0)) return Status::Fail(E2BIG, Syscall::kValidate);
  if (req.iv_len > kMaxIv) return Status::Fail(EINVAL, Syscall::kValidate);
  // The associated data leads the input: it cannot be longer than the input.
  if (aead && req.assoc_len > plan->total) return Status::Fail(EINVAL, Syscall::kValidate);
  // Each chunk's output is read back into its place in the output before the next is sent.
  if (plan->chunked && req.output_len < plan->total) return Status::Fail(EINVAL, Syscall::kValidate);
  plan->chunk = plan->chunked ? limit : plan->total;
  return Status::Ok();
}

void BuildControl(const Request& req, bool aead, Control* control) {
  control->bytes.fill(0);
  size_t len = CMSG_SPACE(sizeof(uint32_t));
  if (req.iv != nullptr) len += CMSG_SPACE(sizeof(af_alg_iv) + req.iv_len);
  if (aead) len += CMSG_SPACE(sizeof(uint32_t));
  control->len = len;

  msghdr msg{};
  msg.msg_control = control->bytes.data();
  msg.msg_controllen = len;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_ALG;
  c->cmsg_type = ALG_SET_OP;
  c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
  const uint32_t op = req.op == Op::kEncrypt ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT;
  std::memcpy(CMSG_DATA(c), &op, sizeof op);
  if (req.iv != nullptr) {
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_IV;
    c->cmsg_len = CMSG_LEN(sizeof(af_alg_iv) + req.iv_len);
    auto* iv = reinterpret_cast<af_alg_iv*>(CMSG_DATA(c));
    iv->ivlen = static_cast<uint32_t>(req.iv_len);
    std::memcpy(iv->iv, req.iv, req.iv_len);
  }
  if (aead) {
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_AEAD_ASSOCLEN;
    c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
    std::memcpy(CMSG_DATA(c), &req.assoc_len, sizeof req.assoc_len);
  }
}

}  // namespace kcrypto::afalg
