// The AVX2/FMA micro-kernel: 6 activation rows x 16 weight rows, 12 accumulators in ymm registers,
// per k two panel loads and six broadcasts feed twelve FMAs. Named accumulators (not an array)
// keep GCC from spilling them to the stack on every iteration.
#include "runtime/gemm.h"

#include <immintrin.h>

namespace tenfold::gemm {
namespace {

inline void storeRow(float* y, __m256 lo, __m256 hi, int nr, bool accumulate)
{
    if (nr == kNR) {
        if (accumulate) {
            lo = _mm256_add_ps(lo, _mm256_loadu_ps(y));
            hi = _mm256_add_ps(hi, _mm256_loadu_ps(y + 8));
        }
        _mm256_storeu_ps(y, lo);
        _mm256_storeu_ps(y + 8, hi);
        return;
    }
    alignas(32) float tmp[kNR];
    _mm256_store_ps(tmp, lo);
    _mm256_store_ps(tmp + 8, hi);
    for (int c = 0; c < nr; ++c)
        y[c] = accumulate ? y[c] + tmp[c] : tmp[c];
}

} // namespace

void kernelAvx2(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
                int64_t ldy, int nr, bool accumulate)
{
    // Rows beyond mr repeat the last real row (computed, never stored): one code path.
    const float* x0 = x;
    const float* x1 = x + (mr > 1 ? 1 : 0) * ldx;
    const float* x2 = x + (mr > 2 ? 2 : mr - 1) * ldx;
    const float* x3 = x + (mr > 3 ? 3 : mr - 1) * ldx;
    const float* x4 = x + (mr > 4 ? 4 : mr - 1) * ldx;
    const float* x5 = x + (mr > 5 ? 5 : mr - 1) * ldx;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < K; ++k) {
        const __m256 b0 = _mm256_load_ps(panel + int64_t(k) * kNR);
        const __m256 b1 = _mm256_load_ps(panel + int64_t(k) * kNR + 8);
        __m256 a = _mm256_broadcast_ss(x0 + k);
        c00 = _mm256_fmadd_ps(a, b0, c00);
        c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(x1 + k);
        c10 = _mm256_fmadd_ps(a, b0, c10);
        c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(x2 + k);
        c20 = _mm256_fmadd_ps(a, b0, c20);
        c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(x3 + k);
        c30 = _mm256_fmadd_ps(a, b0, c30);
        c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(x4 + k);
        c40 = _mm256_fmadd_ps(a, b0, c40);
        c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(x5 + k);
        c50 = _mm256_fmadd_ps(a, b0, c50);
        c51 = _mm256_fmadd_ps(a, b1, c51);
    }
    storeRow(y, c00, c01, nr, accumulate);
    if (mr > 1)
        storeRow(y + ldy, c10, c11, nr, accumulate);
    if (mr > 2)
        storeRow(y + 2 * ldy, c20, c21, nr, accumulate);
    if (mr > 3)
        storeRow(y + 3 * ldy, c30, c31, nr, accumulate);
    if (mr > 4)
        storeRow(y + 4 * ldy, c40, c41, nr, accumulate);
    if (mr > 5)
        storeRow(y + 5 * ldy, c50, c51, nr, accumulate);
}

} // namespace tenfold::gemm
