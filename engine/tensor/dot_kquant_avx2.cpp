// AVX2 dot products of K-quant weight rows with Q8_K activations.
//
// Weights are unpacked to unsigned levels so _mm256_maddubs_epi16 can multiply them with the
// signed activations; group scales then weight the 16-bit pair sums through _mm256_madd_epi16.
// Offsets of the formats (-32 for Q6_K, -4 for Q3_K's missing high bit, the mins of Q2/4/5_K) are
// applied once per block from Q8_K's precomputed group sums (bsums) instead of per element.
#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"
#include "tensor/simd_avx2.h"

#include <cstring>

namespace tenfold::tensor_avx2 {
namespace {

// sum_g scale[g] * bsums[g] over 16 groups, scales given as 16 x i16.
inline int scaledGroupSums(__m256i scales16, const int16_t* bsums)
{
    return hsumI32(_mm256_madd_epi16(scales16, load256(bsums)));
}

// The 8 scales and 8 mins of a Q4_K/Q5_K block (scaleMinK4's packing) unpacked with a few word
// operations instead of 16 byte-by-byte extractions: out[0..7] the scales, out[8..15] the mins.
// Words 0-1 of the 12 bytes hold sc0-3 / m0-3 in their low 6 bits and the top 2 bits of sc4-7 /
// m4-7; word 2 holds the low 4 bits of sc4-7 (low nibbles) and m4-7 (high nibbles).
inline void unpackScalesMinsK4(const uint8_t* packed, uint8_t out[16])
{
    uint32_t w[3];
    std::memcpy(w, packed, 12);
    constexpr uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    const uint32_t u[4] = {
        w[0] & low6,                                      // sc0-3
        (w[2] & low4) | (((w[0] >> 6) & low2) << 4),      // sc4-7
        w[1] & low6,                                      // m0-3
        ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4) // m4-7
    };
    std::memcpy(out, u, 16);
}

// 8 mins of a Q4_K/Q5_K block: the sum of mins weighted by group activation sums (bsums holds 16
// sums of 16 activations; group g is bsums 2g and 2g + 1).
inline int minTerm(const uint8_t mins[8], const int16_t* bsums)
{
    const __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums)),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums + 8)));
    const __m128i prod = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mins))), pairs);
    const __m128i s2 = _mm_add_epi32(prod, _mm_unpackhi_epi64(prod, prod));
    return _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 1)));
}

} // namespace

float dotQ2_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ2_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i mask2 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    float minSum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = y[i].d * halfToFloat(x[i].d);
        const float dmin = y[i].d * halfToFloat(x[i].dmin);
        const __m128i packed = load128(x[i].scales);
        const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F)));
        minSum += dmin * float(scaledGroupSums(mins16, y[i].bsums));
        __m256i sumi = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load256(x[i].qs + 32 * half);
            for (int k = 0; k < 4; ++k) {
                const int g = 8 * half + 2 * k;
                const __m256i v = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), mask2);
                const __m256i p = _mm256_maddubs_epi16(v, load256(y[i].qs + 128 * half + 32 * k));
                const __m256i sc = splitBroadcast16(x[i].scales[g] & 0xF, x[i].scales[g + 1] & 0xF);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc) - minSum;
}

float dotQ3_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ3_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i mask2 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float offsetSum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = y[i].d * halfToFloat(x[i].d);
        int8_t sc[16];
        unpackQ3KScales(x[i].scales, sc);
        // level = low2 + 4*high - 4: multiply the unsigned part, subtract 4 * scaled group sums
        const __m256i sc16 = _mm256_cvtepi8_epi16(load128(sc));
        offsetSum += d * float(4 * scaledGroupSums(sc16, y[i].bsums));
        const __m256i hm = load256(x[i].hmask);
        __m256i sumi = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load256(x[i].qs + 32 * half);
            for (int k = 0; k < 4; ++k) {
                const int g = 8 * half + 2 * k;
                const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), mask2);
                const __m256i high = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * half + k), one), 2);
                const __m256i p = _mm256_maddubs_epi16(_mm256_or_si256(low, high), load256(y[i].qs + 128 * half + 32 * k));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, splitBroadcast16(sc[g], sc[g + 1])));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc) - offsetSum;
}

float dotQ4_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ4_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i mask4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    float minSum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = y[i].d * halfToFloat(x[i].d);
        const float dmin = y[i].d * halfToFloat(x[i].dmin);
        uint8_t scm[16];
        unpackScalesMinsK4(x[i].scales, scm);
        const uint8_t* sc = scm;
        minSum += dmin * float(minTerm(scm + 8, y[i].bsums));
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load256(x[i].qs + 32 * c);
            const __m256i lo = _mm256_and_si256(q, mask4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask4);
            const __m256i pLo = _mm256_maddubs_epi16(lo, load256(y[i].qs + 64 * c));
            const __m256i pHi = _mm256_maddubs_epi16(hi, load256(y[i].qs + 64 * c + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(pLo, _mm256_set1_epi16(sc[2 * c])));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(pHi, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc) - minSum;
}

float dotQ5_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ5_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i mask4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float minSum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = y[i].d * halfToFloat(x[i].d);
        const float dmin = y[i].d * halfToFloat(x[i].dmin);
        uint8_t scm[16];
        unpackScalesMinsK4(x[i].scales, scm);
        const uint8_t* sc = scm;
        minSum += dmin * float(minTerm(scm + 8, y[i].bsums));
        const __m256i hb = load256(x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load256(x[i].qs + 32 * c);
            const __m256i hLo = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), one), 4);
            const __m256i hHi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c + 1), one), 4);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, mask4), hLo);
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), mask4), hHi);
            const __m256i pLo = _mm256_maddubs_epi16(lo, load256(y[i].qs + 64 * c));
            const __m256i pHi = _mm256_maddubs_epi16(hi, load256(y[i].qs + 64 * c + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(pLo, _mm256_set1_epi16(sc[2 * c])));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(pHi, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc) - minSum;
}

float dotQ6_K(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i mask4 = _mm256_set1_epi8(0x0F), mask2 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = y[i].d * halfToFloat(x[i].d);
        const int8_t* sc = x[i].scales;
        // levels are stored +32: sum sc*(q-32)*a = sum sc*q*a - 32 * sum_g sc[g]*bsums[g]
        const __m256i offset = _mm256_slli_epi32(
            _mm256_madd_epi16(_mm256_cvtepi8_epi16(load128(sc)), load256(y[i].bsums)), 5);
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), offset);
        for (int half = 0; half < 2; ++half) {
            const __m256i qa = load256(x[i].ql + 64 * half);
            const __m256i qb = load256(x[i].ql + 64 * half + 32);
            const __m256i qh = load256(x[i].qh + 32 * half);
            const int8_t* aq = y[i].qs + 128 * half;
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(qa, mask4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(qb, mask4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), mask4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), mask4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4));
            for (int k = 0; k < 4; ++k) {
                const int g = 8 * half + 2 * k;
                const __m256i p = _mm256_maddubs_epi16(v[k], load256(aq + 32 * k));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, splitBroadcast16(sc[g], sc[g + 1])));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

} // namespace tenfold::tensor_avx2
