#pragma once
// The training engine's reference ops, written like llm.c: plain loops, shapes in comments, one
// forward that saves what the backward needs and one explicit backward per op. They are
// templates over the scalar type so that the same code runs in float (training) and in double
// (the gradient checks compare analytic gradients with central finite differences, which need
// double's precision to be meaningful). No threads, no SIMD: these are the oracle that faster
// paths will be held against later.
//
// Conventions (shared with engine/runtime for inference):
//   - activations are row-major [T, C]: row t is position t;
//   - a weight matrix W is [out, in] row-major (GGUF's ne1 rows of ne0), and linear is y = x W^T;
//   - backward functions ACCUMULATE (+=) into every gradient they write, so a tensor used twice
//     (a tied embedding, a residual stream) sums its contributions; callers zero gradients first.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace tenfold::train {

// ---- embedding ----------------------------------------------------------------------------
// out[T,C] = wte[tokens[t], :]
template <class S>
void embeddingForward(S* out, const int32_t* tokens, const S* wte, int T, int C)
{
    for (int t = 0; t < T; ++t) {
        const S* row = wte + size_t(tokens[t]) * C;
        for (int c = 0; c < C; ++c)
            out[size_t(t) * C + c] = row[c];
    }
}
// dwte[V,C] += scatter of dout[T,C] by token (a token seen twice gets both rows)
template <class S>
void embeddingBackward(S* dwte, const S* dout, const int32_t* tokens, int T, int C)
{
    for (int t = 0; t < T; ++t) {
        S* row = dwte + size_t(tokens[t]) * C;
        for (int c = 0; c < C; ++c)
            row[c] += dout[size_t(t) * C + c];
    }
}

// ---- RMSNorm ------------------------------------------------------------------------------
// out[T,C] = x * rstd[t] * w,  rstd[t] = 1 / sqrt(mean_c(x^2) + eps)  (rstd saved for backward)
template <class S>
void rmsNormForward(S* out, S* rstd, const S* x, const S* w, int T, int C, S eps)
{
    for (int t = 0; t < T; ++t) {
        const S* xt = x + size_t(t) * C;
        S ss = 0;
        for (int c = 0; c < C; ++c)
            ss += xt[c] * xt[c];
        const S r = S(1) / std::sqrt(ss / S(C) + eps);
        rstd[t] = r;
        for (int c = 0; c < C; ++c)
            out[size_t(t) * C + c] = xt[c] * r * w[c];
    }
}
// y_i = x_i r w_i with dr/dx_j = -r^3 x_j / C, hence
//   dx_j = r (dy_j w_j - x_j r^2 / C * sum_i dy_i w_i x_i),   dw_i += dy_i x_i r
template <class S>
void rmsNormBackward(S* dx, S* dw, const S* dout, const S* x, const S* w, const S* rstd, int T,
                     int C)
{
    for (int t = 0; t < T; ++t) {
        const S* xt = x + size_t(t) * C;
        const S* dy = dout + size_t(t) * C;
        const S r = rstd[t];
        S dot = 0; // sum_i dy_i w_i x_i
        for (int c = 0; c < C; ++c)
            dot += dy[c] * w[c] * xt[c];
        const S k = r * r * r * dot / S(C);
        for (int c = 0; c < C; ++c) {
            dx[size_t(t) * C + c] += r * dy[c] * w[c] - k * xt[c];
            dw[c] += dy[c] * xt[c] * r;
        }
    }
}

