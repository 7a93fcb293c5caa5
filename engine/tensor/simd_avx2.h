#pragma once
// AVX2 helpers shared by the *_avx2.cpp translation units of tensor and runtime. Include ONLY
// from files named *_avx2.cpp: those alone are compiled with -mavx2 -mfma -mf16c, and their code
// only runs after a CPU check (kernels.cpp, cpu_ops.cpp).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace tenfold::tensor_avx2 {

inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// exp(x) to about 2 ulp for x in [-87, 88]; smaller inputs flush to 0.
inline __m256 exp(__m256 x)
{
    const __m256 lo = _mm256_set1_ps(-87.3f), hi = _mm256_set1_ps(88.3f);
    const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // r = x - n ln2 in two steps (Cody-Waite) so r keeps its low bits
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 r2 = _mm256_mul_ps(r, r);
    p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(underflow, result);
}

inline int hsumI32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

inline float halfToFloat(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
// 8 halves -> 8 floats.
inline __m256 loadF16(const uint16_t* p) { return _mm256_cvtph_ps(load128(p)); }

// Pairwise sums of 16-bit lanes into 32-bit lanes.
inline __m256i sumPairsI16(__m256i v) { return _mm256_madd_epi16(v, _mm256_set1_epi16(1)); }

// Unsigned bytes (each < 128) times signed bytes: 8 lanes of i32, each the sum of 4 products.
inline __m256i dotU8I8(__m256i u, __m256i s) { return sumPairsI16(_mm256_maddubs_epi16(u, s)); }

// Signed bytes times signed bytes (x in [-127, 127] or -128): |x| * (y with x's sign), which
// maddubs accepts, and exact (pairs of products stay below 2^15).
inline __m256i dotI8I8(__m256i x, __m256i y)
{
    return dotU8I8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// 32 nibbles of a legacy block in element order: low nibbles (elements 0-15) then high (16-31).
inline __m256i unpackNibbles32(const uint8_t* qs)
{
    const __m128i raw = load128(qs);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, 0xFF where the bit is set (byte k <- bit k).
inline __m256i bitsToBytes(const uint8_t* bits4)
{
    uint32_t v;
    std::memcpy(&v, bits4, 4);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(int(v)),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
    const __m256i select = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
}

// Two 16-bit values broadcast to the low and high 128-bit halves.
inline __m256i splitBroadcast16(int low, int high)
{
    return _mm256_set_m128i(_mm_set1_epi16(int16_t(high)), _mm_set1_epi16(int16_t(low)));
}

} // namespace tenfold::tensor_avx2
