// AVX2 kernels for IQ4_NL and IQ4_XS: the 4-bit indices become their signed table levels with one
// byte shuffle (the 16-entry table fits a 128-bit lane), then multiply the int8 activations as
// the legacy types do. Dequantizers are bit-identical to the scalar reference (one multiply per
// element by the same scale); dots agree with it within float summation order.
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"
#include "tensor/simd_avx2.h"

namespace tenfold {
namespace {
using namespace tensor_avx2;

inline __m256i levelTable()
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4Values)));
}

// The 32 levels of one 32-element (sub-)block in element order.
inline __m256i levels32(const uint8_t* qs, __m256i table) { return _mm256_shuffle_epi8(table, unpackNibbles32(qs)); }

// 16 pair sums (i16) of levels x activations; exact: |level| <= 127 and activations never -128.
inline __m256i pairSums(__m256i levels, __m256i act)
{
    return _mm256_maddubs_epi16(_mm256_sign_epi8(levels, levels), _mm256_sign_epi8(act, levels));
}

float dotIQ4_NL(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockIQ4_NL*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const int64_t nb = n / kQK;
    const __m256i table = levelTable();
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) { // two accumulators hide the FMA latency
        const __m256i p0 = sumPairsI16(pairSums(levels32(x[i].qs, table), load256(y[i].qs)));
        const __m256i p1 = sumPairsI16(pairSums(levels32(x[i + 1].qs, table), load256(y[i + 1].qs)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].d) * halfToFloat(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i + 1].d) * halfToFloat(y[i + 1].d)),
                               _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; ++i) {
        const __m256i p = sumPairsI16(pairSums(levels32(x[i].qs, table), load256(y[i].qs)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].d) * halfToFloat(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

float dotIQ4_XS(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockIQ4_XS*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i table = levelTable();
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        // sum_s (ls_s - 32) * dot_s, in i32: |dot_s| <= 32 * 127 * 127, times 32, times 8 fits
        __m256i sumi = _mm256_setzero_si256();
        for (int s = 0; s < 8; ++s) {
            const __m256i p = pairSums(levels32(x[i].qs + 16 * s, table), load256(y[i].qs + kQK * s));
            const __m256i scale = _mm256_set1_epi16(int16_t(iq4xsSubScale(x[i], s) - 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * halfToFloat(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

// 32 signed byte levels -> 32 floats, each times `scale` (one multiply, as the reference).
inline void storeScaled(float* dst, __m256i q, float scale)
{
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i pieces[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    const __m256 s = _mm256_set1_ps(scale);
    for (int k = 0; k < 4; ++k)
        _mm256_storeu_ps(dst + 8 * k, _mm256_mul_ps(s, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(pieces[k]))));
}

void dequantizeIQ4_NL(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockIQ4_NL*>(src);
    const __m256i table = levelTable();
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK)
        storeScaled(dst, levels32(b[i].qs, table), halfToFloat(b[i].d));
}

void dequantizeIQ4_XS(const void* src, float* dst, int64_t n)
{
    const auto* b = static_cast<const BlockIQ4_XS*>(src);
    const __m256i table = levelTable();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = halfToFloat(b[i].d);
        for (int s = 0; s < 8; ++s, dst += kQK)
            storeScaled(dst, levels32(b[i].qs + 16 * s, table), d * float(iq4xsSubScale(b[i], s) - 32));
    }
}

} // namespace

void installAvx2IQ4Kernels(KernelTable& t)
{
    for (GGMLType type : {GGMLType::IQ4_NL, GGMLType::IQ4_XS})
        t[int(type)].vecDotTile = nullptr; // callers loop over the fast dot
    t[int(GGMLType::IQ4_NL)].vecDot = dotIQ4_NL;
    t[int(GGMLType::IQ4_NL)].dequantizeRow = dequantizeIQ4_NL;
    t[int(GGMLType::IQ4_XS)].vecDot = dotIQ4_XS;
    t[int(GGMLType::IQ4_XS)].dequantizeRow = dequantizeIQ4_XS;
}

} // namespace tenfold
