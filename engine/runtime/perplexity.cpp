#include "runtime/perplexity.h"

#include "core/error.h"
#include "runtime/backend.h"

#include <algorithm>
#include <cmath>

namespace tenfold {

double MeanAccumulator::mean() const { return n ? sum / double(n) : 0.0; }

double MeanAccumulator::stderrOfMean() const
{
    if (n < 2)
        return 0.0;
    const double m = mean();
    const double var = std::max(0.0, sum2 / double(n) - m * m);
    return std::sqrt(var / double(n - 1));
}

PerplexityResult perplexityFromNll(const MeanAccumulator& a, int chunks)
{
    PerplexityResult r;
    r.chunks = chunks;
    r.predictions = a.n;
    r.meanNll = a.mean();
    r.nllStderr = a.stderrOfMean();
    r.ppl = std::exp(r.meanNll);
    r.pplStderr = r.ppl * r.nllStderr;
    return r;
}

double quantileInPlace(std::vector<double>& v, double q)
{
    if (v.empty())
        return 0.0;
    const size_t at = std::min(v.size() - 1, size_t(double(v.size() - 1) * q + 0.5));
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(at), v.end());
    return v[at];
}

double logSumExp(std::span<const float> logits)
{
    float mx = logits[0];
    for (float v : logits)
        mx = std::max(mx, v);
    double sum = 0.0;
    for (float v : logits)
        sum += double(std::exp(v - mx));
    return double(mx) + std::log(sum);
}

int perplexityFirstScored(const PerplexityOptions& o)
{
    return o.firstScored >= 0 ? o.firstScored : o.nCtx / 2;
}

void validatePerplexityInput(const InferenceContext& ctx, std::span<const int32_t> tokens,
                             const PerplexityOptions& o)
{
    if (o.nCtx < 2)
        throw InvalidArgument("perplexity window must be at least 2 tokens, got " +
                              std::to_string(o.nCtx));
    if (perplexityFirstScored(o) > o.nCtx - 2)
        throw InvalidArgument("first scored position " + std::to_string(perplexityFirstScored(o)) +
                              " leaves nothing to score in a window of " + std::to_string(o.nCtx));
    if (ctx.contextSize() < o.nCtx)
        throw InvalidArgument("perplexity window of " + std::to_string(o.nCtx) +
                              " tokens does not fit the context of " +
                              std::to_string(ctx.contextSize()));
    if (perplexityChunks(int64_t(tokens.size()), o) == 0)
        throw InvalidArgument("the text has " + std::to_string(tokens.size()) +
                              " tokens; perplexity needs at least one window of " +
                              std::to_string(o.nCtx));
}

// Evaluates window c and returns the logits of rows firstScored..nCtx-2 (plus the unused last row).
void runPerplexityWindow(InferenceContext& ctx, std::span<const int32_t> tokens, int c,
                         const PerplexityOptions& o, std::vector<int32_t>& window,
                         std::vector<float>& logits)
{
    window.assign(tokens.begin() + std::ptrdiff_t(size_t(c) * size_t(o.nCtx)),
                  tokens.begin() + std::ptrdiff_t(size_t(c + 1) * size_t(o.nCtx)));
    // A vocabulary without BOS (bos < 0) keeps the window's own first token.
    if (o.bos >= 0)
        window[0] = o.bos;
    ctx.truncate(0);
    ctx.decodeRows(window, perplexityFirstScored(o), logits, o.cancel);
}

double negativeLogLikelihood(std::span<const float> logits, int32_t target)
{
    return logSumExp(logits) - double(logits[size_t(target)]);
}

int perplexityChunks(int64_t nTokens, const PerplexityOptions& o)
{
    int64_t n = o.nCtx > 0 ? nTokens / o.nCtx : 0;
    if (o.maxChunks > 0)
        n = std::min<int64_t>(n, o.maxChunks);
    return int(n);
}

PerplexityResult perplexity(InferenceContext& ctx, std::span<const int32_t> tokens,
                            const PerplexityOptions& o)
{
    validatePerplexityInput(ctx, tokens, o);
    const int chunks = perplexityChunks(int64_t(tokens.size()), o);
    const int first = perplexityFirstScored(o);
    MeanAccumulator acc;
    std::vector<int32_t> window;
    std::vector<float> logits;
    for (int c = 0; c < chunks; ++c) {
        if (o.cancel && o.cancel->load())
            throw Cancelled();
        runPerplexityWindow(ctx, tokens, c, o, window, logits);
        const size_t vocab = logits.size() / size_t(o.nCtx - first);
        for (int j = first; j < o.nCtx - 1; ++j) {
            const std::span<const float> row(logits.data() + size_t(j - first) * vocab, vocab);
            acc.add(negativeLogLikelihood(row, window[size_t(j + 1)]));
        }
        if (o.progress)
            o.progress(c + 1, chunks);
    }
    return perplexityFromNll(acc, chunks);
}

KlDivergenceResult klDivergence(InferenceContext& base, InferenceContext& test,
                                std::span<const int32_t> tokens, const PerplexityOptions& o)
{
    validatePerplexityInput(base, tokens, o);
    validatePerplexityInput(test, tokens, o);
    const int chunks = perplexityChunks(int64_t(tokens.size()), o);
    const int first = perplexityFirstScored(o);
    MeanAccumulator nllBase, nllTest, kld;
    std::vector<double> klds;
    int64_t sameTop = 0;
    std::vector<int32_t> window;
    std::vector<float> lb, lt;
    for (int c = 0; c < chunks; ++c) {
        if (o.cancel && o.cancel->load())
            throw Cancelled();
        runPerplexityWindow(base, tokens, c, o, window, lb);
        runPerplexityWindow(test, tokens, c, o, window, lt);
        const size_t vocab = lb.size() / size_t(o.nCtx - first);
        if (lt.size() != lb.size())
            throw InvalidArgument("the two models have different vocabulary sizes");
        for (int j = first; j < o.nCtx - 1; ++j) {
            const std::span<const float> rb(lb.data() + size_t(j - first) * vocab, vocab);
            const std::span<const float> rt(lt.data() + size_t(j - first) * vocab, vocab);
            const double lseB = logSumExp(rb), lseT = logSumExp(rt);
            const int32_t target = window[size_t(j + 1)];
            nllBase.add(lseB - double(rb[size_t(target)]));
            nllTest.add(lseT - double(rt[size_t(target)]));
            // KL(P_base || P_test) = sum p_b (log p_b - log p_t)
            double kl = 0.0;
            size_t topB = 0, topT = 0;
            for (size_t i = 0; i < vocab; ++i) {
                const double logPb = double(rb[i]) - lseB;
                const double logPt = double(rt[i]) - lseT;
                kl += std::exp(logPb) * (logPb - logPt);
                if (rb[i] > rb[topB])
                    topB = i;
                if (rt[i] > rt[topT])
                    topT = i;
            }
            kl = std::max(0.0, kl);
            kld.add(kl);
            klds.push_back(kl);
            sameTop += topB == topT;
        }
        if (o.progress)
            o.progress(c + 1, chunks);
    }
    KlDivergenceResult r;
    r.base = perplexityFromNll(nllBase, chunks);
    r.test = perplexityFromNll(nllTest, chunks);
    r.meanKld = kld.mean();
    r.kldStderr = kld.stderrOfMean();
    r.kld99 = quantileInPlace(klds, 0.99);
    r.sameTopPct = kld.n ? 100.0 * double(sameTop) / double(kld.n) : 0.0;
    return r;
}

} // namespace tenfold
