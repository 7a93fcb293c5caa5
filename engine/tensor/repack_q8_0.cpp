#include "tensor/repack_q8_0.h"

#include "tensor/half.h"

#include <cstring>

namespace tenfold {

void repackQ8_0x8(const void* src, size_t srcStride, int64_t rows, int64_t n, void* dst)
{
    const int64_t blocks = n / kQK;
    auto* out = static_cast<BlockQ8_0x8*>(dst);
    for (int64_t g = 0; g < rows / 8; ++g)
        for (int64_t b = 0; b < blocks; ++b) {
            BlockQ8_0x8& o = out[g * blocks + b];
            for (int r = 0; r < 8; ++r) {
                const auto* row = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(src) +
                                                                     size_t(g * 8 + r) * srcStride);
                o.d[r] = row[b].d;
                for (int c = 0; c < 8; ++c)
                    std::memcpy(o.qs + 32 * c + 4 * r, row[b].qs + 4 * c, 4);
            }
        }
}

void unpackQ8_0x8Row(const void* group, int64_t n, int r, void* dst)
{
    const auto* in = static_cast<const BlockQ8_0x8*>(group);
    auto* out = static_cast<BlockQ8_0*>(dst);
    for (int64_t b = 0; b < n / kQK; ++b) {
        out[b].d = in[b].d[r];
        for (int c = 0; c < 8; ++c)
            std::memcpy(out[b].qs + 4 * c, in[b].qs + 32 * c + 4 * r, 4);
    }
}

// Shapes: w8 [nGroups][n / 32] BlockQ8_0x8, a [nCols][n / 32] BlockQ8_0 (rows aStride bytes apart),
// out [nCols][outStride] with 8 * nGroups values used per row.
void rowsQ8_0x8Ref(int64_t n, const void* w8, int nGroups, const void* a, size_t aStride, int nCols, float* out,
                   size_t outStride)
{
    const int64_t blocks = n / kQK;
    for (int c = 0; c < nCols; ++c) {
        const auto* act = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + size_t(c) * aStride);
        for (int g = 0; g < nGroups; ++g) {
            const BlockQ8_0x8* w = static_cast<const BlockQ8_0x8*>(w8) + int64_t(g) * blocks;
            for (int r = 0; r < 8; ++r) {
                double sum = 0;
                for (int64_t b = 0; b < blocks; ++b) {
                    int sumi = 0;
                    for (int k = 0; k < 8; ++k)
                        for (int i = 0; i < 4; ++i)
                            sumi += int(w[b].qs[32 * k + 4 * r + i]) * act[b].qs[4 * k + i];
                    sum += double(sumi) * fp16ToFp32(w[b].d[r]) * fp16ToFp32(act[b].d);
                }
                out[size_t(c) * outStride + size_t(8 * g + r)] = float(sum);
            }
        }
    }
}

} // namespace tenfold
