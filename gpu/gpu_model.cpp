#include "gpu_model.h"

#include "core/error.h"
#include "model/model.h"
#include "tensor/kernels.h"
#include "vk/device.h"

#include <cstring>
#include <vector>

namespace tenfold::vk {

namespace {

// A weight buffer larger than the device lets one descriptor address is refused with its name.
void checkStorageRange(Device& device, const std::string& name, uint64_t bytes)
{
    if (bytes > device.maxStorageBufferRange() || bytes > 0xFFFFFFF0ull)
        throw UnsupportedError("Vulkan backend: " + name + " (" + std::to_string(bytes >> 20) +
                               " MiB) exceeds the device's storage-buffer range of " +
                               std::to_string(device.maxStorageBufferRange() >> 20) + " MiB");
}

// A palette weight as one buffer of 32-bit words, read by shaders/dequant.glsl (TYPE_PAL2/3/4):
// [indexRowBytes, groupRows, tableWord, scaleWord (0: none)], the packed indices from byte 16
// (zero-padded to a word), the tables (groups x 2^bits floats), then the row scales if any.
std::shared_ptr<GpuWeight> uploadPalette(Device& device, const WeightTensor& w)
{
    const PaletteWeight& p = *w.palette;
    if (p.bits < 2 || p.bits > 4 || p.groupRows < 1 || p.groups * p.groupRows != w.ne1 ||
        p.indexRowBytes * 8 != size_t(w.ne0) * size_t(p.bits))
        throw InvalidArgument("Vulkan backend: palette weight " + w.name + " has an inconsistent layout (" +
                              std::to_string(p.bits) + "-bit, " + std::to_string(p.groups) + " groups of " +
                              std::to_string(p.groupRows) + " rows, " + std::to_string(p.indexRowBytes) +
                              " index bytes per row of " + std::to_string(w.ne0) + ")");
    const uint64_t indexBytes = uint64_t(p.indexRowBytes) * uint64_t(w.ne1);
    const uint64_t tableWord = 4 + (indexBytes + 3) / 4;
    const uint64_t tableWords = uint64_t(p.groups) * uint64_t(p.entries());
    const uint64_t scaleWord = p.rowScale ? tableWord + tableWords : 0;
    const uint64_t words = tableWord + tableWords + (p.rowScale ? uint64_t(w.ne1) : 0);
    checkStorageRange(device, w.name, words * 4);
    std::vector<uint32_t> packed(size_t(words), 0u);
    packed[0] = uint32_t(p.indexRowBytes);
    packed[1] = uint32_t(p.groupRows);
    packed[2] = uint32_t(tableWord);
    packed[3] = uint32_t(scaleWord);
    std::memcpy(reinterpret_cast<uint8_t*>(packed.data()) + 16, p.indices, size_t(indexBytes));
    std::memcpy(packed.data() + tableWord, p.table, size_t(tableWords) * 4);
    if (p.rowScale)
        std::memcpy(packed.data() + scaleWord, p.rowScale, size_t(w.ne1) * 4);
    auto g = std::make_shared<GpuWeight>();
    g->buffer = Buffer(device, words * 4, Buffer::Kind::Device);
    g->buffer.upload(packed.data(), words * 4);
    g->type = w.type;
    g->paletteBits = p.bits;
    g->ne0 = uint32_t(w.ne0);
    g->ne1 = uint32_t(w.ne1);
    g->rowBytes = uint32_t(p.indexRowBytes);
    return g;
}

} // namespace

std::shared_ptr<GpuWeight> uploadWeight(Device& device, const WeightTensor& w)
{
    if (!w.present())
        throw InvalidArgument("Vulkan backend: weight " + w.name + " is missing");
    if (w.palette)
        return uploadPalette(device, w);
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
    checkStorageRange(device, w.name, bytes);
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
    // Tied output head: the same bytes, palette or factors as the embedding, uploaded once.
    const WeightTensor& emb = model.tokenEmbedding();
    const bool tied = out.data == emb.data && out.palette == emb.palette && out.lowRank == emb.lowRank;
    output = tied ? tokenEmbedding : uploadWeight(device, out);
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
