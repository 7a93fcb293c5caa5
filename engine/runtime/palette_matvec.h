#pragma once
// Products with palette weights (model.h PaletteWeight, docs/COMPRESSION.md): every element is
// decoded on the fly from its 2-, 3- or 4-bit index and its row group's table, never a dense copy.
// The scalar reference decodes one element at a time; the AVX2 path looks 8 indices up at once
// with a register permute (4-bit: two 8-entry halves and a blend on the index's top bit).
#include "model/model.h"

#include <cstdint>

namespace tenfold {

// Dense row r (n = ne0 values) of a palette weight.
void paletteDecodeRow(const PaletteWeight& p, int64_t row, float* out, int64_t n);
// sum_j W(row, j) x[j]: the scalar reference.
float paletteRowDotRef(const PaletteWeight& p, int64_t row, const float* x, int64_t n);
// The same through the fastest kernel this CPU has.
float paletteRowDot(const PaletteWeight& p, int64_t row, const float* x, int64_t n);

namespace avx2 {
// Defined in palette_matvec_avx2.cpp; call only when the CPU has AVX2+FMA.
float paletteRowDot(const PaletteWeight& p, int64_t row, const float* x, int64_t n);
}

} // namespace tenfold
