#pragma once
// Internal to the repacked Q4_0 kernels (repack_q4_0_*.cpp): the activation side of a product,
// computed once per call for every group and column, and the loop that tiles groups x columns.
#include "tensor/half.h"
#include "tensor/repack_q4_0.h"

#include <cstring>
#include <vector>

namespace tenfold {

inline int32_t loadI32(const int8_t* p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Per activation row c and block b: -8 * sum(a) (the nibbles' offset, the same for every weight
// row) and the block's scale as a float. Kept per thread and reused, so calls do not allocate.
struct Q4_0x8Terms {
    std::vector<int32_t> offsets;
    std::vector<float> scales;
    int64_t blocks = 0;
    void compute(const uint8_t* a, size_t aStride, int nCols, int64_t nBlocks)
    {
        blocks = nBlocks;
        const size_t need = size_t(nCols) * size_t(nBlocks);
        if (offsets.size() < need) {
            offsets.resize(need);
            scales.resize(need);
        }
        for (int c = 0; c < nCols; ++c) {
            const auto* act = reinterpret_cast<const BlockQ8_0*>(a + size_t(c) * aStride);
            for (int64_t b = 0; b < nBlocks; ++b) {
                int s = 0;
                for (int j = 0; j < kQK; ++j)
                    s += act[b].qs[j];
                offsets[size_t(c) * size_t(nBlocks) + size_t(b)] = -8 * s;
                scales[size_t(c) * size_t(nBlocks) + size_t(b)] = fp16ToFp32(act[b].d);
            }
        }
    }
    int32_t offset(int c, int64_t b) const { return offsets[size_t(c) * size_t(blocks) + size_t(b)]; }
    float scale(int c, int64_t b) const { return scales[size_t(c) * size_t(blocks) + size_t(b)]; }
};

using Q4_0x8GroupFn = void (*)(int64_t blocks, const BlockQ4_0x8* w, const BlockQ8_0* const* act,
                               const Q4_0x8Terms& terms, int c0, float* out, size_t outStride);

// Every group against every activation row, W = sizeof...(Fs) rows at a time (Fs[k] handles
// k + 1 rows): a block's unpacked nibbles serve the W rows, the W rows' activations (W x n bytes)
// stay in L1 while every group passes over them, and the groups (the caller's row unit) stay in
// L2 between tiles.
template <Q4_0x8GroupFn... Fs>
void forEachQ4_0x8Tile(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                       size_t outStride)
{
    constexpr int W = int(sizeof...(Fs));
    constexpr Q4_0x8GroupFn fns[W] = {Fs...};
    const int64_t blocks = n / kQK;
    thread_local Q4_0x8Terms terms;
    const auto* abytes = static_cast<const uint8_t*>(a);
    terms.compute(abytes, aStride, nCols, blocks);
    for (int c0 = 0; c0 < nCols; c0 += W) {
        const int nc = nCols - c0 < W ? nCols - c0 : W;
        const BlockQ8_0* act[W];
        for (int c = 0; c < nc; ++c)
            act[c] = reinterpret_cast<const BlockQ8_0*>(abytes + size_t(c0 + c) * aStride);
        for (int g = 0; g < nGroups; ++g)
            fns[nc - 1](blocks, static_cast<const BlockQ4_0x8*>(w8) + int64_t(g) * blocks, act, terms, c0,
                        out + size_t(c0) * outStride + size_t(8 * g), outStride);
    }
}

} // namespace tenfold
