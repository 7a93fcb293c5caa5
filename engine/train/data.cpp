#include "train/data.h"

#include "core/error.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace tenfold::train {

namespace {

uint64_t splitmix64(uint64_t& s)
{
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t validTokens(int64_t total, int ctx, double validFraction)
{
    if (validFraction <= 0)
        return 0;
    // at least one whole validation window
    return std::max<int64_t>(int64_t(ctx) + 1, int64_t(std::floor(double(total) * validFraction)));
}

} // namespace

int64_t TokenDataset::tokensNeeded(int ctx, double validFraction)
{
    return int64_t(ctx) + 1 + (validFraction > 0 ? int64_t(ctx) + 1 : 0);
}

TokenDataset::TokenDataset(std::vector<int32_t> tokens, int ctx, double validFraction, int32_t bos)
    : tokens_(std::move(tokens)), ctx_(ctx), bos_(bos)
{
    if (ctx < 2)
        throw InvalidArgument("training windows need a context of at least 2 tokens, not " +
                              std::to_string(ctx));
    if (!(validFraction >= 0 && validFraction <= 0.5))
        throw InvalidArgument("the validation fraction must lie in [0, 0.5], not " +
                              std::to_string(validFraction));
    const int64_t n = int64_t(tokens_.size());
    const int64_t need = tokensNeeded(ctx, validFraction);
    const int64_t nValidTokens = validTokens(n, ctx, validFraction);
    if (n < need || n - nValidTokens < int64_t(ctx) + 1)
        throw InvalidArgument("the training text has " + std::to_string(n) +
                              " tokens, too short for windows of " + std::to_string(ctx) +
                              " tokens: it needs at least " + std::to_string(need) +
                              (validFraction > 0 ? " (one training and one validation window of "
                                                 : " (one window of ") +
                              std::to_string(ctx + 1) + " tokens" +
                              (validFraction > 0 ? " each)" : ")") +
                              "; use a longer text or a smaller --ctx");
    trainEnd_ = n - nValidTokens;
    nValid_ = int(nValidTokens / (int64_t(ctx) + 1));
}

TokenDataset TokenDataset::fromText(const Tokenizer& tokenizer, std::string_view text, int ctx,
                                    double validFraction, std::string_view label)
{
    std::vector<int32_t> tokens = tokenizer.encode(text, true);
    const int32_t bos = tokenizer.addBos() ? tokenizer.bos() : -1;
    try {
        return TokenDataset(std::move(tokens), ctx, validFraction, bos);
    } catch (const InvalidArgument& e) {
        throw InvalidArgument(std::string(label) + ": " + e.what());
    }
}

void TokenDataset::sampleTrain(uint64_t& rng, int32_t* out) const
{
    const uint64_t starts = uint64_t(trainEnd_ - ctx_); // windows [s, s + ctx] inside [0, trainEnd_)
    const int64_t s = int64_t(splitmix64(rng) % starts);
    std::copy(tokens_.begin() + s, tokens_.begin() + s + ctx_ + 1, out);
    if (bos_ >= 0)
        out[0] = bos_;
}

void TokenDataset::validWindow(int i, int32_t* out) const
{
    if (i < 0 || i >= nValid_)
        throw InvalidArgument("validation window " + std::to_string(i) + " of " +
                              std::to_string(nValid_));
    const int64_t s = trainEnd_ + int64_t(i) * (ctx_ + 1);
    std::copy(tokens_.begin() + s, tokens_.begin() + s + ctx_ + 1, out);
    if (bos_ >= 0)
        out[0] = bos_;
}

} // namespace tenfold::train
