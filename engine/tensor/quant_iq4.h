#pragma once
// The non-linear 4-bit types IQ4_NL (32-element blocks, one f16 scale) and IQ4_XS (256-element
// super-blocks of eight 32-element sub-blocks with 6-bit scales), whose 4-bit indices pick one of
// 16 fixed levels (kIQ4Values in quant_blocks.h) instead of a uniform grid.
//
// Their quantizer searches each 32-element sub-block's scale, as the reference engine's does:
// starting from the scale that maps the signed extreme x_m onto +127 (beyond the top level 113),
// it tries the 15 scales of the other sign that map x_m onto -134 .. -120 (the table's long
// negative end is -127), assigns every element its nearest level under each, and keeps the scale
// with the best weighted least-squares fit, d = sum w x q / sum w q^2. Without an importance matrix
// the weights are x^2 (TypeKernels::quantizeRow, byte-identical to the reference engine's
// quantizer); with one they are importance[j] * sqrt(sigma^2 + x^2), where sigma^2 is twice the
// mean square of the (super-)block. IQ4_XS then rounds the eight sub-block scales to 6 bits
// relative to the one of largest magnitude (mapped to -32) and re-assigns the levels.
#include "tensor/ggml_type.h"

#include <cstdint>

namespace tenfold::quant {

// The index of the table level nearest to x (x in units of the scale); an exact midpoint goes to
// the larger level.
int nearestIQ4Index(float x);

// Importance-weighted counterpart of quantizeRow for IQ4_NL and IQ4_XS: n (a multiple of the
// block size) values from x into dst; importance (n floats, one per column) may be null, which
// gives exactly quantizeRow's bytes. Throws InvalidArgument for any other type.
void quantizeIQ4RowWeighted(GGMLType type, const float* x, void* dst, int64_t n, const float* importance);

} // namespace tenfold::quant
