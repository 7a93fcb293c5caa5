#pragma once
// A model's weights resident on one Vulkan device: matrices in their quantized GGUF layout,
// 1-D tensors (norms, biases) converted to F32 once at upload.
#include "gpu_ops.h"

#include <memory>
#include <vector>

namespace tenfold {
class Model;
struct WeightTensor;
}

namespace tenfold::vk {

struct GpuLayer {
    std::shared_ptr<GpuWeight> wq, wk, wv, wo, ffnGate, ffnUp, ffnDown;
    std::shared_ptr<Buffer> attnNorm, ffnNorm, bq, bk, bv; // F32; biases may be null
};

struct GpuModel {
    // Throws UnsupportedError for a weight type the shaders lack or a tensor larger than the
    // device's storage-buffer range; DeviceError when memory runs out.
    GpuModel(Device& device, const Model& model);
    std::shared_ptr<GpuWeight> tokenEmbedding, output;
    std::shared_ptr<Buffer> outputNorm;
    std::vector<GpuLayer> layers;
};

std::shared_ptr<GpuWeight> uploadWeight(Device& device, const WeightTensor& w);
std::shared_ptr<Buffer> uploadAsF32(Device& device, const WeightTensor& w); // null if absent

} // namespace tenfold::vk
