// AVX2 dequantizers. The runtime's GEMM path widens weight rows to f32 before multiplying, so
// these run once per weight row and activation block. They unpack levels exactly like the AVX2
// dots and then apply the same float operations, in the same order, as the scalar reference
// (a multiply, then a separate add or subtract -- never a fused one), so results are identical.
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"
#include "tensor/simd_avx2.h"

namespace tenfold {
namespace {
using namespace tensor_avx2;

// 32 signed byte levels -> 32 floats: q * scale (- offset). Bytes 0-15 use (scaleA, offsetA),
// bytes 16-31 (scaleB, offsetB), for formats whose groups are 16 elements.
template <bool kOffset>
inline void storeLevels(float* dst, __m256i q, float scaleA, float scaleB, float offsetA = 0, float offsetB = 0)
{
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i pieces[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; ++k) {
        const __m256 s = _mm256_set1_ps(k < 2 ? scaleA : scaleB);
        __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(pieces[k])), s);
        if constexpr (kOffset)
            v = _mm256_sub_ps(v, _mm256_set1_ps(k < 2 ? offsetA : offsetB));
        _mm256_storeu_ps(dst + 8 * k, v);
    }
}

// q * d + m, the legacy types with a min (scalar order: multiply, then add).
inline void storeLevelsPlusMin(float* dst, __m256i q, float d, float m)
{
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i pieces[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; ++k) {
        const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(pieces[k])), _mm256_set1_ps(d));
        _mm256_storeu_ps(dst + 8 * k, _mm256_add_ps(v, _mm256_set1_ps(m)));
    }
}

void dequantizeQ8_0(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ8_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = halfToFloat(b[i].d);
        storeLevels<false>(dst, load256(b[i].qs), d, d);
    }
}

void dequantizeQ4_0(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ4_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = halfToFloat(b[i].d);
        storeLevels<false>(dst, _mm256_sub_epi8(unpackNibbles32(b[i].qs), _mm256_set1_epi8(8)), d, d);
    }
}

void dequantizeQ4_1(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ4_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK)
        storeLevelsPlusMin(dst, unpackNibbles32(b[i].qs), halfToFloat(b[i].d), halfToFloat(b[i].m));
}

void dequantizeQ5_0(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ5_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = halfToFloat(b[i].d);
        const __m256i highClear = _mm256_andnot_si256(bitsToBytes(b[i].qh), _mm256_set1_epi8(int8_t(0xF0)));
        storeLevels<false>(dst, _mm256_or_si256(unpackNibbles32(b[i].qs), highClear), d, d);
    }
}

void dequantizeQ5_1(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ5_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const __m256i q =
            _mm256_or_si256(unpackNibbles32(b[i].qs), _mm256_and_si256(bitsToBytes(b[i].qh), _mm256_set1_epi8(0x10)));
        storeLevelsPlusMin(dst, q, halfToFloat(b[i].d), halfToFloat(b[i].m));
    }
}

void dequantizeQ2_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ2_K*>(src);
    const __m256i mask2 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = halfToFloat(b[i].d), dmin = halfToFloat(b[i].dmin);
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load256(b[i].qs + 32 * half);
            for (int k = 0; k < 4; ++k, dst += 32) {
                const int g = 8 * half + 2 * k;
                const uint8_t sa = b[i].scales[g], sb = b[i].scales[g + 1];
                storeLevels<true>(dst, _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), mask2), d * float(sa & 0xF),
                                  d * float(sb & 0xF), dmin * float(sa >> 4), dmin * float(sb >> 4));
            }
        }
    }
}

void dequantizeQ3_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ3_K*>(src);
    const __m256i mask2 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1), four = _mm256_set1_epi8(4);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = halfToFloat(b[i].d);
        int8_t sc[16];
        unpackQ3KScales(b[i].scales, sc);
        const __m256i hm = load256(b[i].hmask);
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load256(b[i].qs + 32 * half);
            for (int k = 0; k < 4; ++k, dst += 32) {
                const int g = 8 * half + 2 * k;
                const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), mask2);
                const __m256i high = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * half + k), one), 2);
                storeLevels<false>(dst, _mm256_sub_epi8(_mm256_or_si256(low, high), four), d * float(sc[g]),
                                   d * float(sc[g + 1]));
            }
        }
    }
}

template <bool kFive, typename Block>
void dequantizeScaleMinK(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const Block*>(src);
    const __m256i mask4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = halfToFloat(b[i].d), dmin = halfToFloat(b[i].dmin);
        __m256i hb = _mm256_setzero_si256();
        if constexpr (kFive)
            hb = load256(b[i].qh);
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load256(b[i].qs + 32 * c);
            __m256i lo = _mm256_and_si256(q, mask4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask4);
            if constexpr (kFive) {
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c + 1), one), 4));
            }
            for (int part = 0; part < 2; ++part, dst += 32) {
                uint8_t sc, m;
                scaleMinK4(2 * c + part, b[i].scales, sc, m);
                const float dl = d * float(sc), ml = dmin * float(m);
                storeLevels<true>(dst, part ? hi : lo, dl, dl, ml, ml);
            }
        }
    }
}

void dequantizeQ6_K(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockQ6_K*>(src);
    const __m256i mask4 = _mm256_set1_epi8(0x0F), mask2 = _mm256_set1_epi8(3), bias = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = halfToFloat(b[i].d);
        for (int half = 0; half < 2; ++half) {
            const __m256i qa = load256(b[i].ql + 64 * half);
            const __m256i qb = load256(b[i].ql + 64 * half + 32);
            const __m256i qh = load256(b[i].qh + 32 * half);
            const __m256i v[4] = {
                _mm256_or_si256(_mm256_and_si256(qa, mask4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4)),
                _mm256_or_si256(_mm256_and_si256(qb, mask4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), mask4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), mask4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4))};
            for (int k = 0; k < 4; ++k, dst += 32) {
                const int g = 8 * half + 2 * k;
                // scalar order: (d * scale) * level
                storeLevels<false>(dst, _mm256_sub_epi8(v[k], bias), d * float(b[i].scales[g]),
                                   d * float(b[i].scales[g + 1]));
            }
        }
    }
}

} // namespace

void installAvx2Dequantizers(KernelTable& t)
{
    t[int(GGMLType::Q8_0)].dequantizeRow = dequantizeQ8_0;
    t[int(GGMLType::Q4_0)].dequantizeRow = dequantizeQ4_0;
    t[int(GGMLType::Q4_1)].dequantizeRow = dequantizeQ4_1;
    t[int(GGMLType::Q5_0)].dequantizeRow = dequantizeQ5_0;
    t[int(GGMLType::Q5_1)].dequantizeRow = dequantizeQ5_1;
    t[int(GGMLType::Q2_K)].dequantizeRow = dequantizeQ2_K;
    t[int(GGMLType::Q3_K)].dequantizeRow = dequantizeQ3_K;
    t[int(GGMLType::Q4_K)].dequantizeRow = dequantizeScaleMinK<false, BlockQ4_K>;
    t[int(GGMLType::Q5_K)].dequantizeRow = dequantizeScaleMinK<true, BlockQ5_K>;
    t[int(GGMLType::Q6_K)].dequantizeRow = dequantizeQ6_K;
}

} // namespace tenfold
