#pragma once
// The forward pass's ops as dispatches recorded into a vk::Sequence: picks the shader variant
// (weight type, subgroup or shared-memory reductions), work-group size and push constants.
// Used by the Vulkan context for the whole pass and by the kernel tests one op at a time.
// Activations are F32 rows [token][features]; offsets and strides count floats.
#include "tensor/ggml_type.h"
#include "vk/buffer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tenfold::vk {

class Device;
class Sequence;

// A weight matrix resident on the device in its GGUF block layout: ne1 rows of ne0 elements.
// A low-rank factorised weight (docs/COMPRESSION.md) has no buffer of its own: matmul runs
// t = x B^T into `scratch`, a barrier, then y = t A^T, two dispatches of the factors' types.
struct GpuWeight {
    Buffer buffer;
    GGMLType type = GGMLType::F32;
    uint32_t ne0 = 0;
    uint32_t ne1 = 0;
    uint32_t rowBytes = 0;
    // A palette weight (2, 3 or 4 here; 0 otherwise): `buffer` holds a header, the packed indices,
    // the tables and the row scales (layout in shaders/dequant.glsl), rowBytes = index bytes per row.
    int paletteBits = 0;
    std::shared_ptr<GpuWeight> lowRankA, lowRankB; // [ne1 x r], [r x ne0]
    uint32_t rank = 0;
    // Grown on demand; replaced buffers are kept (a recorded sequence may still use them).
    std::vector<std::unique_ptr<Buffer>> scratch;
    uint32_t scratchTokens = 0;
};

// True when the shaders can dequantize this type.
bool gpuSupportsWeightType(GGMLType t);
// The shader variant suffix for a resident weight: its type's ("q4_0"), or "pal2"/"pal3"/"pal4".
std::string gpuWeightSuffix(const GpuWeight& w);

// A transform applied to mat-mul inputs as they are read, fusing the op that would otherwise
// produce them (one dispatch and one barrier fewer each).
struct MatMulInput {
    enum class Kind { Plain, RmsNorm, SwiGLU };
    Kind kind = Kind::Plain;
    const Buffer* aux = nullptr; // RmsNorm: the norm weight [K]; SwiGLU: up, laid out like x
    float eps = 0.0f;            // RmsNorm only
    static MatMulInput rmsNorm(const Buffer& w, float eps) { return {Kind::RmsNorm, &w, eps}; }
    static MatMulInput swiglu(const Buffer& up) { return {Kind::SwiGLU, &up, 0.0f}; }
};

// RoPE applied by kvAppend to keys on their way into the cache.
struct KeyRope {
    bool enabled = false;
    uint32_t headDim = 0;
    float freqBase = 10000.0f;
    float freqScale = 1.0f;
    bool neox = false;
};

class GpuOps {
public:
    enum class MatMulKind { Auto, Vec, Tiled };
    // Prompt batches of at least this many tokens use the tiled mat-mul.
    static constexpr uint32_t kTiledMinTokens = 8;

    explicit GpuOps(Device& device);
    bool usesSubgroups() const { return subgroups_; }

