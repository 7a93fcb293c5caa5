#pragma once
// Importance-weighted quantization of the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0),
// split into the three steps GPTQ needs separately:
//   fitGroup:    choose a block's grid (scale d, offset m) for 32 values under per-element weights;
//   nearestLevel: round one value onto a fixed grid;
//   packBlock:   write the levels in the standard GGUF block layout (quant_blocks.h).
// A grid represents value = d * q + m with integer q in [qmin, qmax]. For the symmetric types m is
// tied to d (Q4_0: m = -8 d, Q5_0: m = -16 d, Q8_0: m = 0), for Q4_1/Q5_1 it is free; d and m are
// already rounded to the f16 the block stores, so what fitGroup measures is what the file holds.
//
// The weighted error sum_j w_j (x_j - d q_j - m)^2 is what a weight's rounding costs the layer's
// output when w_j is the mean square of input column j (the importance matrix): the search below
// minimises it rather than the plain error round-to-nearest minimises.
#include "tensor/ggml_type.h"

#include <cstdint>

namespace tenfold::quant {

struct Grid {
    float d = 0, m = 0;
    int qmin = 0, qmax = 0;
    bool nonLinear = false; // IQ4_NL: value = d * kIQ4Values[q], q in [0, 15] (m unused)
};

// True for the types below (32-element blocks with one scale and optional offset), and IQ4_NL
// (one scale, 16 fixed non-linear levels).
bool hasGroupGrid(GGMLType type);

// Weighted search over a block of kQK (32) values; weights may be null (all 1).
Grid fitGroup(GGMLType type, const float* x, const float* weights);

int nearestNonLinearLevel(const Grid& g, float x);

inline int nearestLevel(const Grid& g, float x)
{
    if (g.nonLinear)
        return nearestNonLinearLevel(g, x);
    if (g.d == 0)
        return g.m == 0 ? 0 : g.qmin; // an all-zero block; for Q4_1/Q5_1 q = 0 gives m
    const float q = (x - g.m) / g.d;
    int l = int(q + (q >= 0 ? 0.5f : -0.5f));
    return l < g.qmin ? g.qmin : (l > g.qmax ? g.qmax : l);
}

float nonLinearValue(const Grid& g, int q);
inline float levelValue(const Grid& g, int q) { return g.nonLinear ? nonLinearValue(g, q) : g.d * float(q) + g.m; }

// Writes one block of `type` from the grid and kQK levels (each in [g.qmin, g.qmax]).
void packBlock(GGMLType type, const Grid& g, const int* q, void* block);

// True for the types quantizeRowWeighted handles: the group-grid types and Q4_K, Q5_K.
bool hasWeightedSearch(GGMLType type);

// fitGroup + nearestLevel + packBlock over a row of n (a multiple of the block) values; for
// Q4_K/Q5_K the K-quant scale/min search weighted by importance * sqrt(sigma^2 + x^2), as the
// reference's calibrated K-quants. importance (n floats) may be null. The weighted counterpart
// of TypeKernels::quantizeRow.
void quantizeRowWeighted(GGMLType type, const float* x, void* dst, int64_t n, const float* importance);

} // namespace tenfold::quant
