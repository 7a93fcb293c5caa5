// The AVX-512 micro-kernel: 8 activation rows x 32 weight rows, two zmm of partial sums per row
// (16 accumulators, enough to cover the FMA latency on two pipes). Per k two panel loads and eight
// broadcasts feed sixteen FMAs; the 6 x 16 shape before it spent a broadcast on every FMA. On one
// Zen 5 core (2026-12-02, a 512 x 2048 x 2048 product blocked as Matmul::runGemm does, the same
// padded panels for both) it reached 145-170 GFLOP/s against 120-135 for the 6 x 16 kernel; a
// loop of independent FMAs alone measured 185.
#include "runtime/gemm.h"

#include <immintrin.h>

namespace tenfold::gemm {
namespace {

inline __mmask16 columnMask(int n)
{
    return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// y[0..nr) (+)= lo, hi: the first 16 columns from lo, the next 16 from hi.
inline void storeRow(float* y, __m512 lo, __m512 hi, int nr, bool accumulate)
{
    const __mmask16 m0 = columnMask(nr), m1 = columnMask(nr - 16);
    if (accumulate) {
        lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(m0, y));
        hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(m1, y + 16));
    }
    _mm512_mask_storeu_ps(y, m0, lo);
    _mm512_mask_storeu_ps(y + 16, m1, hi);
}

} // namespace

void kernelAvx512(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
                  int64_t ldy, int nr, bool accumulate)
{
    // Rows beyond mr repeat the last real row (computed, never stored): one code path.
    const float* x0 = x;
    const float* x1 = x + (mr > 1 ? 1 : 0) * ldx;
    const float* x2 = x + (mr > 2 ? 2 : mr - 1) * ldx;
    const float* x3 = x + (mr > 3 ? 3 : mr - 1) * ldx;
    const float* x4 = x + (mr > 4 ? 4 : mr - 1) * ldx;
    const float* x5 = x + (mr > 5 ? 5 : mr - 1) * ldx;
    const float* x6 = x + (mr > 6 ? 6 : mr - 1) * ldx;
    const float* x7 = x + (mr > 7 ? 7 : mr - 1) * ldx;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    __m512 c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    for (int k = 0; k < K; ++k) {
        const __m512 b0 = _mm512_loadu_ps(panel + int64_t(k) * kNR512);
        const __m512 b1 = _mm512_loadu_ps(panel + int64_t(k) * kNR512 + 16);
        __m512 a = _mm512_set1_ps(x0[k]);
        c00 = _mm512_fmadd_ps(a, b0, c00);
        c01 = _mm512_fmadd_ps(a, b1, c01);
        a = _mm512_set1_ps(x1[k]);
        c10 = _mm512_fmadd_ps(a, b0, c10);
        c11 = _mm512_fmadd_ps(a, b1, c11);
        a = _mm512_set1_ps(x2[k]);
        c20 = _mm512_fmadd_ps(a, b0, c20);
        c21 = _mm512_fmadd_ps(a, b1, c21);
        a = _mm512_set1_ps(x3[k]);
        c30 = _mm512_fmadd_ps(a, b0, c30);
        c31 = _mm512_fmadd_ps(a, b1, c31);
        a = _mm512_set1_ps(x4[k]);
        c40 = _mm512_fmadd_ps(a, b0, c40);
        c41 = _mm512_fmadd_ps(a, b1, c41);
        a = _mm512_set1_ps(x5[k]);
        c50 = _mm512_fmadd_ps(a, b0, c50);
        c51 = _mm512_fmadd_ps(a, b1, c51);
        a = _mm512_set1_ps(x6[k]);
        c60 = _mm512_fmadd_ps(a, b0, c60);
        c61 = _mm512_fmadd_ps(a, b1, c61);
        a = _mm512_set1_ps(x7[k]);
        c70 = _mm512_fmadd_ps(a, b0, c70);
        c71 = _mm512_fmadd_ps(a, b1, c71);
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
    if (mr > 6)
        storeRow(y + 6 * ldy, c60, c61, nr, accumulate);
    if (mr > 7)
        storeRow(y + 7 * ldy, c70, c71, nr, accumulate);
}

} // namespace tenfold::gemm
