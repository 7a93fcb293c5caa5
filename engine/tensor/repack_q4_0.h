#pragma once
// Q4_0 weights repacked eight rows at a time, for the CPU's products with them (decode's mat-vec
// and prompt batches alike; runtime/matmul.cpp repacks each matrix once and reads only the copy).
//
// A plain Q4_0 matrix is one 18-byte block per 32 weights of a row, row after row; a kernel that
// computes one row at a time spends about ten instructions per block on unpacking, a horizontal
// sum and scalar scale conversions, and on AVX2/AVX-512 machines that, not memory, bounds decode.
// Here each group of 8 rows is one stream of BlockQ4_0x8: block b of the 8 rows, with the 8
// scales side by side (one vector conversion) and the quants interleaved so that one 32-byte load
// holds 4 quant bytes of each row. A SIMD lane then belongs to one row for the whole dot, so the
// 8 results need no horizontal sums, and the activation's 4 bytes are broadcast to all 8 rows.
//
//   qs[32 * c + 4 * r + i] = row r's qs[4 * c + i]   (c < 4 chunks, r < 8 rows, i < 4 bytes)
//
// Row r's byte qs[j] holds element j (low nibble) and element j + 16 (high nibble), as in Q4_0.
// Rows must come in multiples of 8 (callers fall back to the row kernels otherwise).
#include "tensor/quant_blocks.h"

#include <cstddef>
#include <cstdint>

namespace tenfold {

struct BlockQ4_0x8 {
    uint16_t d[8];       // row r's block scale (f16)
    uint8_t qs[8 * 16];  // interleaved, see above
};
static_assert(sizeof(BlockQ4_0x8) == 8 * sizeof(BlockQ4_0), "same bytes as the 8 rows' blocks");

// Bytes of one repacked group of 8 rows of n elements.
inline size_t q4_0x8GroupBytes(int64_t n) { return size_t(n / kQK) * sizeof(BlockQ4_0x8); }

// rows (a multiple of 8) Q4_0 rows of n elements, srcStride bytes apart -> rows / 8 groups in dst.
void repackQ4_0x8(const void* src, size_t srcStride, int64_t rows, int64_t n, void* dst);
// Row r (< 8) of a repacked group, back in the plain Q4_0 layout (n / 32 blocks).
void unpackQ4_0x8Row(const void* group, int64_t n, int r, void* dst);

// out[c * outStride + 8 g + r] = dot(row r of group g, activation row c) for g < nGroups,
// c < nCols: weights in groups of q4_0x8GroupBytes(n) bytes one after another, activations Q8_0
// rows of n elements aStride bytes apart. The scalar reference.
void rowsQ4_0x8Ref(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                   size_t outStride);

namespace avx2 { // AVX2+FMA+F16C
void rowsQ4_0x8(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                size_t outStride);
}
namespace avx512 { // + AVX-512 VL/VNNI
void rowsQ4_0x8(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                size_t outStride);
}

} // namespace tenfold
