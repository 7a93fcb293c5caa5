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
    std::unique_ptr<float, FreeDeleter> scratch(
        static_cast<float*>(platform::alignedAlloc(32, sizeof(float) * panelFloats * slots)));
    auto body = [&](int64_t b, int64_t e, int slot) {
        float* panel = scratch.get() + panelFloats * size_t(slot);
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

// out[cols, rows] = in[rows, cols]^T
std::vector<float> transposed(const float* in, int rows, int cols)
{
    std::vector<float> out(size_t(rows) * cols);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            out[size_t(c) * rows + r] = in[size_t(r) * cols + c];
    return out;
}

} // namespace

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

namespace {

void attendHead(float* out, float* att, const float* q, const float* k, const float* v, int T,
                int nHead, int nHeadKv, int hd, int h)
{
    const int group = nHead / nHeadKv;
    const int hk = h / group;
    const float scale = 1.0f / std::sqrt(float(hd));
    const size_t qStride = size_t(nHead) * hd, kvStride = size_t(nHeadKv) * hd;
    for (int t = 0; t < T; ++t) {
        const float* qt = q + t * qStride + size_t(h) * hd;
        float* a = att + (size_t(h) * T + t) * T;
        float maxv = -INFINITY;
        for (int j = 0; j <= t; ++j) {
            const float* kj = k + j * kvStride + size_t(hk) * hd;
            float s = 0;
            for (int d = 0; d < hd; ++d)
                s += qt[d] * kj[d];
            a[j] = s * scale;
            if (a[j] > maxv)
                maxv = a[j];
        }
        float sum = 0;
        for (int j = 0; j <= t; ++j) {
            a[j] = std::exp(a[j] - maxv);
            sum += a[j];
        }
        for (int j = 0; j <= t; ++j)
            a[j] /= sum;
        for (int j = t + 1; j < T; ++j)
            a[j] = 0;
        float* ot = out + t * qStride + size_t(h) * hd;
        for (int d = 0; d < hd; ++d)
            ot[d] = 0;
        for (int j = 0; j <= t; ++j) {
            const float* vj = v + j * kvStride + size_t(hk) * hd;
            for (int d = 0; d < hd; ++d)
                ot[d] += a[j] * vj[d];
        }
    }
}

void attendHeadBackward(float* dq, float* dk, float* dv, const float* dout, const float* att,
                        const float* q, const float* k, const float* v, int T, int nHead,
                        int nHeadKv, int hd, int h)
{
    const int group = nHead / nHeadKv;
    const int hk = h / group;
    const float scale = 1.0f / std::sqrt(float(hd));
    const size_t qStride = size_t(nHead) * hd, kvStride = size_t(nHeadKv) * hd;
    for (int t = 0; t < T; ++t) {
        const float* a = att + (size_t(h) * T + t) * T;
        const float* go = dout + t * qStride + size_t(h) * hd;
        const float* qt = q + t * qStride + size_t(h) * hd;
        float* gq = dq + t * qStride + size_t(h) * hd;
        float dotPdP = 0;
        for (int j = 0; j <= t; ++j) {
            const float* vj = v + j * kvStride + size_t(hk) * hd;
            float dp = 0;
            for (int d = 0; d < hd; ++d)
                dp += go[d] * vj[d];
            dotPdP += a[j] * dp;
        }
        for (int j = 0; j <= t; ++j) {
            const float* vj = v + j * kvStride + size_t(hk) * hd;
            const float* kj = k + j * kvStride + size_t(hk) * hd;
            float* gv = dv + j * kvStride + size_t(hk) * hd;
            float* gk = dk + j * kvStride + size_t(hk) * hd;
            float dp = 0;
            for (int d = 0; d < hd; ++d)
                dp += go[d] * vj[d];
            const float ds = a[j] * (dp - dotPdP) * scale;
            for (int d = 0; d < hd; ++d) {
                gv[d] += a[j] * go[d];
                gq[d] += ds * kj[d];
                gk[d] += ds * qt[d];
            }
        }
    }
}

} // namespace

void attentionForwardFast(float* out, float* att, const float* q, const float* k, const float* v,
                          int T, int nHead, int nHeadKv, int hd, ThreadPool* pool)
{
    auto body = [&](int64_t b, int64_t e, int) {
        for (int64_t h = b; h < e; ++h)
            attendHead(out, att, q, k, v, T, nHead, nHeadKv, hd, int(h));
    };
    if (pool)
        pool->parallelFor(nHead, 1, std::move(body));
    else
        body(0, nHead, 0);
}

void attentionBackwardFast(float* dq, float* dk, float* dv, const float* dout, const float* att,
                           const float* q, const float* k, const float* v, int T, int nHead,
                           int nHeadKv, int hd, ThreadPool* pool)
{
    // One task per KV head: the query heads of its group add into its dk/dv in the reference's
    // head order, so no two tasks write the same element.
    const int group = nHead / nHeadKv;
    auto body = [&](int64_t b, int64_t e, int) {
        for (int64_t hk = b; hk < e; ++hk)
            for (int g = 0; g < group; ++g)
                attendHeadBackward(dq, dk, dv, dout, att, q, k, v, T, nHead, nHeadKv, hd,
                                   int(hk) * group + g);
    };
    if (pool)
        pool->parallelFor(nHeadKv, 1, std::move(body));
    else
        body(0, nHeadKv, 0);
}

} // namespace tenfold::train
