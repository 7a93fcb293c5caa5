// Q4_0 products over the 8-row interleaved layout (repack_q4_0.h) with VPDPBUSD on 256-bit vectors
// (AVX-512 VL + VNNI): as the AVX2 kernel (repack_q4_0_avx2.cpp), but each nibble vector meets the
// broadcast activation bytes in one fused multiply-add-accumulate into int32 lanes that start at
// -8 * sum(a), instead of vpmaddubsw, adds and vpmaddwd. A block's 8 nibble vectors are unpacked
// once and serve up to 4 activation rows.
#include "tensor/repack_q4_0.h"
#include "tensor/repack_q4_0_terms.h"

#include <immintrin.h>

namespace tenfold::avx512 {
namespace {

template <int NC>
void groupCols(int64_t blocks, const BlockQ4_0x8* w, const BlockQ8_0* const* act, const Q4_0x8Terms& terms, int c0,
               float* out, size_t outStride)
{
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256 acc[NC];
    for (int c = 0; c < NC; ++c)
        acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
        __m256i lo[4], hi[4];
        for (int k = 0; k < 4; ++k) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs + 32 * k));
            lo[k] = _mm256_and_si256(q, low);
            hi[k] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
        }
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].d)));
        for (int c = 0; c < NC; ++c) {
            const int8_t* aq = act[c][b].qs;
            __m256i s = _mm256_set1_epi32(terms.offset(c0 + c, b));
            for (int k = 0; k < 4; ++k) {
                s = _mm256_dpbusd_epi32(s, lo[k], _mm256_set1_epi32(loadI32(aq + 4 * k)));
                s = _mm256_dpbusd_epi32(s, hi[k], _mm256_set1_epi32(loadI32(aq + 16 + 4 * k)));
            }
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(terms.scale(c0 + c, b))), _mm256_cvtepi32_ps(s), acc[c]);
        }
    }
    for (int c = 0; c < NC; ++c)
        _mm256_storeu_ps(out + size_t(c) * outStride, acc[c]);
}

// One activation row (decode): nothing to share the unpacked nibbles with, so each load is
// unpacked where it is used, and low and high nibbles sum in two chains of four VPDPBUSD instead
// of one of eight. Measured on one Zen 5 core (2026-12-02, 151 MB of weights, one column): 21.5
// GB/s with groupCols<1>, 26.9 with this; two chains inside groupCols<1>, the nibbles still
// unpacked up front, measured 22.3.
void groupCol(int64_t blocks, const BlockQ4_0x8* w, const BlockQ8_0* const* act, const Q4_0x8Terms& terms, int c0,
              float* out, size_t)
{
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
        const int8_t* aq = act[0][b].qs;
        __m256i sLo = _mm256_set1_epi32(terms.offset(c0, b)), sHi = _mm256_setzero_si256();
        for (int k = 0; k < 4; ++k) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs + 32 * k));
            sLo = _mm256_dpbusd_epi32(sLo, _mm256_and_si256(q, low), _mm256_set1_epi32(loadI32(aq + 4 * k)));
            sHi = _mm256_dpbusd_epi32(sHi, _mm256_and_si256(_mm256_srli_epi16(q, 4), low),
                                      _mm256_set1_epi32(loadI32(aq + 16 + 4 * k)));
        }
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].d)));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(terms.scale(c0, b))),
                              _mm256_cvtepi32_ps(_mm256_add_epi32(sLo, sHi)), acc);
    }
    _mm256_storeu_ps(out, acc);
}

} // namespace

void rowsQ4_0x8(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                size_t outStride)
{
    // 4 activation rows per tile, as AVX2: 8 (which AVX-512's 32 registers would hold) measured
    // the same on TinyLlama and Llama-3.2-1B pp512 (within 1%, 2026-12-01).
    forEachQ4_0x8Tile<groupCol, groupCols<2>, groupCols<3>, groupCols<4>>(n, w8, nGroups, a, aStride, nCols, out,
                                                                            outStride);
}

} // namespace tenfold::avx512
