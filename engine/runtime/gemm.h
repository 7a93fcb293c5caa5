#pragma once
// F32 matrix-multiply micro-kernels for prompt processing. A panel of `nr` weight rows is
// dequantized once and packed k-major (panel[k * width + c] = W[row c][k]); the micro-kernel then
// multiplies up to `mr` activation rows with it, keeping the mr x width partial sums in registers.
// Each kernel has its own panel width and row count (Kernel below): the scalar and AVX2 kernels
// take 6 rows x 16 columns, the AVX-512 one 8 rows x 32 columns, so that each broadcast activation
// feeds two 16-lane FMAs (measured faster, see gemm_avx512.cpp).
#include <cstdint>

namespace tenfold::gemm {

constexpr int kMR = 6;     // activation rows of the scalar and AVX2 kernels
constexpr int kNR = 16;    // panel width of the scalar and AVX2 kernels
constexpr int kMR512 = 8;  // activation rows of the AVX-512 kernel
constexpr int kNR512 = 32; // panel width of the AVX-512 kernel

// rows: nr rows of kc floats (row stride ldr) -> panel of kc * width floats, zero beyond nr.
// width is a multiple of 16, nr <= width.
void packPanel(const float* rows, int nr, int64_t ldr, int kc, float* panel, int width);

// y[r * ldy + c] (+)= sum_k x[r * ldx + k] * panel[k * width + c] for r < mr, c < nr;
// accumulate adds to y (for the second and later blocks of K). mr and nr may be less than the
// kernel's own; the panel is always its full width.
using KernelFn = void (*)(const float* x, int64_t ldx, int mr, const float* panel, int K,
                          float* y, int64_t ldy, int nr, bool accumulate);

// A kernel with the shape it computes: up to mr activation rows against panels `nr` wide.
struct Kernel {
    KernelFn fn;
    int mr;
    int nr;
};

void kernelRef(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
               int64_t ldy, int nr, bool accumulate); // kMR x kNR
void kernelAvx2(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
                int64_t ldy, int nr, bool accumulate); // kMR x kNR, panel 32-byte aligned
// AVX-512F, kMR512 x kNR512; chosen at the AVX-512+VNNI kernel level (tensor/kernels.h), never
// below it.
void kernelAvx512(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
                  int64_t ldy, int nr, bool accumulate);

constexpr Kernel kScalarKernel{kernelRef, kMR, kNR};
constexpr Kernel kAvx2Kernel{kernelAvx2, kMR, kNR};
constexpr Kernel kAvx512Kernel{kernelAvx512, kMR512, kNR512};

// The kernel of the CPU kernel level in use (TENFOLD_CPU_KERNELS pins it).
Kernel bestKernel();

} // namespace tenfold::gemm
