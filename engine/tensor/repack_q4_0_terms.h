#pragma once
// Internal to the repacked 8-row kernels (repack_q4_0_*.cpp, repack_q8_0_*.cpp): the activation
// side of a product, computed once per call for every group and column, and the loop that tiles
// groups x columns.
#include "tensor/half.h"
#include "tensor/repack_q4_0.h"

#include <cstring>
#include <vector>
#if defined(__AVX2__) || defined(__F16C__)
#include <immintrin.h>
#endif

namespace tenfold {
// Each including file is compiled for its own instruction set (AVX2, AVX-512), so everything here
// is internal to it: one inline definition shared by the linker across those files could run
// AVX-512 instructions inside the AVX2 kernels.
namespace {

inline int32_t loadI32(const int8_t* p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Per activation row c and block b: offsetPerSum * sum(a) (the weights' offset, the same for every
// weight row: -8 for Q4_0's nibbles, -128 for Q8_0 bytes read as unsigned) and the block's scale
// as a float. Kept per thread and reused, so calls do not allocate.
struct Rows8Terms {
    std::vector<int32_t> offsets;
    std::vector<float> scales;
    int64_t blocks = 0;
    void compute(const uint8_t* a, size_t aStride, int nCols, int64_t nBlocks, int offsetPerSum)
    {
        blocks = nBlocks;
        const size_t need = size_t(nCols) * size_t(nBlocks);
        if (offsets.size() < need) {
            offsets.resize(need);
            scales.resize(need);
        }
        for (int c = 0; c < nCols; ++c) {
            const auto* act = reinterpret_cast<const BlockQ8_0*>(a + size_t(c) * aStride);
            int32_t* off = offsets.data() + size_t(c) * size_t(nBlocks);
            float* sc = scales.data() + size_t(c) * size_t(nBlocks);
            for (int64_t b = 0; b < nBlocks; ++b) {
                off[b] = offsetPerSum != 0 ? offsetPerSum * blockSum(act[b].qs) : 0;
#if defined(__F16C__)
                sc[b] = _cvtsh_ss(act[b].d);
#else
                sc[b] = fp16ToFp32(act[b].d);
#endif
            }
        }
    }
    // The sum of a block's 32 int8 values. This runs for every block of the activation on each
    // call (in decode, one call per unit of 16-64 rows), so it is vectorised: with the plain loop
    // and the scalar f16 conversion it took 13% of a TinyLlama Q4_0 decode on one thread.
    static int blockSum(const int8_t* qs)
    {
#if defined(__AVX2__)
        // q + 128 (q xor 0x80 read as unsigned) summed by vpsadbw into 4 x 64-bit lanes, then the
        // bias taken off.
        const __m256i q = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs)),
                                           _mm256_set1_epi8(char(0x80)));
        const __m256i s4 = _mm256_sad_epu8(q, _mm256_setzero_si256());
        __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
        s2 = _mm_add_epi64(s2, _mm_unpackhi_epi64(s2, s2));
        return _mm_cvtsi128_si32(s2) - kQK * 128;
#else
        int s = 0;
        for (int j = 0; j < kQK; ++j)
            s += qs[j];
        return s;
#endif
    }
    int32_t offset(int c, int64_t b) const { return offsets[size_t(c) * size_t(blocks) + size_t(b)]; }
    float scale(int c, int64_t b) const { return scales[size_t(c) * size_t(blocks) + size_t(b)]; }
};
using Q4_0x8Terms = Rows8Terms;

template <class Block>
using Rows8GroupFn = void (*)(int64_t blocks, const Block* w, const BlockQ8_0* const* act, const Rows8Terms& terms,
                              int c0, float* out, size_t outStride);
using Q4_0x8GroupFn = Rows8GroupFn<BlockQ4_0x8>;

// Every group against every activation row, W = sizeof...(Fs) rows at a time (Fs[k] handles
// k + 1 rows): a block's weights, loaded (and unpacked) once, serve the W rows, the W rows'
// activations (W x n bytes) stay in L1 while every group passes over them, and the groups (the
// caller's row unit) stay in L2 between tiles. Block is the repacked layout of 8 rows
// (BlockQ4_0x8, BlockQ8_0x8), OffsetPerSum the terms' offset (above).
template <class Block, int OffsetPerSum, Rows8GroupFn<Block>... Fs>
void forEachRows8Tile(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                      size_t outStride)
{
    constexpr int W = int(sizeof...(Fs));
    constexpr Rows8GroupFn<Block> fns[W] = {Fs...};
    const int64_t blocks = n / kQK;
    thread_local Rows8Terms terms;
    const auto* abytes = static_cast<const uint8_t*>(a);
    terms.compute(abytes, aStride, nCols, blocks, OffsetPerSum);
    for (int c0 = 0; c0 < nCols; c0 += W) {
        const int nc = nCols - c0 < W ? nCols - c0 : W;
        const BlockQ8_0* act[W];
        for (int c = 0; c < nc; ++c)
            act[c] = reinterpret_cast<const BlockQ8_0*>(abytes + size_t(c0 + c) * aStride);
        for (int g = 0; g < nGroups; ++g)
            fns[nc - 1](blocks, static_cast<const Block*>(w8) + int64_t(g) * blocks, act, terms, c0,
                        out + size_t(c0) * outStride + size_t(8 * g), outStride);
    }
}

template <Q4_0x8GroupFn... Fs>
void forEachQ4_0x8Tile(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                       size_t outStride)
{
    forEachRows8Tile<BlockQ4_0x8, -8, Fs...>(n, w8, nGroups, a, aStride, nCols, out, outStride);
}

} // namespace
} // namespace tenfold
