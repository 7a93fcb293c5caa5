// The AVX-512 micro-kernel: 6 activation rows x 16 weight rows, one zmm per row of partial sums.
// Six accumulators alone would leave the FMA units waiting on their latency, so even and odd k
// keep separate ones (12 in all, added at the end); per pair of k two panel loads feed twelve FMAs
// whose activation operands are broadcast from memory. Twice the lanes per FMA of the AVX2 kernel.
#include "runtime/gemm.h"

#include <immintrin.h>

namespace tenfold::gemm {
namespace {

inline void storeRow(float* y, __m512 v, int nr, bool accumulate)
{
    const __mmask16 m = nr >= kNR ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1u);
    if (accumulate)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, y));
    _mm512_mask_storeu_ps(y, m, v);
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
    __m512 e0 = _mm512_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0;
    __m512 o0 = e0, o1 = e0, o2 = e0, o3 = e0, o4 = e0, o5 = e0;
    int k = 0;
    for (; k + 2 <= K; k += 2) {
        const __m512 b0 = _mm512_loadu_ps(panel + int64_t(k) * kNR);
        const __m512 b1 = _mm512_loadu_ps(panel + int64_t(k + 1) * kNR);
        e0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[k]), b0, e0);
        e1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[k]), b0, e1);
        e2 = _mm512_fmadd_ps(_mm512_set1_ps(x2[k]), b0, e2);
        e3 = _mm512_fmadd_ps(_mm512_set1_ps(x3[k]), b0, e3);
        e4 = _mm512_fmadd_ps(_mm512_set1_ps(x4[k]), b0, e4);
        e5 = _mm512_fmadd_ps(_mm512_set1_ps(x5[k]), b0, e5);
        o0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[k + 1]), b1, o0);
        o1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[k + 1]), b1, o1);
        o2 = _mm512_fmadd_ps(_mm512_set1_ps(x2[k + 1]), b1, o2);
        o3 = _mm512_fmadd_ps(_mm512_set1_ps(x3[k + 1]), b1, o3);
        o4 = _mm512_fmadd_ps(_mm512_set1_ps(x4[k + 1]), b1, o4);
        o5 = _mm512_fmadd_ps(_mm512_set1_ps(x5[k + 1]), b1, o5);
    }
    if (k < K) {
        const __m512 b0 = _mm512_loadu_ps(panel + int64_t(k) * kNR);
        e0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[k]), b0, e0);
        e1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[k]), b0, e1);
        e2 = _mm512_fmadd_ps(_mm512_set1_ps(x2[k]), b0, e2);
        e3 = _mm512_fmadd_ps(_mm512_set1_ps(x3[k]), b0, e3);
        e4 = _mm512_fmadd_ps(_mm512_set1_ps(x4[k]), b0, e4);
        e5 = _mm512_fmadd_ps(_mm512_set1_ps(x5[k]), b0, e5);
    }
    storeRow(y, _mm512_add_ps(e0, o0), nr, accumulate);
    if (mr > 1)
        storeRow(y + ldy, _mm512_add_ps(e1, o1), nr, accumulate);
    if (mr > 2)
        storeRow(y + 2 * ldy, _mm512_add_ps(e2, o2), nr, accumulate);
    if (mr > 3)
        storeRow(y + 3 * ldy, _mm512_add_ps(e3, o3), nr, accumulate);
    if (mr > 4)
        storeRow(y + 4 * ldy, _mm512_add_ps(e4, o4), nr, accumulate);
    if (mr > 5)
        storeRow(y + 5 * ldy, _mm512_add_ps(e5, o5), nr, accumulate);
}

} // namespace tenfold::gemm
