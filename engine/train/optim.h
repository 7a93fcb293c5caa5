#pragma once
// Optimisation for the training engine: AdamW (Loshchilov & Hutter, decoupled weight decay),
// global-norm gradient clipping, and a linear warm-up + cosine learning-rate schedule. F32 master
// weights; every loop runs in index order on one thread, so a run is bit-for-bit repeatable.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tenfold::train {

struct AdamWOptions {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weightDecay = 0.0; // decoupled: p -= lr * wd * p, not added to the gradient
};

class AdamW {
public:
    AdamW(size_t nParams, const AdamWOptions& o);
    // One update with learning rate lr. decayMask (nParams flags, or null for all): which
    // parameters take weight decay (norm gains usually do not). For step t = 1, 2, ...:
    //   p -= lr * wd * p
    //   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
    //   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    void step(float* params, const float* grads, double lr, const uint8_t* decayMask = nullptr);
    int64_t steps() const { return t_; }
    // The moments, for checkpoints (same layout as the parameters).
    std::vector<float>& m() { return m_; }
    std::vector<float>& v() { return v_; }
    void setSteps(int64_t t) { t_ = t; }

private:
    AdamWOptions o_;
    std::vector<float> m_, v_;
    int64_t t_ = 0;
};

// The L2 norm of all n gradients together (summed in double); when it exceeds maxNorm > 0 every
// gradient is scaled by maxNorm / norm. Returns the norm before clipping.
double clipGradNorm(float* grads, size_t n, double maxNorm);

// Learning rate at step (0-based): linear warm-up from maxLr/warmup to maxLr over `warmup`
// steps, then a half cosine from maxLr down to minLr at totalSteps; minLr afterwards.
double cosineLr(int64_t step, int64_t warmup, int64_t totalSteps, double maxLr, double minLr);

} // namespace tenfold::train
