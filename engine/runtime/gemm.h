#pragma once
// F32 matrix-multiply micro-kernels for prompt processing. A panel of kNR weight rows is
// dequantized once and packed k-major (panel[k * kNR + c] = W[row c][k]); the micro-kernel then
// multiplies up to kMR activation rows with it, keeping the kMR x kNR partial sums in registers.
#include <cstdint>

namespace tenfold::gemm {

constexpr int kMR = 6;
constexpr int kNR = 16;

// rows: nr rows of kc floats (row stride ldr) -> panel of kc * kNR floats, zero beyond nr.
void packPanel(const float* rows, int nr, int64_t ldr, int kc, float* panel);

// y[r * ldy + c] (+)= sum_k x[r * ldx + k] * panel[k * kNR + c] for r < mr, c < nr;
// accumulate adds to y (for the second and later blocks of K).
using KernelFn = void (*)(const float* x, int64_t ldx, int mr, const float* panel, int K,
                          float* y, int64_t ldy, int nr, bool accumulate);

void kernelRef(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
               int64_t ldy, int nr, bool accumulate);
void kernelAvx2(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
                int64_t ldy, int nr, bool accumulate);
// AVX-512F; chosen at the AVX-512+VNNI kernel level (tensor/kernels.h), never below it.
void kernelAvx512(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
                  int64_t ldy, int nr, bool accumulate);

// The kernel of the CPU kernel level in use (TENFOLD_CPU_KERNELS pins it).
KernelFn bestKernel();

} // namespace tenfold::gemm
