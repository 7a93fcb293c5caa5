// AVX2/FMA/F16C versions of the ops in cpu_ops.h. Same contracts as the ref:: versions.
#include "runtime/cpu_ops.h"

#include "tensor/half.h"
#include "tensor/simd_avx2.h"

#include <algorithm>
#include <cmath>

namespace tenfold::avx2 {

using tensor_avx2::exp;
using tensor_avx2::hmax;
using tensor_avx2::hsum;
using tensor_avx2::loadF16;

void rmsNorm(const float* x, const float* w, float* y, int n, float eps)
{
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        acc = _mm256_fmadd_ps(v, v, acc);
    }
    float sum = hsum(acc);
    for (; i < n; ++i)
        sum += x[i] * x[i];
    const float scale = 1.0f / std::sqrt(sum / float(n) + eps);
    const __m256 s = _mm256_set1_ps(scale);
    i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), s),
                                              _mm256_loadu_ps(w + i)));
    for (; i < n; ++i)
        y[i] = x[i] * scale * w[i];
}

void swiglu(const float* g, const float* u, float* h, int n)
{
    int i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        const __m256 gv = _mm256_loadu_ps(g + i);
        const __m256 e = exp(_mm256_sub_ps(_mm256_setzero_ps(), gv));
        const __m256 silu = _mm256_div_ps(gv, _mm256_add_ps(one, e));
        _mm256_storeu_ps(h + i, _mm256_mul_ps(silu, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; ++i)
        h[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void f32ToF16(const float* src, uint16_t* dst, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; ++i)
        dst[i] = fp32ToFp16(src[i]);
}

namespace {

template <bool F16>
inline __m256 loadCache(const void* base, int64_t index)
{
    if constexpr (F16)
        return loadF16(static_cast<const uint16_t*>(base) + index);
    else
        return _mm256_loadu_ps(static_cast<const float*>(base) + index);
}

// Scores of n keys `stride` elements apart: scores[j] = q . k[j] * scale, four keys at a time to
// hide the horizontal sums.
template <bool F16>
void scoreKeys(const float* q, const void* k, int64_t stride, int n, int headDim, float scale,
               float* scores)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < headDim; d += 8) {
            const __m256 qv = _mm256_loadu_ps(q + d);
            a0 = _mm256_fmadd_ps(qv, loadCache<F16>(k, int64_t(j) * stride + d), a0);
            a1 = _mm256_fmadd_ps(qv, loadCache<F16>(k, int64_t(j + 1) * stride + d), a1);
            a2 = _mm256_fmadd_ps(qv, loadCache<F16>(k, int64_t(j + 2) * stride + d), a2);
            a3 = _mm256_fmadd_ps(qv, loadCache<F16>(k, int64_t(j + 3) * stride + d), a3);
        }
        scores[j] = hsum(a0) * scale;
        scores[j + 1] = hsum(a1) * scale;
        scores[j + 2] = hsum(a2) * scale;
        scores[j + 3] = hsum(a3) * scale;
    }
    for (; j < n; ++j) {
        __m256 a = _mm256_setzero_ps();
        for (int d = 0; d < headDim; d += 8)
            a = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), loadCache<F16>(k, int64_t(j) * stride + d), a);
        scores[j] = hsum(a) * scale;
    }
}

// Softmax of scores[0..n) left unnormalised; returns 1 / sum.
float expScores(float* scores, int n)
{
    __m256 mxv = _mm256_set1_ps(-INFINITY);
    int j = 0;
    for (; j + 8 <= n; j += 8)
        mxv = _mm256_max_ps(mxv, _mm256_loadu_ps(scores + j));
    float mx = hmax(mxv);
    for (; j < n; ++j)
        mx = std::max(mx, scores[j]);
    const __m256 mxb = _mm256_set1_ps(mx);
    __m256 sumv = _mm256_setzero_ps();
    j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 e = exp(_mm256_sub_ps(_mm256_loadu_ps(scores + j), mxb));
        _mm256_storeu_ps(scores + j, e);
        sumv = _mm256_add_ps(sumv, e);
    }
    float sum = hsum(sumv);
    for (; j < n; ++j) {
        scores[j] = std::exp(scores[j] - mx);
        sum += scores[j];
    }
    return 1.0f / sum;
}