// ---- RoPE ---------------------------------------------------------------------------------
// cos/sin of every rotated pair at each position, table[t * ropeDim/2 + i] (engine/runtime's
// ropeTable, in S): theta = pos * freqScale * base^(-2i / ropeDim).
template <class S>
void ropeTable(const int32_t* positions, int T, int ropeDim, double freqBase, double freqScale,
               S* cosOut, S* sinOut)
{
    const int half = ropeDim / 2;
    for (int t = 0; t < T; ++t)
        for (int i = 0; i < half; ++i) {
            const double theta =
                double(positions[t]) * freqScale * std::pow(freqBase, -2.0 * i / ropeDim);
            cosOut[size_t(t) * half + i] = S(std::cos(theta));
            sinOut[size_t(t) * half + i] = S(std::sin(theta));
        }
}
// out[T, nHeads*headDim] = in rotated per head: the first ropeDim dims of each head turn in
// pairs (normal mode: (2i, 2i+1); NeoX: (i, i + ropeDim/2)), the rest pass through — the
// pairing of engine/runtime/cpu_ops.h's ref::rope. out may alias in.
template <class S>
void ropeForward(S* out, const S* in, int T, int nHeads, int headDim, int ropeDim,
                 const S* cosT, const S* sinT, bool neox)
{
    const int half = ropeDim / 2;
    for (int t = 0; t < T; ++t) {
        const S* ct = cosT + size_t(t) * half;
        const S* st = sinT + size_t(t) * half;
        for (int h = 0; h < nHeads; ++h) {
            const size_t base = (size_t(t) * nHeads + h) * headDim;
            for (int d = ropeDim; d < headDim; ++d)
                out[base + d] = in[base + d];
            for (int i = 0; i < half; ++i) {
                const int a = neox ? i : 2 * i;
                const int b = neox ? i + half : 2 * i + 1;
                const S x0 = in[base + a], x1 = in[base + b];
                out[base + a] = x0 * ct[i] - x1 * st[i];
                out[base + b] = x0 * st[i] + x1 * ct[i];
            }
        }
    }
}
// The rotation is orthogonal, so the gradient turns back by the transpose (angle -theta).
// din += R^T dout.
template <class S>
void ropeBackward(S* din, const S* dout, int T, int nHeads, int headDim, int ropeDim,
                  const S* cosT, const S* sinT, bool neox)
{
    const int half = ropeDim / 2;
    for (int t = 0; t < T; ++t) {
        const S* ct = cosT + size_t(t) * half;
        const S* st = sinT + size_t(t) * half;
        for (int h = 0; h < nHeads; ++h) {
            const size_t base = (size_t(t) * nHeads + h) * headDim;
            for (int d = ropeDim; d < headDim; ++d)
                din[base + d] += dout[base + d];
            for (int i = 0; i < half; ++i) {
                const int a = neox ? i : 2 * i;
                const int b = neox ? i + half : 2 * i + 1;
                const S g0 = dout[base + a], g1 = dout[base + b];
                din[base + a] += g0 * ct[i] + g1 * st[i];
                din[base + b] += -g0 * st[i] + g1 * ct[i];
            }
        }
    }
}

