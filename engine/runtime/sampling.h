#pragma once
// Token sampling: greedy, temperature, top-k, top-p, min-p and repetition penalty. A Sampler with
// the same seed and inputs picks the same tokens on every run and machine.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace tenfold {

struct SamplingParams {
    float temperature = 0.8f;   // <= 0: greedy (argmax)
    int topK = 40;              // <= 0: off
    float topP = 0.95f;         // >= 1: off
    float minP = 0.05f;         // <= 0: off
    float repeatPenalty = 1.0f; // 1: off (the default, as in llama.cpp: --temp 0 is plain greedy)
    int repeatLastN = 64;       // how many recent tokens the penalty looks at
    uint64_t seed = 0;
};

// The distribution a Sampler draws from for one row: the surviving tokens and their
// probabilities (summing to 1), largest first. Greedy sampling gives one token with probability 1.
struct TokenDistribution {
    std::vector<int32_t> ids;
    std::vector<double> probs;
    double probability(int32_t id) const; // 0 for a token that did not survive
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);
    // logits: one row of vocab floats; history: tokens so far (prompt + generated).
    int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
    // The distribution sample() would draw from (the same chain: penalty, top-k, top-p, min-p,
    // temperature), without drawing.
    TokenDistribution distribution(std::span<const float> logits, std::span<const int32_t> history);
    // One draw from a distribution, and a uniform number in [0, 1), from this sampler's generator.
    int32_t draw(const TokenDistribution& d);
    double uniform();
    const SamplingParams& params() const { return params_; }

private:
    SamplingParams params_;
    std::mt19937_64 rng_;
    void fill(std::span<const float> logits, std::span<const int32_t> history, TokenDistribution& out);
    std::vector<std::pair<float, int32_t>> candidates_;
    TokenDistribution scratch_;
};

int32_t argmax(std::span<const float> logits);

// max(0, p - q), normalized: what speculative sampling draws from after rejecting a draft token
// (Leviathan et al. 2023). When nothing is left (p <= q everywhere) it is p itself.
TokenDistribution residualDistribution(const TokenDistribution& p, const TokenDistribution& q);

} // namespace tenfold
