// AVX-512 VNNI kernels (used on 256-bit vectors through AVX-512VL, where VPDPBUSD fuses the
// multiply, pairwise add and accumulate that AVX2 needs three instructions for) for the decode
// hot path of the 8-bit and 4-bit legacy quants: single dots, and several weight rows against one
// activation row whose per-block terms are computed once for all of them. Compiled
// with AVX-512 flags; reached only through kernels() after cpuLevelDetected() says Avx512Vnni.
//
// VPDPBUSD multiplies unsigned by signed bytes. Both weight formats are offset to unsigned:
// Q4_0 stores q in [0, 15] for the value q - 8, and a Q8_0 weight w in [-128, 127] becomes
// w + 128 (one XOR). The offset's contribution, offset * sum(a), is the same for every weight row
// of a block, so it is computed once per activation block and used as each row's starting sum.
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"

#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace tenfold {
namespace {

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 32 nibbles in element order (low nibbles are elements 0-15, high nibbles 16-31) as bytes.
inline __m256i nibbles(const uint8_t* qs)
{
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), _mm256_set1_epi8(0x0F));
}

// -offset * sum(a) per 32-bit lane (each lane covers 4 activation bytes).
inline __m256i offsetTerm(__m256i a, int shift)
{
    const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), a);
    return _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sums, shift));
}

// The activation side of a Q8_0 row, per block: its scale as a float and -offset * sum(a) per
// lane, computed once per mat-vec call and shared by every weight row (kept per thread).
struct ActivationTerms {
    std::vector<__m256i> base;
    std::vector<float> scale;
    void compute(const BlockQ8_0* act, int64_t blocks, int shift)
    {
        if (int64_t(base.size()) < blocks) {
            base.resize(size_t(blocks));
            scale.resize(size_t(blocks));
        }
        for (int64_t b = 0; b < blocks; ++b) {
            base[size_t(b)] = offsetTerm(load256(act[b].qs), shift);
            scale[size_t(b)] = half(act[b].d);
        }
    }
};

// Weight bytes as VPDPBUSD's unsigned operand: Q4_0's nibbles as they are (q, value q - 8), a
// Q8_0 weight w as w + 128 (one XOR).
template <bool Nibbles, class Block>
inline __m256i unsignedWeights(const Block& b)
{
    if constexpr (Nibbles)
        return nibbles(b.qs);
    else
        return _mm256_xor_si256(load256(b.qs), _mm256_set1_epi8(char(0x80)));
}

// One weight row against a Q8_0 activation whose terms are precomputed: each row is read as one
// sequential stream, which the hardware prefetchers follow at full speed (interleaving several
// rows block by block measured 2x slower once the weights came from DRAM).
template <bool Nibbles>
float rowDot(int64_t blocks, const void* w, const BlockQ8_0* act, const ActivationTerms& terms)
{
    using Block = std::conditional_t<Nibbles, BlockQ4_0, BlockQ8_0>;
    const auto* wb = static_cast<const Block*>(w);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    const auto step = [&](int64_t i, __m256& acc) {
        const __m256i p = _mm256_dpbusd_epi32(terms.base[size_t(i)], unsignedWeights<Nibbles>(wb[i]),
                                              load256(act[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(wb[i].d) * terms.scale[size_t(i)]),
                              _mm256_cvtepi32_ps(p), acc);
    };
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) { // two accumulators hide the FMA latency
        step(b, acc0);
        step(b + 1, acc1);
    }
    for (; b < blocks; ++b)
        step(b, acc0);
    return hsum(_mm256_add_ps(acc0, acc1));
}

// out[r] = dot(w row r, a), r < nRows
template <bool Nibbles>
void rowsDot(int64_t n, const void* w, size_t wStride, int nRows, const void* a, float* out)
{
    thread_local ActivationTerms terms;
    const auto* act = static_cast<const BlockQ8_0*>(a);
    const int64_t blocks = n / kQK;
    terms.compute(act, blocks, Nibbles ? 3 : 7); // offsets 8 (Q4_0) and 128 (Q8_0)
    for (int r = 0; r < nRows; ++r)
        out[r] = rowDot<Nibbles>(blocks, static_cast<const char*>(w) + size_t(r) * wStride, act, terms);
}

// A single dot: the offset term inline (no table to fill for one row).
template <bool Nibbles>
float dot(int64_t n, const void* w, const void* a)
{
    using Block = std::conditional_t<Nibbles, BlockQ4_0, BlockQ8_0>;
    const auto* wb = static_cast<const Block*>(w);
    const auto* act = static_cast<const BlockQ8_0*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK; ++b) {
        const __m256i av = load256(act[b].qs);
        const __m256i p = _mm256_dpbusd_epi32(offsetTerm(av, Nibbles ? 3 : 7), unsignedWeights<Nibbles>(wb[b]), av);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(wb[b].d) * half(act[b].d)), _mm256_cvtepi32_ps(p), acc);
    }
    return hsum(acc);
}

} // namespace

void installAvx512VnniKernels(KernelTable& t)
{
    t[int(GGMLType::Q4_0)].vecDot = dot<true>;
    t[int(GGMLType::Q4_0)].vecDotRows = rowsDot<true>;
    t[int(GGMLType::Q8_0)].vecDot = dot<false>;
    t[int(GGMLType::Q8_0)].vecDotRows = rowsDot<false>;
}

} // namespace tenfold