// ---- causal self-attention with GQA -------------------------------------------------------
// q[T, nHead*hd], k/v[T, nHeadKv*hd] (after RoPE) -> out[T, nHead*hd]. Query head h reads KV
// head h / (nHead/nHeadKv), as llama.cpp groups them. att[nHead, T, T] saves the softmax
// probabilities (row t holds positions 0..t; the rest stays 0): the backward needs only them.
template <class S>
void attentionForward(S* out, S* att, const S* q, const S* k, const S* v, int T, int nHead,
                      int nHeadKv, int hd)
{
    const int group = nHead / nHeadKv;
    const S scale = S(1) / std::sqrt(S(hd));
    const size_t qStride = size_t(nHead) * hd, kvStride = size_t(nHeadKv) * hd;
    for (int h = 0; h < nHead; ++h) {
        const int hk = h / group;
        for (int t = 0; t < T; ++t) {
            const S* qt = q + t * qStride + size_t(h) * hd;
            S* a = att + (size_t(h) * T + t) * T;
            S maxv = -INFINITY;
            for (int j = 0; j <= t; ++j) { // causal: keys up to and including t
                const S* kj = k + j * kvStride + size_t(hk) * hd;
                S s = 0;
                for (int d = 0; d < hd; ++d)
                    s += qt[d] * kj[d];
                a[j] = s * scale;
                if (a[j] > maxv)
                    maxv = a[j];
            }
            S sum = 0;
            for (int j = 0; j <= t; ++j) {
                a[j] = std::exp(a[j] - maxv); // max subtracted: no overflow
                sum += a[j];
            }
            for (int j = 0; j <= t; ++j)
                a[j] /= sum;
            for (int j = t + 1; j < T; ++j)
                a[j] = 0;
            S* ot = out + t * qStride + size_t(h) * hd;
            for (int d = 0; d < hd; ++d)
                ot[d] = 0;
            for (int j = 0; j <= t; ++j) {
                const S* vj = v + j * kvStride + size_t(hk) * hd;
                for (int d = 0; d < hd; ++d)
                    ot[d] += a[j] * vj[d];
            }
        }
    }
}
// With P = softmax(scale * q k^T) and out = P v:
//   dP_j = dout . v_j;   dv_j += P_j dout;   dS_j = P_j (dP_j - sum_i P_i dP_i)  (softmax)
//   dq += scale * sum_j dS_j k_j;   dk_j += scale * dS_j q
// KV heads shared by a group sum the gradients of every query head in it.
template <class S>
void attentionBackward(S* dq, S* dk, S* dv, const S* dout, const S* att, const S* q, const S* k,
                       const S* v, int T, int nHead, int nHeadKv, int hd)
{
    const int group = nHead / nHeadKv;
    const S scale = S(1) / std::sqrt(S(hd));
    const size_t qStride = size_t(nHead) * hd, kvStride = size_t(nHeadKv) * hd;
    for (int h = 0; h < nHead; ++h) {
        const int hk = h / group;
        for (int t = 0; t < T; ++t) {
            const S* a = att + (size_t(h) * T + t) * T;
            const S* go = dout + t * qStride + size_t(h) * hd;
            const S* qt = q + t * qStride + size_t(h) * hd;
            S* gq = dq + t * qStride + size_t(h) * hd;
            S dotPdP = 0;
            // dP is needed twice; T is small in the reference, a stack-free recompute is fine
            for (int j = 0; j <= t; ++j) {
                const S* vj = v + j * kvStride + size_t(hk) * hd;
                S dp = 0;
                for (int d = 0; d < hd; ++d)
                    dp += go[d] * vj[d];
                dotPdP += a[j] * dp;
            }
            for (int j = 0; j <= t; ++j) {
                const S* vj = v + j * kvStride + size_t(hk) * hd;
                const S* kj = k + j * kvStride + size_t(hk) * hd;
                S* gv = dv + j * kvStride + size_t(hk) * hd;
                S* gk = dk + j * kvStride + size_t(hk) * hd;
                S dp = 0;
                for (int d = 0; d < hd; ++d)
                    dp += go[d] * vj[d];
                const S ds = a[j] * (dp - dotPdP) * scale;
                for (int d = 0; d < hd; ++d) {
                    gv[d] += a[j] * go[d];
                    gq[d] += ds * kj[d];
                    gk[d] += ds * qt[d];
                }
            }
        }
    }
}

// ---- SwiGLU -------------------------------------------------------------------------------
// h[N] = silu(g) * u,  silu(g) = g * sigmoid(g)   (N = T * ffnDim)
template <class S>
void swigluForward(S* h, const S* g, const S* u, size_t N)
{
    for (size_t i = 0; i < N; ++i)
        h[i] = g[i] / (S(1) + std::exp(-g[i])) * u[i];
}
// silu'(g) = s (1 + g (1 - s)) with s = sigmoid(g)
template <class S>
void swigluBackward(S* dg, S* du, const S* dh, const S* g, const S* u, size_t N)
{
    for (size_t i = 0; i < N; ++i) {
        const S s = S(1) / (S(1) + std::exp(-g[i]));
        dg[i] += dh[i] * u[i] * s * (S(1) + g[i] * (S(1) - s));
        du[i] += dh[i] * g[i] * s;
    }
}

// ---- linear -------------------------------------------------------------------------------
// y[T,O] = x[T,I] W^T,  W[O,I] row-major (GGUF layout: O rows of I)
template <class S>
void linearForward(S* y, const S* x, const S* W, int T, int I, int O)
{
    for (int t = 0; t < T; ++t) {
        const S* xt = x + size_t(t) * I;
        for (int o = 0; o < O; ++o) {
            const S* wo = W + size_t(o) * I;
            S s = 0;
            for (int i = 0; i < I; ++i)
                s += xt[i] * wo[i];
            y[size_t(t) * O + o] = s;
        }
    }
}
// dx[T,I] += dy[T,O] W;   dW[O,I] += dy^T x.  Either output may be null (a frozen weight, an
// input that needs no gradient).
template <class S>
void linearBackward(S* dx, S* dW, const S* dy, const S* x, const S* W, int T, int I, int O)
{
    for (int t = 0; t < T; ++t) {
        const S* xt = x + size_t(t) * I;
        S* gx = dx ? dx + size_t(t) * I : nullptr;
        for (int o = 0; o < O; ++o) {
            const S g = dy[size_t(t) * O + o];
            const S* wo = W + size_t(o) * I;
            if (gx)
                for (int i = 0; i < I; ++i)
                    gx[i] += g * wo[i];
            if (dW) {
                S* gw = dW + size_t(o) * I;
                for (int i = 0; i < I; ++i)
                    gw[i] += g * xt[i];
            }
        }
    }
}