    // out[t][0..ne0) = row tokens[t] of table. tokens: int32 ids (validated by the caller).
    void embed(Sequence& s, const GpuWeight& table, const Buffer& tokens, uint32_t nTokens, const Buffer& out);
    // out rows [outOffset + r*n] = rmsnorm(x rows [inOffset + r*n]) * w, r < nRows.
    void rmsNorm(Sequence& s, int layer, const Buffer& x, uint32_t inOffset, uint32_t nRows, uint32_t n,
                 const Buffer& w, const Buffer& out, uint32_t outOffset, float eps);
    // y[t][r] (=|+=) W[r] . f(x[t]) (+ bias[r]) for t < nTokens, r < W.ne1, f from `input`.
    // A fused RMSNorm input needs the mat-vec (throws InvalidArgument with Tiled; Auto picks Vec).
    void matmul(Sequence& s, int layer, const GpuWeight& w, const Buffer& x, uint32_t xOffset, uint32_t xStride,
                uint32_t nTokens, const Buffer& y, uint32_t yOffset, uint32_t yStride, bool accumulate,
                const Buffer* bias, MatMulKind kind = MatMulKind::Auto, const MatMulInput& input = {});
    // In-place RoPE on x [nTokens][rowStride] (nHeads heads of headDim), positions params.pos0 + t.
    void rope(Sequence& s, int layer, const Buffer& x, const Buffer& params, uint32_t nTokens, uint32_t nHeads,
              uint32_t headDim, uint32_t rowStride, float freqBase, float freqScale, bool neox);
    // Writes k (rotated when rope.enabled), v [nTokens][kvDim] to the F16 caches at positions
    // params.pos0 + t.
    void kvAppend(Sequence& s, int layer, const Buffer& k, const Buffer& v, const Buffer& kCache,
                  const Buffer& vCache, const Buffer& params, uint32_t nTokens, uint32_t kvDim,
                  uint32_t layerWordOffset, const KeyRope& rope = {});
    void attention(Sequence& s, int layer, const Buffer& q, const Buffer& kCache, const Buffer& vCache,
                   const Buffer& out, const Buffer& params, uint32_t nTokens, uint32_t nHead, uint32_t nHeadKv,
                   uint32_t headDim, uint32_t layerWordOffset);

    // Batches of many sequences over a paged cache (runtime/kv_blocks.h). `rows` holds each
    // row's position (words 0..nTokens) and, from word paged.tableOffset, maxBlocks block ids per
    // row; the cache is a pool of blockSize-position blocks.
    struct PagedRows {
        const Buffer* rows = nullptr;
        uint32_t blockSize = 0;
        uint32_t maxBlocks = 0;
        uint32_t tableOffset = 0;
    };
    void ropeRows(Sequence& s, int layer, const Buffer& x, const Buffer& rows, uint32_t nTokens,
                  uint32_t nHeads, uint32_t headDim, uint32_t rowStride, float freqBase,
                  float freqScale, bool neox);
    void kvAppendPaged(Sequence& s, int layer, const Buffer& k, const Buffer& v, const Buffer& kCache,
                       const Buffer& vCache, const PagedRows& paged, uint32_t nTokens, uint32_t kvDim,
                       uint32_t layerWordOffset, const KeyRope& rope);
    void attentionPaged(Sequence& s, int layer, const Buffer& q, const Buffer& kCache,
                        const Buffer& vCache, const Buffer& out, const PagedRows& paged,
                        uint32_t nTokens, uint32_t nHead, uint32_t nHeadKv, uint32_t headDim,
                        uint32_t layerWordOffset);
    // out[r][0..n) = x[rows[indexOffset + r]][0..n), r < nRows.
    void gatherRows(Sequence& s, const Buffer& x, const Buffer& rows, uint32_t indexOffset,
                    uint32_t nRows, uint32_t n, const Buffer& out);

    // gate[i] = silu(gate[i]) * up[i], i < n.
    void swiglu(Sequence& s, int layer, const Buffer& gate, const Buffer& up, uint32_t n);
    // x[i] += y[i], i < n.
    void add(Sequence& s, int layer, const Buffer& x, const Buffer& y, uint32_t n);
    // result = {uint index, float value} of the max of logits[offset .. offset+n).
    void argmax(Sequence& s, const Buffer& logits, uint32_t offset, uint32_t n, const Buffer& result);

private:
    VkPipeline pipeline(const std::string& name, uint32_t workGroup);
    std::string reduceVariant(const std::string& base) const { return subgroups_ ? base + "_sg" : base; }

    Device& device_;
    bool subgroups_ = false;
};

std::string gpuTypeSuffix(GGMLType t); // "q4_0"

} // namespace tenfold::vk
