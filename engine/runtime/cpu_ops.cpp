#include "runtime/cpu_ops.h"

#include "tensor/half.h"

#include <cmath>
#include <cstring>

namespace tenfold {

void ropeTable(const int32_t* positions, int nPos, int ropeDim, float freqBase, float freqScale,
               float* cosOut, float* sinOut)
{
    const int half = ropeDim / 2;
    // The frequencies depend only on the dimension: one pow per dimension, not per position.
    for (int i = 0; i < half; ++i) {
        // double: the angle reaches thousands of radians at long positions
        const double invFreq = std::pow(double(freqBase), -2.0 * i / ropeDim);
        for (int t = 0; t < nPos; ++t) {
            const double theta = double(positions[t]) * double(freqScale) * invFreq;
            cosOut[size_t(t) * half + i] = float(std::cos(theta));
            sinOut[size_t(t) * half + i] = float(std::sin(theta));
        }
    }
}

namespace ref {

void rmsNorm(const float* x, const float* w, float* y, int n, float eps)
{
    float sum = 0.0f;
    for (int i = 0; i < n; ++i)
        sum += x[i] * x[i];
    const float scale = 1.0f / std::sqrt(sum / float(n) + eps);
    for (int i = 0; i < n; ++i)
        y[i] = x[i] * scale * w[i];
}

void rope(float* x, int nHeads, int headDim, int ropeDim, const float* cosT, const float* sinT,
          bool neox)
{
    const int half = ropeDim / 2;
    for (int h = 0; h < nHeads; ++h) {
        float* v = x + size_t(h) * headDim;
        for (int i = 0; i < half; ++i) {
            const int a = neox ? i : 2 * i;
            const int b = neox ? i + half : 2 * i + 1;
            const float x0 = v[a], x1 = v[b];
            v[a] = x0 * cosT[i] - x1 * sinT[i];
            v[b] = x0 * sinT[i] + x1 * cosT[i];
        }
    }
}

void softmax(float* x, int n)
{
    float mx = -INFINITY;
    for (int i = 0; i < n; ++i)
        mx = std::max(mx, x[i]);
    float sum = 0.0f;
    for (int i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - mx);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < n; ++i)
        x[i] *= inv;
}

void swiglu(const float* g, const float* u, float* h, int n)
{
    for (int i = 0; i < n; ++i)
        h[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

static float cacheValue(const void* base, GGMLType type, int64_t index)
{
    if (type == GGMLType::F16)
        return fp16ToFp32(static_cast<const uint16_t*>(base)[index]);
    return static_cast<const float*>(base)[index];
}

void attendOne(const float* q, const void* k, const void* v, GGMLType cacheType, int64_t stride,
               int nKv, int headDim, float scale, float* scores, float* out)
{
    for (int j = 0; j < nKv; ++j) {
        float s = 0.0f;
        for (int d = 0; d < headDim; ++d)
            s += q[d] * cacheValue(k, cacheType, int64_t(j) * stride + d);
        scores[j] = s * scale;
    }
    softmax(scores, nKv);
    for (int d = 0; d < headDim; ++d)
        out[d] = 0.0f;
    for (int j = 0; j < nKv; ++j)
        for (int d = 0; d < headDim; ++d)
            out[d] += scores[j] * cacheValue(v, cacheType, int64_t(j) * stride + d);
}

void attendBlocks(const float* q, const void* const* kBlocks, const void* const* vBlocks,
                  int64_t headOffset, int blockTokens, GGMLType cacheType, int64_t stride, int nKv,
                  int headDim, float scale, float* scores, float* out)
{
    // position j -> (block j / blockTokens, row j % blockTokens)
    auto at = [&](const void* const* blocks, int j, int d) {
        return cacheValue(blocks[j / blockTokens], cacheType,
                          headOffset + int64_t(j % blockTokens) * stride + d);
    };
    for (int j = 0; j < nKv; ++j) {
        float s = 0.0f;
        for (int d = 0; d < headDim; ++d)
            s += q[d] * at(kBlocks, j, d);
        scores[j] = s * scale;
    }
    softmax(scores, nKv);
    for (int d = 0; d < headDim; ++d)
        out[d] = 0.0f;
    for (int j = 0; j < nKv; ++j)
        for (int d = 0; d < headDim; ++d)
            out[d] += scores[j] * at(vBlocks, j, d);
}

} // namespace ref

bool cpuOpsUseAvx2()
{
#if defined(__x86_64__)
    static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                            __builtin_cpu_supports("f16c");
    return yes;
#else
    return false;
#endif
}

void rmsNorm(const float* x, const float* w, float* y, int n, float eps)
{
    if (cpuOpsUseAvx2())
        avx2::rmsNorm(x, w, y, n, eps);
    else
        ref::rmsNorm(x, w, y, n, eps);
}

void rope(float* x, int nHeads, int headDim, int ropeDim, const float* cosT, const float* sinT,
          bool neox)
{
    // Few flops per byte: the compiler's vectorisation of the reference is all this needs.
    ref::rope(x, nHeads, headDim, ropeDim, cosT, sinT, neox);
}

void swiglu(const float* g, const float* u, float* h, int n)
{
    if (cpuOpsUseAvx2())
        avx2::swiglu(g, u, h, n);
    else
        ref::swiglu(g, u, h, n);
}

void attendOne(const float* q, const void* k, const void* v, GGMLType cacheType, int64_t stride,
               int nKv, int headDim, float scale, float* scores, float* out)
{
    if (cpuOpsUseAvx2() && headDim % 8 == 0)
        avx2::attendOne(q, k, v, cacheType, stride, nKv, headDim, scale, scores, out);
    else
        ref::attendOne(q, k, v, cacheType, stride, nKv, headDim, scale, scores, out);
}

void attendBlocks(const float* q, const void* const* kBlocks, const void* const* vBlocks,
                  int64_t headOffset, int blockTokens, GGMLType cacheType, int64_t stride, int nKv,
                  int headDim, float scale, float* scores, float* out)
{
    if (cpuOpsUseAvx2() && headDim % 8 == 0)
        avx2::attendBlocks(q, kBlocks, vBlocks, headOffset, blockTokens, cacheType, stride, nKv,
                           headDim, scale, scores, out);
    else
        ref::attendBlocks(q, kBlocks, vBlocks, headOffset, blockTokens, cacheType, stride, nKv,
                          headDim, scale, scores, out);
}

void addInPlace(float* y, const float* x, int n)
{
    for (int i = 0; i < n; ++i)
        y[i] += x[i];
}

void storeCacheRow(const float* src, void* dst, GGMLType cacheType, int n)
{
    if (cacheType == GGMLType::F32) {
        std::memcpy(dst, src, size_t(n) * 4);
        return;
    }
    auto* d = static_cast<uint16_t*>(dst);
    if (cpuOpsUseAvx2()) {
        avx2::f32ToF16(src, d, n);
        return;
    }
    for (int i = 0; i < n; ++i)
        d[i] = fp32ToFp16(src[i]);
}

} // namespace tenfold
