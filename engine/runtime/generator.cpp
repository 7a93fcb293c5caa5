#include "runtime/generator.h"

#include "core/error.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace tenfold {
namespace {

constexpr int kPromptBatch = 512;

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Holds back text that might be the start of a stop string, so a stop string never reaches the
// caller, not even in part.
class StopFilter {
public:
    explicit StopFilter(const std::vector<std::string>& stops) : stops_(stops) {}

    // Appends text; returns what is safe to emit. Sets `stopped` when a stop string completed
    // (the text before it is emitted, the stop string and anything after it are dropped).
    std::string push(std::string_view text, bool& stopped)
    {
        pending_ += text;
        for (const auto& s : stops_) {
            if (s.empty())
                continue;
            if (auto at = pending_.find(s); at != std::string::npos) {
                stopped = true;
                std::string out = pending_.substr(0, at);
                pending_.clear();
                return out;
            }
        }
        // Keep the longest suffix that is a prefix of some stop string.
        size_t hold = 0;
        for (const auto& s : stops_)
            for (size_t len = s.empty() ? 0 : std::min(s.size() - 1, pending_.size()); len > hold; --len)
                if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
                    hold = len;
                    break;
                }
        std::string out = pending_.substr(0, pending_.size() - hold);
        pending_.erase(0, pending_.size() - hold);
        return out;
    }
    std::string flush() { return std::exchange(pending_, {}); }

private:
    const std::vector<std::string>& stops_;
    std::string pending_;
};

} // namespace

const char* stopReasonName(StopReason r)
{
    switch (r) {
    case StopReason::EndOfGeneration: return "end of generation";
    case StopReason::MaxTokens: return "max tokens";
    case StopReason::StopString: return "stop string";
    case StopReason::ContextFull: return "context full";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::Callback: return "stopped by caller";
    }
    return "unknown";
}

double GenerationStats::promptTokensPerSecond() const
{
    return promptMs > 0 ? promptTokens / (promptMs / 1000.0) : 0.0;
}

double GenerationStats::generatedTokensPerSecond() const
{
    // The first token's time is in TTFT; the rate covers the tokens decoded after it.
    return generateMs > 0 && generatedTokens > 1 ? (generatedTokens - 1) / (generateMs / 1000.0)
                                                  : 0.0;
}

GenerationStats generate(InferenceContext& ctx, const Model& model, std::span<const int32_t> prompt,
                         const GenerateOptions& options, const TokenCallback& onToken)
{
    const auto start = Clock::now();
    GenerationStats stats;
    const int n = int(prompt.size());
    if (ctx.position() + n > ctx.contextSize())
        throw InvalidArgument("the prompt of " + std::to_string(n) + " tokens" +
                              (ctx.position() > 0 ? " after " + std::to_string(ctx.position()) +
                                                        " cached tokens"
                                                  : std::string()) +
                              " does not fit the context of " +
                              std::to_string(ctx.contextSize()) + " tokens");
    if (n == 0)
        throw InvalidArgument("generate needs at least one prompt token");
    auto cancelled = [&] { return options.cancel && options.cancel->load(); };

    std::vector<float> logits;
    std::vector<int32_t> history(prompt.begin(), prompt.end());
    try {
        for (int i = 0; i < n; i += kPromptBatch) {
            const int len = std::min(kPromptBatch, n - i);
            ctx.decode(prompt.subspan(size_t(i), size_t(len)), false, logits, options.cancel);
        }
    } catch (const Cancelled&) {
        stats.promptTokens = n;
        stats.promptMs = msSince(start);
        stats.stopReason = StopReason::Cancelled;
        return stats;
    }
    stats.promptTokens = n;
    stats.promptMs = msSince(start);

    const Tokenizer& tok = model.tokenizer();
    Sampler sampler(options.sampling);
    StreamingDecoder text(tok);
    StopFilter stops(options.stopStrings);
    const int vocab = model.hparams().nVocab;
    // token_embd may have padding rows beyond the tokenizer's vocabulary; a sampled padding id
    // has no text, so only the ids the tokenizer knows are candidates.
    const int samplable = std::min(vocab, tok.vocabSize());
    Clock::time_point firstTokenAt{};
    auto finish = [&](StopReason why) {
        stats.stopReason = why;
        if (why != StopReason::StopString && why != StopReason::Callback) {
            std::string rest = text.flush();
            bool ignored = false;
            rest = stops.push(rest, ignored);
            rest += stops.flush();
            if (!rest.empty() && onToken)
                onToken(-1, rest);
        }
        if (stats.generatedTokens > 0)
            stats.generateMs = std::chrono::duration<double, std::milli>(Clock::now() - firstTokenAt).count();
        return stats;
    };

    for (;;) {
        if (cancelled())
            return finish(StopReason::Cancelled);
        if (stats.generatedTokens >= options.maxTokens)
            return finish(StopReason::MaxTokens);
        const std::span<const float> row(logits.data() + logits.size() - size_t(vocab),
                                         size_t(samplable));
        const int32_t token = sampler.sample(row, history);
        if (options.stopAtEndOfGeneration && tok.isEndOfGeneration(token))
            return finish(StopReason::EndOfGeneration);
        history.push_back(token);
        ++stats.generatedTokens;
        bool hitStop = false;
        const std::string piece = stops.push(text.push(token), hitStop);
        if (stats.generatedTokens == 1) {
            firstTokenAt = Clock::now();
            stats.timeToFirstTokenMs = msSince(start);
        }
        if (onToken && !onToken(token, piece))
            return finish(StopReason::Callback);
        if (hitStop)
            return finish(StopReason::StopString);
        if (stats.generatedTokens >= options.maxTokens)
            return finish(StopReason::MaxTokens);
        if (ctx.position() >= ctx.contextSize())
            return finish(StopReason::ContextFull);
        try {
            const int32_t one[1] = {token};
            ctx.decode(one, false, logits, options.cancel);
        } catch (const Cancelled&) {
            return finish(StopReason::Cancelled);
        }
    }
}

} // namespace tenfold
