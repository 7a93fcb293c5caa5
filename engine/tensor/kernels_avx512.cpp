// AVX-512 VNNI kernels (used on 256-bit vectors through AVX-512VL, where VPDPBUSD fuses the
// multiply, pairwise add and accumulate that AVX2 needs three instructions for) for Q4_0 decode:
// a single dot, and several weight rows against one activation row whose per-block terms are
// computed once for all of them. Compiled with AVX-512 flags; reached only through kernels()
// after cpuLevelDetected() says Avx512Vnni.
//
// VPDPBUSD multiplies unsigned by signed bytes: Q4_0 stores q in [0, 15] for the value q - 8, so
// the nibbles go in as they are, and the offset's contribution, 8 * sum(a), the same for every
// weight row of a block, is computed once per activation block as each row's starting sum. (The
// same scheme for the plain Q8_0 dot, with w + 128, measured no faster end to end than AVX2 on an
// EPYC, so rows of Q8_0 that are not repacked stay on the AVX2 dot; repacked Q8_0 matrices,
// tensor/repack_q8_0.h, use VPDPBUSD with w + 128 and measured faster.)
#include "tensor/kernels_impl.h"
#include "tensor/quant_blocks.h"

#include <immintrin.h>

#include <cstdint>
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

// -8 * sum(a) per 32-bit lane (each lane covers 4 activation bytes).
inline __m256i offsetTerm(__m256i a)
{
    const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), a);
    return _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sums, 3));
}

// The activation side of a Q8_0 row, per block: its scale as a float and -8 * sum(a) per lane,
// computed once per mat-vec call and shared by every weight row (kept per thread, reused).
struct ActivationTerms {
    std::vector<__m256i> base;
    std::vector<float> scale;
    void compute(const BlockQ8_0* act, int64_t blocks)
    {
        if (int64_t(base.size()) < blocks) {
            base.resize(size_t(blocks));
            scale.resize(size_t(blocks));
        }
        for (int64_t b = 0; b < blocks; ++b) {
            base[size_t(b)] = offsetTerm(load256(act[b].qs));
            scale[size_t(b)] = half(act[b].d);
        }
    }
};

// One Q4_0 weight row against a Q8_0 activation whose terms are precomputed: each row is read as
// one sequential stream, which the hardware prefetchers follow at full speed (interleaving
// several rows block by block measured 2x slower once the weights came from DRAM).
float rowDot(int64_t blocks, const BlockQ4_0* wb, const BlockQ8_0* act, const ActivationTerms& terms)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    const auto step = [&](int64_t i, __m256& acc) {
        const __m256i p = _mm256_dpbusd_epi32(terms.base[size_t(i)], nibbles(wb[i].qs), load256(act[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(wb[i].d) * terms.scale[size_t(i)]), _mm256_cvtepi32_ps(p), acc);
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
void rowsQ4_0(int64_t n, const void* w, size_t wStride, int nRows, const void* a, float* out)
{
    thread_local ActivationTerms terms;
    const auto* act = static_cast<const BlockQ8_0*>(a);
    const int64_t blocks = n / kQK;
    terms.compute(act, blocks);
    for (int r = 0; r < nRows; ++r)
        out[r] = rowDot(blocks, reinterpret_cast<const BlockQ4_0*>(static_cast<const char*>(w) + size_t(r) * wStride),
                        act, terms);
}

// A single dot: the offset term inline (no table to fill for one row).
float dotQ4_0(int64_t n, const void* w, const void* a)
{
    const auto* wb = static_cast<const BlockQ4_0*>(w);
    const auto* act = static_cast<const BlockQ8_0*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK; ++b) {
        const __m256i av = load256(act[b].qs);
        const __m256i p = _mm256_dpbusd_epi32(offsetTerm(av), nibbles(wb[b].qs), av);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(wb[b].d) * half(act[b].d)), _mm256_cvtepi32_ps(p), acc);
    }
    return hsum(acc);
}

} // namespace

void installAvx512VnniKernels(KernelTable& t)
{
    t[int(GGMLType::Q4_0)].vecDot = dotQ4_0;
    t[int(GGMLType::Q4_0)].vecDotRows = rowsQ4_0;
}

} // namespace tenfold
