#include "runtime/palette_matvec.h"

#include "runtime/cpu_ops.h"

namespace tenfold {
void paletteDecodeRow(const PaletteWeight& p, int64_t row, float* out, int64_t n)
{
    const uint8_t* idx = p.indices + size_t(row) * p.indexRowBytes;
    const float* tab = p.palette(row);
    const float s = p.rowScale ? p.rowScale[row] : 1.0f;
    for (int64_t j = 0; j < n; ++j)
        out[j] = s * tab[paletteIndex(idx, p.bits, j)];
}

float paletteRowDotRef(const PaletteWeight& p, int64_t row, const float* x, int64_t n)
{
    const uint8_t* idx = p.indices + size_t(row) * p.indexRowBytes;
    const float* tab = p.palette(row);
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j)
        sum += double(tab[paletteIndex(idx, p.bits, j)]) * double(x[j]);
    return float(sum) * (p.rowScale ? p.rowScale[row] : 1.0f);
}

float paletteRowDot(const PaletteWeight& p, int64_t row, const float* x, int64_t n)
{
    if (cpuOpsUseAvx2())
        return avx2::paletteRowDot(p, row, x, n);
    return paletteRowDotRef(p, row, x, n);
}

} // namespace tenfold