// One query head over nKv keys/values paged in blocks of blockTokens rows (a contiguous cache is
// one block of nKv rows).
template <bool F16>
void attend(const float* q, const void* const* kBlocks, const void* const* vBlocks,
            int64_t headOffset, int blockTokens, int64_t stride, int nKv, int headDim, float scale,
            float* scores, float* out)
{
    const size_t elem = F16 ? 2 : 4;
    auto block = [&](const void* const* blocks, int b) {
        return static_cast<const uint8_t*>(blocks[b]) + headOffset * int64_t(elem);
    };
    const int nBlocks = (nKv + blockTokens - 1) / blockTokens;
    for (int b = 0; b < nBlocks; ++b) {
        const int j0 = b * blockTokens;
        scoreKeys<F16>(q, block(kBlocks, b), stride, std::min(blockTokens, nKv - j0), headDim,
                       scale, scores + j0);
    }
    const float inv = expScores(scores, nKv);

    // out = sum_j p_j v[j], 32 dims of the head at a time kept in registers
    int d0 = 0;
    for (; d0 + 32 <= headDim; d0 += 32) {
        __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
        for (int b = 0; b < nBlocks; ++b) {
            const void* v = block(vBlocks, b);
            const int j0 = b * blockTokens, n = std::min(blockTokens, nKv - j0);
            for (int jj = 0; jj < n; ++jj) {
                const __m256 p = _mm256_set1_ps(scores[j0 + jj]);
                const int64_t base = int64_t(jj) * stride + d0;
                o0 = _mm256_fmadd_ps(p, loadCache<F16>(v, base), o0);
                o1 = _mm256_fmadd_ps(p, loadCache<F16>(v, base + 8), o1);
                o2 = _mm256_fmadd_ps(p, loadCache<F16>(v, base + 16), o2);
                o3 = _mm256_fmadd_ps(p, loadCache<F16>(v, base + 24), o3);
            }
        }
        const __m256 s = _mm256_set1_ps(inv);
        _mm256_storeu_ps(out + d0, _mm256_mul_ps(o0, s));
        _mm256_storeu_ps(out + d0 + 8, _mm256_mul_ps(o1, s));
        _mm256_storeu_ps(out + d0 + 16, _mm256_mul_ps(o2, s));
        _mm256_storeu_ps(out + d0 + 24, _mm256_mul_ps(o3, s));
    }
    for (; d0 < headDim; d0 += 8) {
        __m256 o = _mm256_setzero_ps();
        for (int b = 0; b < nBlocks; ++b) {
            const void* v = block(vBlocks, b);
            const int j0 = b * blockTokens, n = std::min(blockTokens, nKv - j0);
            for (int jj = 0; jj < n; ++jj)
                o = _mm256_fmadd_ps(_mm256_set1_ps(scores[j0 + jj]),
                                    loadCache<F16>(v, int64_t(jj) * stride + d0), o);
        }
        _mm256_storeu_ps(out + d0, _mm256_mul_ps(o, _mm256_set1_ps(inv)));
    }
}

} // namespace

void attendOne(const float* q, const void* k, const void* v, GGMLType cacheType, int64_t stride,
               int nKv, int headDim, float scale, float* scores, float* out)
{
    const void* kb[1] = {k};
    const void* vb[1] = {v};
    const int rows = std::max(nKv, 1);
    if (cacheType == GGMLType::F16)
        attend<true>(q, kb, vb, 0, rows, stride, nKv, headDim, scale, scores, out);
    else
        attend<false>(q, kb, vb, 0, rows, stride, nKv, headDim, scale, scores, out);
}

void attendBlocks(const float* q, const void* const* kBlocks, const void* const* vBlocks,
                  int64_t headOffset, int blockTokens, GGMLType cacheType, int64_t stride, int nKv,
                  int headDim, float scale, float* scores, float* out)
{
    if (cacheType == GGMLType::F16)
        attend<true>(q, kBlocks, vBlocks, headOffset, blockTokens, stride, nKv, headDim, scale,
                     scores, out);
    else
        attend<false>(q, kBlocks, vBlocks, headOffset, blockTokens, stride, nKv, headDim, scale,
                      scores, out);
}

} // namespace tenfold::avx2
