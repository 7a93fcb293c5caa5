// Causal attention of the training engine (forward and backward, GQA) as matrix products on the
// packed GEMM micro-kernel (fast_ops.h's gemmNT), one query head or one KV head with its group per
// task. The reference loops (train/ops.h) did the same arithmetic one dot product at a time and
// took half of a palette-tuning step on 512-token windows (perf, 2026-12-02).
//
// Per head h (KV head hk = h / group), with P the T x T softmax rows (saved as `att`):
//   forward   S = Q_h K_hk^T * scale, P = softmax over j <= t, O_h = P V_hk
//   backward  dP = dO_h V_hk^T, dS = P o (dP - rowsum(P o dP)) * scale,
//             dQ_h += dS K_hk, dK_hk += dS^T Q_h, dV_hk += P^T dO_h
// Rows are taken in blocks of kRowBlock: the block of rows t0..t0+mb only meets columns j < t0+mb
// (the rest of P is zero), so the products skip most of the causal mask's zeros.
#include "train/fast_ops.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace tenfold::train {
namespace {

constexpr int kRowBlock = 64;

struct Shape {
    int T, nHead, nHeadKv, hd;
    size_t qStride() const { return size_t(nHead) * size_t(hd); }
    size_t kvStride() const { return size_t(nHeadKv) * size_t(hd); }
};

// att[t][j] = softmax_j(S[t][j] * scale) for j <= t, 0 for j > t; S holds the raw scores for
// j <= t on entry.
void softmaxRows(float* att, int T, float scale)
{
    for (int t = 0; t < T; ++t) {
        float* a = att + size_t(t) * size_t(T);
        float maxv = -INFINITY;
        for (int j = 0; j <= t; ++j) {
            a[j] *= scale;
            maxv = std::max(maxv, a[j]);
        }
        float sum = 0;
        for (int j = 0; j <= t; ++j) {
            a[j] = std::exp(a[j] - maxv);
            sum += a[j];
        }
        for (int j = 0; j <= t; ++j)
            a[j] /= sum;
        std::fill(a + t + 1, a + T, 0.0f);
    }
}

// S[t][j] = A row t . B row j (hd long; row strides lda, ldb) for j < t0 + mb, the causal prefix
// of t's row block; S's rows are T long, and what lies beyond the prefix softmaxRows (or the
// caller) overwrites.
void causalScores(float* S, const float* A, size_t lda, const float* B, size_t ldb, int T, int hd)
{
    for (int t0 = 0; t0 < T; t0 += kRowBlock) {
        const int mb = std::min(kRowBlock, T - t0);
        gemmNT(mb, t0 + mb, hd, A + size_t(t0) * lda, int64_t(lda), B, int64_t(ldb), S + size_t(t0) * size_t(T), T,
               false, nullptr);
    }
}

// out rows t (stride ldo) (+)= P[t][0..t] x Bt^T, Bt = [hd, T] (a transposed K or V head): the
// block of rows t0..t0+mb sums over j < t0 + mb only.
void causalTimes(float* out, size_t ldo, const float* P, const float* Bt, int T, int hd, bool accumulate)
{
    for (int t0 = 0; t0 < T; t0 += kRowBlock) {
        const int mb = std::min(kRowBlock, T - t0);
        gemmNT(mb, hd, t0 + mb, P + size_t(t0) * size_t(T), T, Bt, T, out + size_t(t0) * ldo, int64_t(ldo), accumulate,
               nullptr);
    }
}

// out rows j (stride ldo) += sum_{t >= j} Pt[j][t] x Bt[., t], Pt = P^T (row j is zero before t = j),
// Bt = [hd, T]: the block of rows j0..j0+mb sums over t >= j0 only.
void anticausalTimes(float* out, size_t ldo, const float* Pt, const float* Bt, int T, int hd)
{
    for (int j0 = 0; j0 < T; j0 += kRowBlock) {
        const int mb = std::min(kRowBlock, T - j0);
        gemmNT(mb, hd, T - j0, Pt + size_t(j0) * size_t(T) + size_t(j0), T, Bt + j0, T, out + size_t(j0) * ldo,
               int64_t(ldo), true, nullptr);
    }
}

void headForward(float* out, float* att, const float* q, const float* k, const float* v, const Shape& s, int h,
                 std::vector<float>& vt)
{
    const int hk = h / (s.nHead / s.nHeadKv);
    const int T = s.T;
    float* P = att + size_t(h) * size_t(T) * size_t(T);
    causalScores(P, q + size_t(h) * s.hd, s.qStride(), k + size_t(hk) * s.hd, s.kvStride(), T, s.hd);
    softmaxRows(P, T, 1.0f / std::sqrt(float(s.hd)));
    vt.resize(size_t(s.hd) * size_t(T));
    transposeInto(vt.data(), v + size_t(hk) * s.hd, T, s.hd, int64_t(s.kvStride()), T);
    causalTimes(out + size_t(h) * s.hd, s.qStride(), P, vt.data(), T, s.hd, false);
}

struct BackwardScratch {
    std::vector<float> dP, dS, dSt, Pt, kt, qt, dOt; // kt: K_hk^T, the same for the whole group
};

void headBackward(float* dq, float* dk, float* dv, const float* dout, const float* att, const float* q,
                  const float* v, const Shape& s, int h, BackwardScratch& w)
{
    const int hk = h / (s.nHead / s.nHeadKv);
    const int T = s.T, hd = s.hd;
    const size_t TT = size_t(T) * size_t(T);
    const float scale = 1.0f / std::sqrt(float(hd));
    const float* P = att + size_t(h) * TT;
    const float* dO = dout + size_t(h) * hd;
    w.dP.resize(TT);
    w.dS.resize(TT);
    causalScores(w.dP.data(), dO, s.qStride(), v + size_t(hk) * hd, s.kvStride(), T, hd);
    for (int t = 0; t < T; ++t) {
        const float* a = P + size_t(t) * size_t(T);
        const float* dp = w.dP.data() + size_t(t) * size_t(T);
        float* ds = w.dS.data() + size_t(t) * size_t(T);
        float dot = 0;
        for (int j = 0; j <= t; ++j)
            dot += a[j] * dp[j];
        for (int j = 0; j <= t; ++j)
            ds[j] = a[j] * (dp[j] - dot) * scale;
        std::fill(ds + t + 1, ds + T, 0.0f);
    }
    // dQ_h += dS K_hk
    causalTimes(dq + size_t(h) * hd, s.qStride(), w.dS.data(), w.kt.data(), T, hd, true);
    // dK_hk += dS^T Q_h
    w.dSt.resize(TT);
    w.qt.resize(size_t(hd) * size_t(T));
    transposeInto(w.dSt.data(), w.dS.data(), T, T, T, T);
    transposeInto(w.qt.data(), q + size_t(h) * hd, T, hd, int64_t(s.qStride()), T);
    anticausalTimes(dk + size_t(hk) * hd, s.kvStride(), w.dSt.data(), w.qt.data(), T, hd);
    // dV_hk += P^T dO_h
    w.Pt.resize(TT);
    w.dOt.resize(size_t(hd) * size_t(T));
    transposeInto(w.Pt.data(), P, T, T, T, T);
    transposeInto(w.dOt.data(), dO, T, hd, int64_t(s.qStride()), T);
    anticausalTimes(dv + size_t(hk) * hd, s.kvStride(), w.Pt.data(), w.dOt.data(), T, hd);
}

} // namespace

