#pragma once
// Perplexity and KL divergence with the reference method (reference/perplexity.json): the token
// stream is cut into windows of nCtx tokens (a final partial window is dropped), each window's
// first token becomes BOS, each window runs from an empty cache, and the predictions made from
// positions firstScored .. nCtx-2 are scored. PPL = exp(mean NLL).
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace tenfold {

class InferenceContext;

struct PerplexityOptions {
    int nCtx = 512;            // window length; the context must hold at least this many tokens
    int firstScored = -1;      // first position whose prediction counts; -1: nCtx / 2
    int maxChunks = 0;         // 0: every full window
    int32_t bos = 1;           // replaces the first token of each window; -1: no replacement
    std::function<void(int done, int total)> progress;
    const std::atomic<bool>* cancel = nullptr; // Cancelled is thrown between windows/ops
};

struct PerplexityResult {
    int chunks = 0;
    int64_t predictions = 0;
    double meanNll = 0, nllStderr = 0;
    double ppl = 0, pplStderr = 0;   // pplStderr = ppl * nllStderr (first-order)
};

struct KlDivergenceResult {
    PerplexityResult base;           // the reference model (e.g. F16)
    PerplexityResult test;           // the compared model (e.g. quantized)
    double meanKld = 0, kldStderr = 0;
    double kld99 = 0;                // 99th percentile over all scored positions
    double sameTopPct = 0;           // % of positions whose argmax agrees
};

// Number of windows the method scores for `nTokens` tokens.
int perplexityChunks(int64_t nTokens, const PerplexityOptions& options);

// tokens: the whole text tokenized once, with a leading BOS. Throws InvalidArgument if there is
// not one full window or the context is too small.
PerplexityResult perplexity(InferenceContext& ctx, std::span<const int32_t> tokens,
                            const PerplexityOptions& options);

// Runs both models over the same windows: perplexity of each and the KL divergence of the test
// model's next-token distribution from the base model's. Vocabularies must match.
KlDivergenceResult klDivergence(InferenceContext& base, InferenceContext& test,
                                std::span<const int32_t> tokens, const PerplexityOptions& options);

// log-softmax helpers, exposed for the tests: NLL of `target` under softmax(logits).
double negativeLogLikelihood(std::span<const float> logits, int32_t target);

} // namespace tenfold
