#include "train/fast_ops.h"

#include "runtime/thread_pool.h"

#include "runtime/gemm.h"

#include "core/platform.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

namespace tenfold::train {

namespace {

struct FreeDeleter {
    void operator()(float* p) const { platform::alignedFree(p); }
};

// A growing 32-byte aligned buffer per calling thread: gemmNT runs thousands of times per
// training step (the attention's row blocks), and a fresh allocation each time was wasted work.
float* threadScratch(size_t floats)
{
    thread_local std::unique_ptr<float, FreeDeleter> buffer;
    thread_local size_t capacity = 0;
    if (capacity < floats) {
        buffer.reset(static_cast<float*>(platform::alignedAlloc(32, sizeof(float) * floats)));
        capacity = floats;
    }
    return buffer.get();
}

// out[cols, rows] = in[rows, cols]^T
std::vector<float> transposed(const float* in, int rows, int cols)
{
    std::vector<float> out(size_t(rows) * cols);
    transposeInto(out.data(), in, rows, cols, cols, rows);
    return out;
}

} // namespace

// C[M,N] (+)= A[M,K] B[N,K]^T, all row-major: the runtime's packed-panel micro-kernel (AVX2/FMA
// when the CPU has it, chosen at run time), one task per panel of kernel.nr columns of C. Each element
// of C is summed over the whole K in one kernel call, so the result does not depend on how the
// panels are shared out between threads.
void gemmNT(int M, int N, int K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
            int64_t ldc, bool accumulate, ThreadPool* pool)
{
    using namespace tenfold::gemm;
    static const Kernel kernel = bestKernel();
    const int64_t panels = (N + kernel.nr - 1) / kernel.nr;
    const int slots = pool ? pool->size() : 1;
    // 32-byte aligned panels (the kernel loads them aligned), one per thread slot
    const size_t panelFloats = (size_t(K) * size_t(kernel.nr) + 7) / 8 * 8;
    // The caller's buffer holds every slot's panel; the caller waits for the slots to finish.
    float* scratch = threadScratch(panelFloats * size_t(slots));
    auto body = [&](int64_t b, int64_t e, int slot) {
        float* panel = scratch + panelFloats * size_t(slot);
        for (int64_t p = b; p < e; ++p) {
            const int c0 = int(p * kernel.nr);
            const int nr = std::min(kernel.nr, N - c0);
            packPanel(B + c0 * ldb, nr, ldb, K, panel, kernel.nr);
            for (int r = 0; r < M; r += kernel.mr)
                kernel.fn(A + r * lda, lda, std::min(kernel.mr, M - r), panel, K, C + r * ldc + c0, ldc, nr,
                       accumulate);
        }
    };
    if (pool && pool->size() > 1)
        pool->parallelFor(panels, 1, std::move(body));
    else
        body(0, panels, 0);
}

// In 32 x 32 tiles: the plain double loop wrote one float per cache line of the output in turn
// and took 15% of a palette-tuning step (perf, 2026-12-02).
void transposeInto(float* out, const float* in, int rows, int cols, int64_t ldIn, int64_t ldOut)
{
    constexpr int kTile = 32;
    for (int r0 = 0; r0 < rows; r0 += kTile)
        for (int c0 = 0; c0 < cols; c0 += kTile) {
            const int r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
            for (int r = r0; r < r1; ++r)
                for (int c = c0; c < c1; ++c)
                    out[size_t(c) * size_t(ldOut) + size_t(r)] = in[size_t(r) * size_t(ldIn) + size_t(c)];
        }
}

void linearForwardFast(float* y, const float* x, const float* W, int T, int I, int O,
                       ThreadPool* pool)
{
    gemmNT(T, O, I, x, I, W, I, y, O, false, pool);
}

void linearBackwardFast(float* dx, float* dW, const float* dy, const float* x, const float* W,
                        int T, int I, int O, ThreadPool* pool)
{
    if (dx) { // dx[T,I] += dy[T,O] (W^T)[I,O]^T
        const std::vector<float> wt = transposed(W, O, I);
        gemmNT(T, I, O, dy, O, wt.data(), O, dx, I, true, pool);
    }
    if (dW) { // dW[O,I] += (dy^T)[O,T] (x^T)[I,T]^T
        const std::vector<float> dyT = transposed(dy, T, O), xT = transposed(x, T, I);
        gemmNT(O, I, T, dyT.data(), T, xT.data(), T, dW, I, true, pool);
    }
}

} // namespace tenfold::train
