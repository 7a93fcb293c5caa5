#include "runtime/gemm.h"

#include "tensor/cpu_features.h"
#include "tensor/kernels.h"

#include "runtime/cpu_ops.h"

namespace tenfold::gemm {

void packPanel(const float* rows, int nr, int64_t ldr, int kc, float* panel, int width)
{
    for (int k = 0; k < kc; ++k) {
        float* dst = panel + int64_t(k) * width;
        int c = 0;
        for (; c < nr; ++c)
            dst[c] = rows[int64_t(c) * ldr + k];
        for (; c < width; ++c)
            dst[c] = 0.0f;
    }
}

void kernelRef(const float* x, int64_t ldx, int mr, const float* panel, int K, float* y,
               int64_t ldy, int nr, bool accumulate)
{
    for (int r = 0; r < mr; ++r)
        for (int c = 0; c < nr; ++c) {
            float s = 0.0f;
            for (int k = 0; k < K; ++k)
                s += x[r * ldx + k] * panel[int64_t(k) * kNR + c];
            y[r * ldy + c] = accumulate ? y[r * ldy + c] + s : s;
        }
}

Kernel bestKernel()
{
    if (cpuKernelLevelInUse() >= CpuLevel::Avx512Vnni)
        return kAvx512Kernel;
    return cpuOpsUseAvx2() ? kAvx2Kernel : kScalarKernel;
}

} // namespace tenfold::gemm
