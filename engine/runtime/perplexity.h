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

// The pieces of the method, exposed so that evaluations which score the windows themselves
// (engine/eval: base logits cached on disk) follow exactly the same conventions and arithmetic.

// log(sum exp(logits)), accumulated in double.
double logSumExp(std::span<const float> logits);
// The first position whose prediction is scored (options.firstScored, or nCtx / 2).
int perplexityFirstScored(const PerplexityOptions& options);
// Throws InvalidArgument when the options or the text do not allow one window on ctx.
void validatePerplexityInput(const InferenceContext& ctx, std::span<const int32_t> tokens,
                             const PerplexityOptions& options);
// Runs window `chunk` from an empty cache (first token replaced by BOS): `window` receives its
// tokens, `logits` the rows firstScored .. nCtx-1 (the last row predicts past the window and is
// not scored).
void runPerplexityWindow(InferenceContext& ctx, std::span<const int32_t> tokens, int chunk,
                         const PerplexityOptions& options, std::vector<int32_t>& window,
                         std::vector<float>& logits);

// Mean and standard error of a series of per-position values (NLL, KLD).
struct MeanAccumulator {
    double sum = 0, sum2 = 0;
    int64_t n = 0;
    void add(double v)
    {
        sum += v;
        sum2 += v * v;
        ++n;
    }
    double mean() const;
    double stderrOfMean() const;
};
// PPL and its first-order standard error from per-position NLLs.
PerplexityResult perplexityFromNll(const MeanAccumulator& nll, int chunks);
// The q-quantile (0..1) as the element at rank round((n-1) q); reorders `values`. 0 when empty.
double quantileInPlace(std::vector<double>& values, double q);

} // namespace tenfold
