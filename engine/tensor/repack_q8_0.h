#pragma once
// Q8_0 weights repacked eight rows at a time, as Q4_0's (tensor/repack_q4_0.h, which says why):
// each group of 8 rows is one stream of BlockQ8_0x8, block b of the 8 rows with their 8 scales
// side by side and the quants interleaved so that one 32-byte load holds 4 quant bytes of each row;
// a SIMD lane belongs to one row for the whole dot.
//
//   qs[32 * c + 4 * r + i] = row r's qs[4 * c + i]   (c < 8 chunks, r < 8 rows, i < 4 bytes)
//
// The bytes stay signed as in Q8_0: the AVX-512 VNNI kernel flips their sign bit (w + 128, which
// VPDPBUSD takes as unsigned) and starts each sum at -128 * sum(a); the AVX2 kernel multiplies
// |w| by a with w's sign. Rows must come in multiples of 8.
#include "tensor/quant_blocks.h"

#include <cstddef>
#include <cstdint>

namespace tenfold {

struct BlockQ8_0x8 {
    uint16_t d[8];      // row r's block scale (f16)
    int8_t qs[8 * 32];  // interleaved, see above
};
static_assert(sizeof(BlockQ8_0x8) == 8 * sizeof(BlockQ8_0), "same bytes as the 8 rows' blocks");

inline size_t q8_0x8GroupBytes(int64_t n) { return size_t(n / kQK) * sizeof(BlockQ8_0x8); }

// rows (a multiple of 8) Q8_0 rows of n elements, srcStride bytes apart -> rows / 8 groups in dst.
void repackQ8_0x8(const void* src, size_t srcStride, int64_t rows, int64_t n, void* dst);
// Row r (< 8) of a repacked group, back in the plain Q8_0 layout (n / 32 blocks).
void unpackQ8_0x8Row(const void* group, int64_t n, int r, void* dst);

// out[c * outStride + 8 g + r] = dot(row r of group g, activation row c), as rowsQ4_0x8Ref. The
// scalar reference.
void rowsQ8_0x8Ref(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                   size_t outStride);

namespace avx2 { // AVX2+FMA+F16C
void rowsQ8_0x8(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                size_t outStride);
}
namespace avx512 { // + AVX-512 VL/VNNI
void rowsQ8_0x8(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                size_t outStride);
}

} // namespace tenfold
