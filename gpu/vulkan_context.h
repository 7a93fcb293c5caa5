#pragma once
// One sequence's state on a Vulkan device: activations, the F16 KV cache, and the recorded
// forward passes. A pass for a given (batch size, logits mode) is recorded once into one command
// buffer and re-submitted for every later batch of that shape; the position lives in a small
// host-written buffer the shaders read, so nothing needs re-recording as the sequence grows.
#include "gpu_model.h"
#include "runtime/backend.h"
#include "vk/sequence.h"

#include <list>
#include <map>
#include <memory>

namespace tenfold {

class Model;

class VulkanInferenceContext : public InferenceContext {
public:
    VulkanInferenceContext(std::shared_ptr<vk::Device> device, std::shared_ptr<const Model> model,
                           std::shared_ptr<vk::GpuModel> weights, const ContextParams& params);
    ~VulkanInferenceContext() override;

    int contextSize() const override { return nCtx_; }
    int position() const override { return position_; }
    void decode(std::span<const int32_t> tokens, bool allLogits, std::vector<float>& logits,
                const std::atomic<bool>* cancel = nullptr) override;
    void truncate(int nPos) override;
    std::vector<OpTiming> lastTimings() const override { return timings_; }
    std::vector<uint8_t> exportKv(int n) const override;
    void importKv(int n, std::span<const uint8_t> data) override;

    // The argmax of the last token's logits, computed on the device in the last decode().
    int32_t lastArgmax() const { return lastArgmax_; }
    int batchCapacity() const { return batch_; }
    // Command buffers recorded so far (tests check that same-shaped batches reuse them).
    int recordedPasses() const { return recordCount_; }

private:
    enum class LogitsMode { None, Last, All };
    vk::Sequence& passFor(uint32_t nTokens, LogitsMode mode);
    void record(vk::Sequence& s, uint32_t nTokens, LogitsMode mode);

    std::shared_ptr<vk::Device> device_;
    std::shared_ptr<const Model> model_;
    std::shared_ptr<vk::GpuModel> w_;
    std::unique_ptr<vk::GpuOps> ops_;
    bool profile_ = false;
    int nCtx_ = 0;
    int position_ = 0;
    int batch_ = 0;
    int recordCount_ = 0;
    int32_t lastArgmax_ = -1;
    std::vector<OpTiming> timings_;

    vk::Buffer params_, tokens_, logitsHost_, argmaxDev_, argmaxHost_;
    vk::Buffer x_, xn_, q_, k_, v_, attn_, gate_, up_, logits_, kCache_, vCache_;
    // Recently used passes, most recent first; a handful covers decode plus prompt chunk shapes.
    std::list<std::pair<uint64_t, std::unique_ptr<vk::Sequence>>> passes_;
};

} // namespace tenfold
