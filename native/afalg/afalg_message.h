// The parts of an AF_ALG cipher request that make no system call: the checks before any, the
// control header (op, IV, AEAD assoclen) and the plan of a long request's MSG_MORE chunks. On
// their own so that the fuzz harness (test/fuzz/afalg_message.cc) checks what would reach the
// kernel.
#pragma once

#include <linux/if_alg.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "../common/engine.h"

namespace kcrypto::afalg {

// Longest IV a request may carry: room for the largest IV the kernel defines.
inline constexpr size_t kMaxIv = 64;

// A cipher request's control header, for msghdr's msg_control and msg_controllen.
struct Control {
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint32_t)) * 2 + CMSG_SPACE(sizeof(af_alg_iv) + kMaxIv)> bytes{};
  size_t len = 0;
};

// How a cipher request goes to the kernel.
struct CipherPlan {
  size_t total = 0;      // input bytes
  bool nothing = false;  // nothing to transform: done without a system call
  bool chunked = false;  // longer than one request may be: chunks under MSG_MORE
  size_t chunk = 0;      // chunked: every chunk but the last is this long (the limit)
};

// The checks of a cipher request (skcipher, or AEAD when `aead`) whose single kernel request
// may carry `limit` bytes, and its plan; a refusal is a kValidate status.
Status PlanCipher(const Request& req, bool aead, bool chunkable, size_t limit, CipherPlan* plan);

// Bytes of the chunk that starts `sent` bytes into a chunked request.
inline size_t ChunkAt(const CipherPlan& p, size_t sent) { return std::min(p.chunk, p.total - sent); }

// The request's control header: op, the IV when it has one, assoclen for an AEAD. The request
// has passed PlanCipher (its IV fits).
void BuildControl(const Request& req, bool aead, Control* c);

}  // namespace kcrypto::afalg
