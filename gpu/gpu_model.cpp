#include "gpu_model.h"

#include "core/error.h"
#include "model/model.h"
#include "tensor/kernels.h"
#include "vk/device.h"

#include <cstring>

namespace tenfold::vk {

std::shared_ptr<GpuWeight> uploadWeight(Device& device, const WeightTensor& w)
{
    if (!w.present())
        throw InvalidArgument("Vulkan backend: weight " + w.name + " is missing");
    if (w.palette)
        throw UnsupportedError("Vulkan backend: " + w.name +
                               " is a palette weight (tenfold.palette), which the Vulkan backend does not run yet; "
                               "use the CPU backend or `tenfold-cli export-standard`");
    if (w.factorised()) {
        auto g = std::make_shared<GpuWeight>();
        g->lowRankA = uploadWeight(device, w.lowRank->a);
        g->lowRankB = uploadWeight(device, w.lowRank->b);
        g->rank = uint32_t(w.lowRank->rank);
        g->type = w.type;
        g->ne0 = uint32_t(w.ne0);
        g->ne1 = uint32_t(w.ne1);
        return g;
    }
    if (!gpuSupportsWeightType(w.type))
        throw UnsupportedError("Vulkan backend: " + w.name + " has type " + typeName(w.type) +
                               ", which the shaders cannot dequantize");
    const uint64_t bytes = uint64_t(w.rowBytes) * uint64_t(w.ne1);
    if (bytes > device.maxStorageBufferRange() || bytes > 0xFFFFFFF0ull)
        throw UnsupportedError("Vulkan backend: " + w.name + " (" + std::to_string(bytes >> 20) +
                               " MiB) exceeds the device's storage-buffer range of " +
                               std::to_string(device.maxStorageBufferRange() >> 20) + " MiB");
    auto g = std::make_shared<GpuWeight>();
    g->buffer = Buffer(device, bytes, Buffer::Kind::Device);
    g->buffer.upload(w.data, bytes);
    g->type = w.type;
    g->ne0 = uint32_t(w.ne0);
    g->ne1 = uint32_t(w.ne1);
    g->rowBytes = uint32_t(w.rowBytes);
    return g;
}

std::shared_ptr<Buffer> uploadAsF32(Device& device, const WeightTensor& w)
{
    if (!w.present())
        return nullptr;
    const int64_t n = w.ne0 * w.ne1;
    std::vector<float> f(static_cast<size_t>(n));
    if (w.type == GGMLType::F32) {
        std::memcpy(f.data(), w.data, size_t(n) * sizeof(float));
    } else {
        const TypeKernels& k = referenceKernels(w.type);
        if (!k.dequantizeRow)
            throw UnsupportedError("Vulkan backend: cannot convert " + w.name + " from " + typeName(w.type));
        k.dequantizeRow(w.data, f.data(), n);
    }
    auto b = std::make_shared<Buffer>(device, f.size() * sizeof(float), Buffer::Kind::Device);
    b->upload(f.data(), f.size() * sizeof(float));
    return b;
}

GpuModel::GpuModel(Device& device, const Model& model)
{
    tokenEmbedding = uploadWeight(device, model.tokenEmbedding());
    const WeightTensor& out = model.output();
    output = (out.data == model.tokenEmbedding().data) ? tokenEmbedding : uploadWeight(device, out);
    outputNorm = uploadAsF32(device, model.outputNorm());
    for (const LayerWeights& lw : model.layers()) {
        GpuLayer g;
        g.attnNorm = uploadAsF32(device, lw.attnNorm);
        g.ffnNorm = uploadAsF32(device, lw.ffnNorm);
        g.wq = uploadWeight(device, lw.wq);
        g.wk = uploadWeight(device, lw.wk);
        g.wv = uploadWeight(device, lw.wv);
        g.wo = uploadWeight(device, lw.wo);
        g.ffnGate = uploadWeight(device, lw.ffnGate);
        g.ffnUp = uploadWeight(device, lw.ffnUp);
        g.ffnDown = uploadWeight(device, lw.ffnDown);
        g.bq = uploadAsF32(device, lw.bq);
        g.bk = uploadAsF32(device, lw.bk);
        g.bv = uploadAsF32(device, lw.bv);
        layers.push_back(std::move(g));
    }
}

} // namespace tenfold::vk