// ---- losses -------------------------------------------------------------------------------
// probs[T,V] = softmax(logits[T,V] / temperature) row by row (max subtracted first).
template <class S>
void softmaxRows(S* probs, const S* logits, int T, int V, S temperature = S(1))
{
    for (int t = 0; t < T; ++t) {
        const S* l = logits + size_t(t) * V;
        S* p = probs + size_t(t) * V;
        S maxv = l[0];
        for (int i = 1; i < V; ++i)
            maxv = l[i] > maxv ? l[i] : maxv;
        S sum = 0;
        for (int i = 0; i < V; ++i) {
            p[i] = std::exp((l[i] - maxv) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < V; ++i)
            p[i] /= sum;
    }
}
// loss = mean_t -log softmax(logits_t)[targets[t]]; probs[T,V] saved for the backward.
// log p is taken as (l - max) - log(sum), not log(p), so a tiny probability stays finite.
template <class S>
S crossEntropyForward(S* probs, const S* logits, const int32_t* targets, int T, int V)
{
    softmaxRows(probs, logits, T, V);
    double total = 0;
    for (int t = 0; t < T; ++t) {
        const S* l = logits + size_t(t) * V;
        S maxv = l[0];
        for (int i = 1; i < V; ++i)
            maxv = l[i] > maxv ? l[i] : maxv;
        double sum = 0;
        for (int i = 0; i < V; ++i)
            sum += std::exp(double(l[i] - maxv));
        total += std::log(sum) - double(l[targets[t]] - maxv);
    }
    return S(total / T);
}
// dlogits[T,V] += dloss * (probs - onehot(target)) / T
template <class S>
void crossEntropyBackward(S* dlogits, const S* probs, const int32_t* targets, int T, int V,
                          S dloss = S(1))
{
    const S k = dloss / S(T);
    for (int t = 0; t < T; ++t)
        for (int i = 0; i < V; ++i)
            dlogits[size_t(t) * V + i] +=
                k * (probs[size_t(t) * V + i] - (i == targets[t] ? S(1) : S(0)));
}
// Distillation loss (Hinton et al.): mean_t  tau^2 * KL(softmax(teacher_t/tau) || softmax(student_t/tau)).
// The tau^2 keeps the gradient's size independent of tau. pTeacher/pStudent[T,V] are saved.
template <class S>
S klDistillForward(S* pTeacher, S* pStudent, const S* teacher, const S* student, int T, int V,
                   S tau)
{
    softmaxRows(pTeacher, teacher, T, V, tau);
    softmaxRows(pStudent, student, T, V, tau);
    // log p from the logits (log-sum-exp in double), not log of the stored float probability:
    // a student probability that underflows to 0 must not make the loss infinite.
    auto logZ = [&](const S* l) {
        double maxv = l[0];
        for (int i = 1; i < V; ++i)
            maxv = std::max(maxv, double(l[i]));
        double sum = 0;
        for (int i = 0; i < V; ++i)
            sum += std::exp((double(l[i]) - maxv) / double(tau));
        return maxv / double(tau) + std::log(sum);
    };
    double total = 0;
    for (int t = 0; t < T; ++t) {
        const S* lt = teacher + size_t(t) * V;
        const S* ls = student + size_t(t) * V;
        const double zt = logZ(lt), zs = logZ(ls);
        for (int i = 0; i < V; ++i) {
            const double pt = pTeacher[size_t(t) * V + i];
            if (pt > 0) // 0 log 0 = 0
                total += pt * ((double(lt[i]) - double(ls[i])) / double(tau) - zt + zs);
        }
    }
    return S(total * double(tau) * double(tau) / T);
}
// d/dstudent of tau^2 KL = tau^2 * (pS - pT) / tau = tau (pS - pT); mean over T. The teacher is
// frozen, so it gets no gradient.
template <class S>
void klDistillBackward(S* dstudent, const S* pTeacher, const S* pStudent, int T, int V, S tau,
                       S dloss = S(1))
{
    const S k = dloss * tau / S(T);
    for (size_t i = 0; i < size_t(T) * V; ++i)
        dstudent[i] += k * (pStudent[i] - pTeacher[i]);
}

} // namespace tenfold::train
