#include "gpu_ops.h"

#include "core/error.h"
#include "vk/device.h"
#include "vk/pipeline_cache.h"
#include "vk/sequence.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace tenfold::vk {
namespace {

constexpr uint32_t kReduceWG = 128;
constexpr uint32_t kElementWG = 256;
constexpr uint32_t kAttentionWG = 64;

uint32_t ceilDiv(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

} // namespace

bool gpuSupportsWeightType(GGMLType t)
{
    switch (t) {
    case GGMLType::F32: case GGMLType::F16: case GGMLType::BF16: case GGMLType::Q8_0: case GGMLType::Q4_0:
    case GGMLType::Q4_1: case GGMLType::Q5_0: case GGMLType::Q5_1: case GGMLType::Q2_K: case GGMLType::Q3_K:
    case GGMLType::Q4_K: case GGMLType::Q5_K: case GGMLType::Q6_K: case GGMLType::IQ4_NL: case GGMLType::IQ4_XS:
        return true;
    default:
        return false;
    }
}

std::string gpuTypeSuffix(GGMLType t)
{
    if (!gpuSupportsWeightType(t))
        throw UnsupportedError(std::string("Vulkan backend: weight type ") + typeName(t) + " is not supported");
    std::string s = typeName(t);
    for (char& c : s)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string gpuWeightSuffix(const GpuWeight& w)
{
    if (w.paletteBits != 0)
        return "pal" + std::to_string(w.paletteBits);
    return gpuTypeSuffix(w.type);
}

GpuOps::GpuOps(Device& device) : device_(device)
{
    // TENFOLD_VK_NO_SUBGROUPS=1 forces the shared-memory reductions (tests cover both paths).
    const char* off = std::getenv("TENFOLD_VK_NO_SUBGROUPS");
    subgroups_ = device.info().subgroupArithmetic && !(off && *off && *off != '0');
}

VkPipeline GpuOps::pipeline(const std::string& name, uint32_t workGroup)
{
    return device_.pipelines().get(name, {workGroup});
}

void GpuOps::embed(Sequence& s, const GpuWeight& table, const Buffer& tokens, uint32_t nTokens, const Buffer& out)
{
    struct { uint32_t nEmbd, rowBytes, outOffset; } pc{table.ne0, table.rowBytes, 0};
    s.dispatch("embed_" + gpuWeightSuffix(table), -1, pipeline("embed_" + gpuWeightSuffix(table), kReduceWG),
               {&table.buffer, &tokens, &out}, pc, nTokens);
}

void GpuOps::rmsNorm(Sequence& s, int layer, const Buffer& x, uint32_t inOffset, uint32_t nRows, uint32_t n,
                     const Buffer& w, const Buffer& out, uint32_t outOffset, float eps)
{
    struct { uint32_t n, inOffset, outOffset; float eps; } pc{n, inOffset, outOffset, eps};
    s.dispatch("rms_norm", layer, pipeline(reduceVariant("rms_norm"), kReduceWG), {&x, &w, &out}, pc, nRows);
}

void GpuOps::matmul(Sequence& s, int layer, const GpuWeight& w, const Buffer& x, uint32_t xOffset, uint32_t xStride,
                    uint32_t nTokens, const Buffer& y, uint32_t yOffset, uint32_t yStride, bool accumulate,
                    const Buffer* bias, MatMulKind kind, const MatMulInput& input)
{
    if (w.lowRankA) {
        auto& lr = const_cast<GpuWeight&>(w);
        if (lr.scratch.empty() || lr.scratchTokens < nTokens) {
            lr.scratch.push_back(std::make_unique<Buffer>(device_, VkDeviceSize(nTokens) * w.rank * sizeof(float),
                                                          Buffer::Kind::Device));
            lr.scratchTokens = nTokens;
        }
        const Buffer& t = *lr.scratch.back();
        matmul(s, layer, *w.lowRankB, x, xOffset, xStride, nTokens, t, 0, w.rank, false, nullptr, kind, input);
        s.barrier();
        matmul(s, layer, *w.lowRankA, t, 0, w.rank, nTokens, y, yOffset, yStride, accumulate, bias,
               input.kind == MatMulInput::Kind::RmsNorm && kind == MatMulKind::Vec ? MatMulKind::Auto : kind);
        return;
    }
    using In = MatMulInput::Kind;
    if (input.kind != In::Plain && !input.aux)
        throw InvalidArgument("matmul: fused input transform without its aux buffer");
    if (input.kind == In::RmsNorm && kind == MatMulKind::Tiled)
        throw InvalidArgument("matmul: a fused RMSNorm input needs the mat-vec shader");
    const uint32_t flags = (accumulate ? 1u : 0u) | (bias ? 2u : 0u) | (input.kind == In::RmsNorm ? 4u : 0u) |
                           (input.kind == In::SwiGLU ? 8u : 0u);
    const Buffer& b = bias ? *bias : x;
    const Buffer& aux = input.aux ? *input.aux : x;
    const std::string type = gpuWeightSuffix(w);
    const bool tiled = kind == MatMulKind::Tiled ||
                       (kind == MatMulKind::Auto && nTokens >= kTiledMinTokens && input.kind != In::RmsNorm);
    if (tiled) {
        struct { uint32_t K, M, N, rowBytes, xOffset, xStride, yOffset, yStride, flags; } pc{
            w.ne0, w.ne1, nTokens, w.rowBytes, xOffset, xStride, yOffset, yStride, flags};
        s.dispatch("matmul_" + type, layer, pipeline("matmul_" + type, 256), {&w.buffer, &x, &y, &b, &aux}, pc,
                   ceilDiv(w.ne1, 64), ceilDiv(nTokens, 32));
    } else {
        struct { uint32_t K, M, rowBytes, xOffset, xStride, yOffset, yStride, flags; float eps; } pc{
            w.ne0, w.ne1, w.rowBytes, xOffset, xStride, yOffset, yStride, flags, input.eps};
        // Subgroup variant: one row per subgroup, so a group covers kReduceWG / subgroupSize rows.
        const uint32_t sg = std::max<uint32_t>(device_.info().subgroupSize, 1);
        const uint32_t rowsPerGroup = subgroups_ ? std::max<uint32_t>(kReduceWG / sg, 1) : 1;
        s.dispatch("matvec_" + type, layer,
                   device_.pipelines().get(reduceVariant("matvec_" + type), {kReduceWG, rowsPerGroup}),
                   {&w.buffer, &x, &y, &b, &aux}, pc, ceilDiv(w.ne1, rowsPerGroup), nTokens);
    }
}

void GpuOps::rope(Sequence& s, int layer, const Buffer& x, const Buffer& params, uint32_t nTokens, uint32_t nHeads,
                  uint32_t headDim, uint32_t rowStride, float freqBase, float freqScale, bool neox)
{
    struct { uint32_t nTokens, nHeads, headDim, rowStride; float freqBase, freqScale; uint32_t neox; } pc{
        nTokens, nHeads, headDim, rowStride, freqBase, freqScale, neox ? 1u : 0u};
    s.dispatch("rope", layer, pipeline("rope", kElementWG), {&x, &params}, pc,
               ceilDiv(nTokens * nHeads * (headDim / 2), kElementWG));
}

void GpuOps::kvAppend(Sequence& s, int layer, const Buffer& k, const Buffer& v, const Buffer& kCache,
                      const Buffer& vCache, const Buffer& params, uint32_t nTokens, uint32_t kvDim,
                      uint32_t layerWordOffset, const KeyRope& rope)
{
    if (rope.enabled && (rope.headDim == 0 || rope.headDim % 2 != 0 || kvDim % rope.headDim != 0))
        throw InvalidArgument("kvAppend: RoPE head size must be even and divide the KV row");
    struct { uint32_t nTokens, kvDim, layerWordOffset, headDim; float freqBase, freqScale; uint32_t flags; } pc{
        nTokens, kvDim, layerWordOffset, rope.enabled ? rope.headDim : 2u, rope.freqBase, rope.freqScale,
        (rope.enabled ? 1u : 0u) | (rope.neox ? 2u : 0u)};
    s.dispatch("kv_append", layer, pipeline("kv_append", kElementWG), {&k, &v, &kCache, &vCache, &params}, pc,
               ceilDiv(nTokens * (kvDim / 2), kElementWG));
}

void GpuOps::attention(Sequence& s, int layer, const Buffer& q, const Buffer& kCache, const Buffer& vCache,
                       const Buffer& out, const Buffer& params, uint32_t nTokens, uint32_t nHead, uint32_t nHeadKv,
                       uint32_t headDim, uint32_t layerWordOffset)
{
    if (headDim > 256 || headDim % 2 != 0 || nHeadKv == 0 || nHead % nHeadKv != 0)
        throw UnsupportedError("Vulkan backend: attention needs an even head size <= 256 and nHead divisible by nHeadKv");
    struct { uint32_t nHead, nHeadKv, headDim, kvDim, layerWordOffset; float scale; } pc{
        nHead, nHeadKv, headDim, nHeadKv * headDim, layerWordOffset, 1.0f / std::sqrt(float(headDim))};
    s.dispatch("attention", layer, pipeline(reduceVariant("attention"), kAttentionWG),
               {&q, &kCache, &vCache, &out, &params}, pc, nHead, nTokens);
}

void GpuOps::ropeRows(Sequence& s, int layer, const Buffer& x, const Buffer& rows, uint32_t nTokens,
                      uint32_t nHeads, uint32_t headDim, uint32_t rowStride, float freqBase,
                      float freqScale, bool neox)
{
    struct { uint32_t nTokens, nHeads, headDim, rowStride; float freqBase, freqScale; uint32_t neox; } pc{
        nTokens, nHeads, headDim, rowStride, freqBase, freqScale, neox ? 1u : 0u};
    s.dispatch("rope", layer, pipeline("rope_paged", kElementWG), {&x, &rows}, pc,
               ceilDiv(nTokens * nHeads * (headDim / 2), kElementWG));
}

void GpuOps::kvAppendPaged(Sequence& s, int layer, const Buffer& k, const Buffer& v,
                           const Buffer& kCache, const Buffer& vCache, const PagedRows& paged,
                           uint32_t nTokens, uint32_t kvDim, uint32_t layerWordOffset,
                           const KeyRope& rope)
{
    if (rope.enabled && (rope.headDim == 0 || rope.headDim % 2 != 0 || kvDim % rope.headDim != 0))
        throw InvalidArgument("kvAppend: RoPE head size must be even and divide the KV row");
    if (!paged.rows || paged.blockSize == 0 || paged.maxBlocks == 0)
        throw InvalidArgument("kvAppendPaged: no rows buffer or block geometry");
    struct {
        uint32_t nTokens, kvDim, layerWordOffset, headDim;
        float freqBase, freqScale;
        uint32_t flags, blockSize, maxBlocks, tableOffset;
    } pc{nTokens, kvDim, layerWordOffset, rope.enabled ? rope.headDim : 2u, rope.freqBase, rope.freqScale,
         (rope.enabled ? 1u : 0u) | (rope.neox ? 2u : 0u), paged.blockSize, paged.maxBlocks, paged.tableOffset};
    s.dispatch("kv_append", layer, pipeline("kv_append_paged", kElementWG),
               {&k, &v, &kCache, &vCache, paged.rows}, pc, ceilDiv(nTokens * (kvDim / 2), kElementWG));
}

void GpuOps::attentionPaged(Sequence& s, int layer, const Buffer& q, const Buffer& kCache,
                            const Buffer& vCache, const Buffer& out, const PagedRows& paged,
                            uint32_t nTokens, uint32_t nHead, uint32_t nHeadKv, uint32_t headDim,
                            uint32_t layerWordOffset)
{
    if (headDim > 256 || headDim % 2 != 0 || nHeadKv == 0 || nHead % nHeadKv != 0)
        throw UnsupportedError("Vulkan backend: attention needs an even head size <= 256 and nHead divisible by nHeadKv");
    if (!paged.rows || paged.blockSize == 0 || paged.maxBlocks == 0)
        throw InvalidArgument("attentionPaged: no rows buffer or block geometry");
    struct {
        uint32_t nHead, nHeadKv, headDim, kvDim, layerWordOffset;
        float scale;
        uint32_t blockSize, maxBlocks, tableOffset;
    } pc{nHead, nHeadKv, headDim, nHeadKv * headDim, layerWordOffset, 1.0f / std::sqrt(float(headDim)),
         paged.blockSize, paged.maxBlocks, paged.tableOffset};
    s.dispatch("attention", layer, pipeline(reduceVariant("attention_paged"), kAttentionWG),
               {&q, &kCache, &vCache, &out, paged.rows}, pc, nHead, nTokens);
}

void GpuOps::gatherRows(Sequence& s, const Buffer& x, const Buffer& rows, uint32_t indexOffset,
                        uint32_t nRows, uint32_t n, const Buffer& out)
{
    struct { uint32_t nRows, n, indexOffset; } pc{nRows, n, indexOffset};
    s.dispatch("gather_rows", -1, pipeline("gather_rows", kElementWG), {&x, &rows, &out}, pc,
               ceilDiv(nRows * n, kElementWG));
}

void GpuOps::swiglu(Sequence& s, int layer, const Buffer& gate, const Buffer& up, uint32_t n)
{
    struct { uint32_t n; } pc{n};
    s.dispatch("swiglu", layer, pipeline("swiglu", kElementWG), {&gate, &up}, pc, ceilDiv(n, kElementWG));
}

void GpuOps::add(Sequence& s, int layer, const Buffer& x, const Buffer& y, uint32_t n)
{
    struct { uint32_t n; } pc{n};
    s.dispatch("add", layer, pipeline("add", kElementWG), {&x, &y}, pc, ceilDiv(n, kElementWG));
}

void GpuOps::argmax(Sequence& s, const Buffer& logits, uint32_t offset, uint32_t n, const Buffer& result)
{
    struct { uint32_t n, offset; } pc{n, offset};
    s.dispatch("argmax", -1, pipeline("argmax", 256), {&logits, &result}, pc, 1);
}

} // namespace tenfold::vk
