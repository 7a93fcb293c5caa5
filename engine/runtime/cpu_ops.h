#pragma once
// The CPU backend's element-wise and attention ops. Each has a plain scalar reference (ref::) that
// the tests compare against, and a dispatched entry point that uses AVX2/FMA/F16C when the CPU has
// them. All accumulate in F32.
#include "tensor/ggml_type.h"

#include <cstdint>

namespace tenfold {

// cos/sin of every rotated pair at each position: table[t * ropeDim/2 + i] for pair i of
// position positions[t]. theta = pos * freqScale * base^(-2i / ropeDim).
void ropeTable(const int32_t* positions, int nPos, int ropeDim, float freqBase, float freqScale,
               float* cosOut, float* sinOut);

namespace ref {

// y[n] = x[n] / sqrt(mean(x^2) + eps) * w[n]
void rmsNorm(const float* x, const float* w, float* y, int n, float eps);
// In place over nHeads heads of headDim floats; the first ropeDim dims of each head rotate.
// Normal mode pairs (2i, 2i+1); NeoX pairs (i, i + ropeDim/2). cosT/sinT: ropeDim/2 entries.
void rope(float* x, int nHeads, int headDim, int ropeDim, const float* cosT, const float* sinT,
          bool neox);
// x[n] = exp(x - max) / sum
void softmax(float* x, int n);
// h[n] = silu(g[n]) * u[n]
void swiglu(const float* g, const float* u, float* h, int n);
// One query head over nKv cached positions (keys/values of one KV head, `stride` elements apart,
// element type F16 or F32). scores: scratch of nKv floats. out[headDim].
void attendOne(const float* q, const void* k, const void* v, GGMLType cacheType, int64_t stride,
               int nKv, int headDim, float scale, float* scores, float* out);
// The same over a paged cache: key j lives in block kBlocks[j / blockTokens] at row
// j % blockTokens, i.e. at kBlocks[b] + headOffset + (j % blockTokens) * stride elements (values
// likewise). With one block of nKv rows it is attendOne.
void attendBlocks(const float* q, const void* const* kBlocks, const void* const* vBlocks,
                  int64_t headOffset, int blockTokens, GGMLType cacheType, int64_t stride, int nKv,
                  int headDim, float scale, float* scores, float* out);

} // namespace ref

// Dispatched versions (same contracts as ref::).
void rmsNorm(const float* x, const float* w, float* y, int n, float eps);
void rope(float* x, int nHeads, int headDim, int ropeDim, const float* cosT, const float* sinT,
          bool neox);
void swiglu(const float* g, const float* u, float* h, int n);
void attendOne(const float* q, const void* k, const void* v, GGMLType cacheType, int64_t stride,
               int nKv, int headDim, float scale, float* scores, float* out);
void attendBlocks(const float* q, const void* const* kBlocks, const void* const* vBlocks,
                  int64_t headOffset, int blockTokens, GGMLType cacheType, int64_t stride, int nKv,
                  int headDim, float scale, float* scores, float* out);
// y[n] += x[n]
void addInPlace(float* y, const float* x, int n);
// F32 -> cache element type (F16 or F32), n elements.
void storeCacheRow(const float* src, void* dst, GGMLType cacheType, int n);

// True when the AVX2/FMA/F16C paths are in use.
bool cpuOpsUseAvx2();

namespace avx2 {
// Defined in cpu_ops_avx2.cpp; only called when cpuOpsUseAvx2().
void rmsNorm(const float* x, const float* w, float* y, int n, float eps);
void swiglu(const float* g, const float* u, float* h, int n);
void attendOne(const float* q, const void* k, const void* v, GGMLType cacheType, int64_t stride,
               int nKv, int headDim, float scale, float* scores, float* out);
void attendBlocks(const float* q, const void* const* kBlocks, const void* const* vBlocks,
                  int64_t headOffset, int blockTokens, GGMLType cacheType, int64_t stride, int nKv,
                  int headDim, float scale, float* scores, float* out);
void f32ToF16(const float* src, uint16_t* dst, int n);
} // namespace avx2

} // namespace tenfold
