// AVX2 + FMA + F16C kernels for the float types and the 32-element block quants, plus the
// activation quantizers on the hot path (F16, Q8_0, Q8_K). Reached only through kernels() after a
// CPU check. Quantizers are bit-identical to the scalar reference; dots agree within rounding.
#include "tensor/half.h"
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"
#include "tensor/simd_avx2.h"

#include <cmath>
#include <vector>

namespace tenfold {
namespace tensor_avx2 {
float dotQ2_K(int64_t n, const void* w, const void* a);
float dotQ3_K(int64_t n, const void* w, const void* a);
float dotQ4_K(int64_t n, const void* w, const void* a);
float dotQ5_K(int64_t n, const void* w, const void* a);
float dotQ6_K(int64_t n, const void* w, const void* a);
} // namespace tensor_avx2

namespace {
using namespace tensor_avx2;

// ---- float types ------------------------------------------------------------------------------

inline __m256 loadBF16(const uint16_t* p)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(p)), 16));
}
inline __m256 loadF32(const float* p) { return _mm256_loadu_ps(p); }

// Four independent accumulators hide the FMA latency; the tail runs 8 at a time, then scalar.
template <typename T, __m256 (*Load)(const T*), float (*Scalar)(T)>
float floatDot(int64_t n, const void* w, const void* a)
{
    const T* x = static_cast<const T*>(w);
    const T* y = static_cast<const T*>(a);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(Load(x + i), Load(y + i), acc0);
        acc1 = _mm256_fmadd_ps(Load(x + i + 8), Load(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(Load(x + i + 16), Load(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(Load(x + i + 24), Load(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(Load(x + i), Load(y + i), acc0);
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; ++i)
        sum += Scalar(x[i]) * Scalar(y[i]);
    return sum;
}

float identity(float v) { return v; }

float dotF32(int64_t n, const void* w, const void* a) { return floatDot<float, loadF32, identity>(n, w, a); }
float dotF16(int64_t n, const void* w, const void* a) { return floatDot<uint16_t, loadF16, fp16ToFp32>(n, w, a); }
float dotBF16(int64_t n, const void* w, const void* a) { return floatDot<uint16_t, loadBF16, bf16ToFp32>(n, w, a); }

void dequantizeF16(const void* src, float* dst, int64_t n)
{
    const auto* h = static_cast<const uint16_t*>(src);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, loadF16(h + i));
    for (; i < n; ++i)
        dst[i] = fp16ToFp32(h[i]);
}

void quantizeF16(const float* src, void* dst, int64_t n)
{
    auto* h = static_cast<uint16_t*>(dst);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; ++i)
        h[i] = fp32ToFp16(src[i]);
}

void dequantizeBF16(const void* src, float* dst, int64_t n)
{
    const auto* h = static_cast<const uint16_t*>(src);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, loadBF16(h + i));
    for (; i < n; ++i)
        dst[i] = bf16ToFp32(h[i]);
}

// ---- 32-element block quants x Q8_0 -----------------------------------------------------------

float dotQ8_0(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const int64_t nb = n / kQK;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        const __m256i p0 = dotI8I8(load256(x[i].qs), load256(y[i].qs));
        const __m256i p1 = dotI8I8(load256(x[i + 1].qs), load256(y[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].d) * halfToFloat(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i + 1].d) * halfToFloat(y[i + 1].d)),
                               _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; ++i) {
        const __m256i p = dotI8I8(load256(x[i].qs), load256(y[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].d) * halfToFloat(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

float dotQ4_0(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const int64_t nb = n / kQK;
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        const __m256i q0 = _mm256_sub_epi8(unpackNibbles32(x[i].qs), eight);
        const __m256i q1 = _mm256_sub_epi8(unpackNibbles32(x[i + 1].qs), eight);
        const __m256i p0 = dotI8I8(q0, load256(y[i].qs));
        const __m256i p1 = dotI8I8(q1, load256(y[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].d) * halfToFloat(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i + 1].d) * halfToFloat(y[i + 1].d)),
                               _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; ++i) {
        const __m256i q = _mm256_sub_epi8(unpackNibbles32(x[i].qs), eight);
        const __m256i p = dotI8I8(q, load256(y[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].d) * halfToFloat(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

// Decode's Q4_0 mat-vec. vpmaddubsw multiplies unsigned by signed bytes, so the nibbles go in as
// stored (q in [0, 15] for the value q - 8; |q * a| pairs stay within int16) and the offset's
// share, -8 * sum(a) per 32-bit lane, the same for every weight row, is computed once per
// activation block and starts each row's sum. Per weight block that leaves unpack, multiply-add,
// widen, add and one FMA: three instructions fewer than dotQ4_0's sign trick, which matters
// because Q4_0 decode is bound by these instructions, not by memory, on AVX2 machines.
struct Q4_0ActivationTerms {
    std::vector<__m256i> base; // -8 * sum of each lane's 4 activation bytes
    std::vector<float> scale;
    void compute(const BlockQ8_0* act, int64_t blocks)
    {
        if (int64_t(base.size()) < blocks) {
            base.resize(size_t(blocks));
            scale.resize(size_t(blocks));
        }
        const __m256i ones = _mm256_set1_epi8(1);
        for (int64_t b = 0; b < blocks; ++b) {
            const __m256i sums = dotU8I8(ones, load256(act[b].qs));
            base[size_t(b)] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sums, 3));
            scale[size_t(b)] = halfToFloat(act[b].d);
        }
    }
};

// 32 nibbles in element order (low nibbles are elements 0-15, high nibbles 16-31) as bytes 0..15.
inline __m256i q4Nibbles(const uint8_t* qs)
{
    const __m128i x = load128(qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), _mm256_set1_epi8(0x0F));
}

// One row as one sequential stream (the prefetchers follow it; interleaving rows block by block
// was measured slower once the weights come from DRAM, see kernels_avx512.cpp).
float rowDotQ4_0(int64_t blocks, const BlockQ4_0* wb, const BlockQ8_0* act, const Q4_0ActivationTerms& terms)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    const auto step = [&](int64_t i, __m256& acc) {
        const __m256i p = _mm256_add_epi32(terms.base[size_t(i)], dotU8I8(q4Nibbles(wb[i].qs), load256(act[i].qs)));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(wb[i].d) * terms.scale[size_t(i)]), _mm256_cvtepi32_ps(p), acc);
    };
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        step(b, acc0);
        step(b + 1, acc1);
    }
    for (; b < blocks; ++b)
        step(b, acc0);
    return hsum(_mm256_add_ps(acc0, acc1));
}

