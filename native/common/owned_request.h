// A request's buffers copied into memory its thread owns (see Job::guard_output): the input
// gathered into one buffer, the IV, and room for the output. The engine works on these alone,
// so a request that returns from the kernel after JavaScript gave up on it -- or after its
// environment (a worker) was torn down and freed the request's buffers -- reads and writes
// nothing but them. Copying in and out is done by the caller under the session's AbandonFlag.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine.h"

namespace kcrypto {

class OwnedRequest {
 public:
  // Copies `req`'s input and IV in; `own` becomes `req` over this thread's buffers.
  void CopyIn(const Request& req, Request* own) {
    const size_t in_len = req.input_len();
    if (input_.size() < in_len) input_.resize(in_len);
    if (iv_.size() < req.iv_len) iv_.resize(req.iv_len);
    if (output_.size() < req.output_len) output_.resize(req.output_len);
    size_t at = 0;
    for (const iovec& v : req.input) {
      std::memcpy(input_.data() + at, v.iov_base, v.iov_len);
      at += v.iov_len;
    }
    if (req.iv != nullptr && req.iv_len > 0) std::memcpy(iv_.data(), req.iv, req.iv_len);
    own->op = req.op;
    own->assoc_len = req.assoc_len;
    own->stream = req.stream;
    own->input.clear();
    if (in_len > 0) own->input.push_back(iovec{input_.data(), in_len});
    own->iv = req.iv != nullptr ? iv_.data() : nullptr;
    own->iv_len = req.iv != nullptr ? req.iv_len : 0;
    own->output = req.output != nullptr ? output_.data() : nullptr;
    own->output_len = req.output != nullptr ? req.output_len : 0;
  }

  // Copies the `bytes` the engine produced (at most the output's length) to `req`'s output.
  void CopyOut(const Request& req, size_t bytes) const {
    if (req.output != nullptr) std::memcpy(req.output, output_.data(), std::min(bytes, req.output_len));
  }

 private:
  std::vector<uint8_t> input_;
  std::vector<uint8_t> iv_;
  std::vector<uint8_t> output_;
};

}  // namespace kcrypto
