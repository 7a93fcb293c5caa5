#pragma once
// Scale searches used by the K-quant quantizers (quant_search.cpp). They follow the GGUF
// ecosystem's reference quantizer (ggml's make_qkx2_quants, make_qx_quants, make_q3_quants) step
// for step, so that our Q2_K..Q6_K files match what that quantizer would write, and so quality is
// the same: the model perplexity of our K-quant files is compared with the reference engine's.
#include <cstdint>

namespace tenfold::quant {

// Asymmetric search: x[i] ~ scale * L[i] - min with L in [0, nmax] and min >= 0 (stored as
// *minOut). Starts from the min/max grid, then tries nstep+1 grid scales (nmax + rmin + rdelta*k)
// and for each solves the weighted least-squares scale and offset; keeps the lowest weighted error
// (absolute error when useMad). Returns the scale.
float searchScaleMin(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* minOut,
                     float rmin, float rdelta, int nstep, bool useMad);

// Symmetric search: x[i] ~ scale * (L[i] - nmax), L in [0, 2*nmax). Weighted by x^2 (rmseType 1).
// Tries 19 grid scales around nmax/amax and keeps the one with the best least-squares fit.
float searchScaleSymmetric(int n, int nmax, const float* x, int8_t* L);

// Symmetric search for 3-bit groups: after the grid start, coordinate descent moves single
// elements to their optimal level while that improves the fit (up to 5 sweeps).
float searchScaleQ3(int n, int nmax, const float* x, int8_t* L);

} // namespace tenfold::quant