void attentionForwardFast(float* out, float* att, const float* q, const float* k, const float* v,
                          int T, int nHead, int nHeadKv, int hd, ThreadPool* pool)
{
    const Shape s{T, nHead, nHeadKv, hd};
    auto body = [&](int64_t b, int64_t e, int) {
        std::vector<float> vt;
        for (int64_t h = b; h < e; ++h)
            headForward(out, att, q, k, v, s, int(h), vt);
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
    // One task per KV head: the query heads of its group add into its dk/dv in head order, so no
    // two tasks write the same element.
    const Shape s{T, nHead, nHeadKv, hd};
    const int group = nHead / nHeadKv;
    auto body = [&](int64_t b, int64_t e, int) {
        BackwardScratch w;
        for (int64_t hk = b; hk < e; ++hk) {
            w.kt.resize(size_t(hd) * size_t(T));
            transposeInto(w.kt.data(), k + size_t(hk) * hd, T, hd, int64_t(s.kvStride()), T);
            for (int g = 0; g < group; ++g)
                headBackward(dq, dk, dv, dout, att, q, v, s, int(hk) * group + g, w);
        }
    };
    if (pool)
        pool->parallelFor(nHeadKv, 1, std::move(body));
    else
        body(0, nHeadKv, 0);
}

} // namespace tenfold::train
