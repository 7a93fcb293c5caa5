#pragma once
// Fast CPU paths of the training engine's hot ops, in float: the linear layer's forward and
// backward as matrix products on the runtime's packed GEMM micro-kernel (AVX2/FMA, chosen at
// run time), and causal attention, split over a ThreadPool. They compute what the reference ops
// of train/ops.h compute (the tests hold them against those on random and odd shapes).
// Determinism: every output element is produced whole by one task (a panel of output columns
// summed over the full inner dimension, a query head, a KV head with its group), so the bits do
// not even depend on the thread count. pool may be null (one thread).
#include <cstddef>
#include <cstdint>

namespace tenfold {
class ThreadPool;
}

namespace tenfold::train {

// C[M,N] (+)= A[M,K] B[N,K]^T, row-major with leading dimensions lda, ldb, ldc; accumulate adds
// to C. Each element is summed over the whole K in one micro-kernel call (bits independent of
// pool's size); pool may be null.
void gemmNT(int M, int N, int K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
            int64_t ldc, bool accumulate, ThreadPool* pool);
// out[c * ldOut + r] = in[r * ldIn + c] for r < rows, c < cols (a transpose).
void transposeInto(float* out, const float* in, int rows, int cols, int64_t ldIn, int64_t ldOut);

// y[T,O] = x[T,I] W^T, W[O,I] row-major. Split over output features.
void linearForwardFast(float* y, const float* x, const float* W, int T, int I, int O,
                       ThreadPool* pool);
// dx[T,I] += dy[T,O] W (split over input features);  dW[O,I] += dy^T x (split over output
// features). Either of dx, dW may be null.
void linearBackwardFast(float* dx, float* dW, const float* dy, const float* x, const float* W,
                        int T, int I, int O, ThreadPool* pool);

// attentionForward / attentionBackward of train/ops.h (attention_fast.cpp), one query head
// (forward) or one KV head with its group (backward) per task. The scores, P V and the four
// backward products are matrix products on gemmNT, in row blocks that skip the causal mask's
// zeros; results equal the reference loops' up to float summation order.
void attentionForwardFast(float* out, float* att, const float* q, const float* k, const float* v,
                          int T, int nHead, int nHeadKv, int hd, ThreadPool* pool);
void attentionBackwardFast(float* dq, float* dk, float* dv, const float* dout, const float* att,
                           const float* q, const float* k, const float* v, int T, int nHead,
                           int nHeadKv, int hd, ThreadPool* pool);

} // namespace tenfold::train
