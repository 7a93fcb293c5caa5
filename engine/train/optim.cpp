#include "train/optim.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tenfold::train {

AdamW::AdamW(size_t nParams, const AdamWOptions& o) : o_(o), m_(nParams, 0.0f), v_(nParams, 0.0f)
{
    if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1) || !(o.eps > 0) ||
        !(o.weightDecay >= 0))
        throw InvalidArgument("AdamW: beta1, beta2 must lie in [0, 1), eps > 0, weight decay >= 0");
}

void AdamW::step(float* p, const float* grads, double lr, const uint8_t* decayMask)
{
    ++t_;
    // bias corrections in double: 1 - beta2^t is tiny for the first steps
    const double c1 = 1.0 - std::pow(o_.beta1, double(t_));
    const double c2 = 1.0 - std::pow(o_.beta2, double(t_));
    // The moment updates run in double and are stored in float: 1 - beta2 rounded to float is
    // off by 1e-5 relative (0.999f is not 0.999), which would bias v from the first step.
    const double b1 = o_.beta1, b2 = o_.beta2;
    for (size_t i = 0; i < m_.size(); ++i) {
        if (o_.weightDecay > 0 && (!decayMask || decayMask[i]))
            p[i] -= float(lr * o_.weightDecay * p[i]);
        const double g = grads[i];
        m_[i] = float(b1 * m_[i] + (1.0 - b1) * g);
        v_[i] = float(b2 * v_[i] + (1.0 - b2) * g * g);
        const double mHat = m_[i] / c1, vHat = v_[i] / c2;
        p[i] -= float(lr * mHat / (std::sqrt(vHat) + o_.eps));
    }
}

double clipGradNorm(float* g, size_t n, double maxNorm)
{
    double ss = 0;
    for (size_t i = 0; i < n; ++i)
        ss += double(g[i]) * g[i];
    const double norm = std::sqrt(ss);
    if (maxNorm > 0 && norm > maxNorm) {
        const float k = float(maxNorm / norm);
        for (size_t i = 0; i < n; ++i)
            g[i] *= k;
    }
    return norm;
}

double cosineLr(int64_t step, int64_t warmup, int64_t totalSteps, double maxLr, double minLr)
{
    if (step < warmup)
        return maxLr * double(step + 1) / double(warmup);
    if (step >= totalSteps)
        return minLr;
    const double progress = double(step - warmup) / double(std::max<int64_t>(1, totalSteps - warmup));
    return minLr + 0.5 * (maxLr - minLr) * (1.0 + std::cos(std::numbers::pi * progress));
}

} // namespace tenfold::train