// out[r] = dot(w row r, a), r < nRows
void rowsQ4_0(int64_t n, const void* w, size_t wStride, int nRows, const void* a, float* out)
{
    thread_local Q4_0ActivationTerms terms;
    const auto* act = static_cast<const BlockQ8_0*>(a);
    const int64_t blocks = n / kQK;
    terms.compute(act, blocks);
    for (int r = 0; r < nRows; ++r)
        out[r] = rowDotQ4_0(blocks, reinterpret_cast<const BlockQ4_0*>(static_cast<const char*>(w) + size_t(r) * wStride),
                            act, terms);
}

// Types with an offset m: sum (q*d + m) * a = d*da*sum(q*a) + m*da*sum(a).
template <typename Block, bool kFiveBit>
float dotWithMin(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const Block*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const __m256i ones = _mm256_set1_epi8(1);
    __m256 accQ = _mm256_setzero_ps(), accM = accQ;
    for (int64_t i = 0; i < n / kQK; ++i) {
        __m256i q = unpackNibbles32(x[i].qs);
        if constexpr (kFiveBit)
            q = _mm256_or_si256(q, _mm256_and_si256(bitsToBytes(x[i].qh), _mm256_set1_epi8(0x10)));
        const __m256i av = load256(y[i].qs);
        const float da = halfToFloat(y[i].d);
        accQ = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].d) * da), _mm256_cvtepi32_ps(dotU8I8(q, av)), accQ);
        accM = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].m) * da), _mm256_cvtepi32_ps(dotU8I8(ones, av)), accM);
    }
    return hsum(_mm256_add_ps(accQ, accM));
}

float dotQ5_0(int64_t n, const void* w, const void* a)
{
    const auto* x = static_cast<const BlockQ5_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK; ++i) {
        // (low4 | high<<4) - 16 == low4 with the top nibble set to 0xF when the high bit is clear
        const __m256i highClear = _mm256_andnot_si256(bitsToBytes(x[i].qh), _mm256_set1_epi8(int8_t(0xF0)));
        const __m256i q = _mm256_or_si256(unpackNibbles32(x[i].qs), highClear);
        const __m256i p = dotI8I8(q, load256(y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(halfToFloat(x[i].d) * halfToFloat(y[i].d)), _mm256_cvtepi32_ps(p), acc);
    }
    return hsum(acc);
}

// ---- activation quantizers (bit-identical to the reference) -----------------------------------

