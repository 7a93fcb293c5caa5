#pragma once
// Training text for the training engine: a token stream cut into windows of ctx+1 tokens (ctx
// inputs, each predicting the next). The last `validFraction` of the stream is held out: training
// windows start anywhere in the first part (seeded, with replacement), validation windows are
// the consecutive non-overlapping windows of the held-out part, the same every time. The first
// token of every window becomes BOS (when the model has one), as the perplexity method does, so
// the validation loss and `tenfold-cli perplexity` look at text the same way.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace tenfold {
class Tokenizer;
}

namespace tenfold::train {

class TokenDataset {
public:
    // Throws InvalidArgument when ctx < 2, validFraction outside [0, 0.5], or the stream is too
    // short: the message says how many tokens there are and how many are needed.
    TokenDataset(std::vector<int32_t> tokens, int ctx, double validFraction, int32_t bos);
    // Tokenizes text (with the model's BOS) first; `label` (a file name) goes into errors.
    static TokenDataset fromText(const Tokenizer& tokenizer, std::string_view text, int ctx,
                                 double validFraction, std::string_view label = "text");
    // Tokens a text needs for ctx and validFraction: one training window plus one validation
    // window when validFraction > 0.
    static int64_t tokensNeeded(int ctx, double validFraction);

    int ctx() const { return ctx_; }
    int64_t tokenCount() const { return int64_t(tokens_.size()); }
    int64_t trainTokens() const { return trainEnd_; }
    int validWindows() const { return nValid_; }

    // Fills out[ctx+1] with a training window whose start is drawn from `rng` (splitmix64
    // state, advanced), so a run is repeatable from the seed and resumable from the state.
    void sampleTrain(uint64_t& rng, int32_t* out) const;
    // Validation window i (0 <= i < validWindows()) into out[ctx+1].
    void validWindow(int i, int32_t* out) const;

private:
    std::vector<int32_t> tokens_;
    int ctx_;
    int32_t bos_;
    int64_t trainEnd_ = 0; // training windows lie in [0, trainEnd_)
    int nValid_ = 0;
};

} // namespace tenfold::train
