#include "runtime/palette_matvec.h"

#include "runtime/cpu_ops.h"

namespace tenfold {
namespace {

inline int indexAt(const uint8_t* idx, int bits, int64_t j)
{
    const int64_t bit = j * bits;
    unsigned v = idx[bit >> 3] >> (bit & 7);
    if ((bit & 7) + bits > 8) // a 3-bit index straddling two bytes
        v |= unsigned(idx[(bit >> 3) + 1]) << (8 - (bit & 7));
    return int(v & ((1u << bits) - 1));
}

} // namespace

void paletteDecodeRow(const PaletteWeight& p, int64_t row, float* out, int64_t n)
{
    const uint8_t* idx = p.indices + size_t(row) * p.indexRowBytes;
    const float* tab = p.palette(row);
    const float s = p.rowScale ? p.rowScale[row] : 1.0f;
    for (int64_t j = 0; j < n; ++j)
        out[j] = s * tab[indexAt(idx, p.bits, j)];
}

float paletteRowDotRef(const PaletteWeight& p, int64_t row, const float* x, int64_t n)
{
    const uint8_t* idx = p.indices + size_t(row) * p.indexRowBytes;
    const float* tab = p.palette(row);
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j)
        sum += double(tab[indexAt(idx, p.bits, j)]) * double(x[j]);
    return float(sum) * (p.rowScale ? p.rowScale[row] : 1.0f);
}

float paletteRowDot(const PaletteWeight& p, int64_t row, const float* x, int64_t n)
{
    if (cpuOpsUseAvx2())
        return avx2::paletteRowDot(p, row, x, n);
    return paletteRowDotRef(p, row, x, n);
}

} // namespace tenfold
