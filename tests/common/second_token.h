#pragma once
// The exact distribution of the second sampled token after `prompt`:
// P(x2) = sum over x1 of p(x1) p(x2 | x1), from one single-sequence pass per first token. The
// oracle the speculative-sampling tests hold their draws against.
#include "runtime/backend.h"
#include "runtime/sampling.h"

#include <span>
#include <vector>

namespace tenfold::test {

inline std::vector<double> exactSecondTokenDistribution(InferenceContext& ctx, int vocab,
                                                        const std::vector<int32_t>& prompt, const SamplingParams& sp)
{
    std::vector<double> exact(size_t(vocab), 0.0);
    Sampler sampler(sp);
    std::vector<float> logits;
    ctx.truncate(0);
    ctx.decode(prompt, false, logits);
    std::vector<int32_t> history = prompt;
    const TokenDistribution first = sampler.distribution(logits, history);
    for (size_t i = 0; i < first.ids.size(); ++i) {
        ctx.truncate(int(prompt.size()));
        const int32_t x1 = first.ids[i];
        ctx.decode(std::span<const int32_t>(&x1, 1), false, logits);
        history.push_back(x1);
        const TokenDistribution second = sampler.distribution(logits, history);
        history.pop_back();
        for (size_t j = 0; j < second.ids.size(); ++j)
            exact[size_t(second.ids[j])] += first.probs[i] * second.probs[j];
    }
    return exact;
}

} // namespace tenfold::test
