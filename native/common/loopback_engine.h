// A test double of the engine interface, for unit tests of the layers above the engines
// (dispatcher, completion batching, the TypeScript execution policy) on hosts that have no
// kernel crypto interface. It transforms bytes deterministically (XOR with a constant), can
// sleep to imitate a slow device, can fail with a chosen errno, and can hang -- in Run() and in
// Close(), as requests and close() do on a removed virtio-crypto card -- until the test
// releases it. It never claims to be a kernel path: drivers() does not list it and
// openSession() cannot reach it.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine.h"

namespace kcrypto {

class LoopbackEngine final : public EngineSession {
 public:
  // queues: claims a kernel queue (EngineSession::queues), so that the dispatcher's batches can
  // be tested; its RunBatch() still runs the requests one after another.
  LoopbackEngine(uint32_t delay_us, int fail_errno, bool hang = false, bool queues = false)
      : delay_us_(delay_us), fail_errno_(fail_errno), hang_(hang), queues_(queues) {}
  Status Run(const Request& req) override;
  Status OpenStream(int32_t* handle) override;
  Status CopyStream(int32_t from, int32_t* handle) override;
  void CloseStream(int32_t handle) override;
  void Close() override;
  size_t open_descriptors() const override { return 0; }
  bool queues() const override { return queues_; }
  static constexpr uint8_t kXor = 0x5a;
  // Returns every hanging call that has started; calls that start later hang again.
  static void ReleaseHangs();

 private:
  uint32_t delay_us_;
  int fail_errno_;
  bool hang_;
  bool queues_;
  std::atomic<bool> closed_{false};
  std::atomic<int32_t> next_stream_{1};
};

}  // namespace kcrypto