inline float absMax(const float* x, int n)
{
    const __m256 signBit = _mm256_set1_ps(-0.f);
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8)
        m = _mm256_max_ps(m, _mm256_andnot_ps(signBit, _mm256_loadu_ps(x + j)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 32 i32 lanes (4 vectors) -> 32 bytes in order.
inline __m256i packI32ToI8(__m256i a, __m256i b, __m256i c, __m256i d)
{
    const __m256i ab = _mm256_packs_epi32(a, b); // lanes interleave per 128-bit half
    const __m256i cd = _mm256_packs_epi32(c, d);
    const __m256i abcd = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// roundf: to nearest, halves away from zero, exactly (y - trunc(y) is exact).
inline __m256i roundHalfAway(__m256 y)
{
    const __m256 t = _mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 signBit = _mm256_set1_ps(-0.f);
    const __m256 frac = _mm256_andnot_ps(signBit, _mm256_sub_ps(y, t));
    const __m256 bump = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ),
                                      _mm256_or_ps(_mm256_set1_ps(1.f), _mm256_and_ps(y, signBit)));
    return _mm256_cvttps_epi32(_mm256_add_ps(t, bump));
}

void quantizeQ8_0(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        const float d = absMax(src, kQK) / 127.f;
        const float id = d != 0 ? 1.f / d : 0.f;
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; ++k)
            q[k] = roundHalfAway(_mm256_mul_ps(_mm256_loadu_ps(src + 8 * k), vid));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs), packI32ToI8(q[0], q[1], q[2], q[3]));
    }
}

void quantizeQ8_K(const float* src, void* dst, int64_t n)
{
    auto* b = static_cast<BlockQ8_K*>(dst);
    const __m256 signBit = _mm256_set1_ps(-0.f);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        const float amax = absMax(src, kQKK);
        if (amax == 0) {
            std::memset(&b[i], 0, sizeof(BlockQ8_K));
            continue;
        }
        // the first element reaching amax decides the sign, as in the reference
        float max = 0;
        for (int j = 0; j < kQKK; j += 8) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(signBit, _mm256_loadu_ps(src + j)),
                                                             _mm256_set1_ps(amax), _CMP_EQ_OQ));
            if (hit) {
                max = src[j + __builtin_ctz(unsigned(hit))];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i limit = _mm256_set1_epi32(127);
        for (int j = 0; j < kQKK; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; ++k) // cvtps rounds to nearest even, like nearestInt
                q[k] = _mm256_min_epi32(limit, _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(src + j + 8 * k))));
            const __m256i bytes = packI32ToI8(q[0], q[1], q[2], q[3]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs + j), bytes);
            // group sums: bytes 0-15 and 16-31 are the two groups of 16
            __m256i s = dotI8I8(_mm256_set1_epi8(1), bytes);
            s = _mm256_hadd_epi32(s, s);
            s = _mm256_hadd_epi32(s, s);
            b[i].bsums[j / 16] = int16_t(_mm256_extract_epi32(s, 0));
            b[i].bsums[j / 16 + 1] = int16_t(_mm256_extract_epi32(s, 4));
        }
        b[i].d = 1 / iscale;
    }
}

} // namespace

void installAvx2Kernels(KernelTable& t)
{
    auto set = [&](GGMLType type, float (*dot)(int64_t, const void*, const void*)) {
        t[int(type)].vecDot = dot;
        t[int(type)].vecDotTile = nullptr; // callers loop over the fast dot unless a tile exists
    };
    set(GGMLType::F32, dotF32);
    set(GGMLType::F16, dotF16);
    set(GGMLType::BF16, dotBF16);
    set(GGMLType::Q8_0, dotQ8_0);
    set(GGMLType::Q4_0, dotQ4_0);
    set(GGMLType::Q4_1, dotWithMin<BlockQ4_1, false>);
    set(GGMLType::Q5_0, dotQ5_0);
    set(GGMLType::Q5_1, dotWithMin<BlockQ5_1, true>);
    set(GGMLType::Q2_K, tensor_avx2::dotQ2_K);
    set(GGMLType::Q3_K, tensor_avx2::dotQ3_K);
    set(GGMLType::Q4_K, tensor_avx2::dotQ4_K);
    set(GGMLType::Q5_K, tensor_avx2::dotQ5_K);
    set(GGMLType::Q6_K, tensor_avx2::dotQ6_K);
    t[int(GGMLType::Q4_0)].vecDotRows = rowsQ4_0;
    t[int(GGMLType::F16)].dequantizeRow = dequantizeF16;
    t[int(GGMLType::F16)].quantizeRow = quantizeF16;
    t[int(GGMLType::BF16)].dequantizeRow = dequantizeBF16;
    t[int(GGMLType::Q8_0)].quantizeRow = quantizeQ8_0;
    t[int(GGMLType::Q8_K)].quantizeRow = quantizeQ8_K;
}

} // namespace tenfold
