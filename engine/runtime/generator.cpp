#include "runtime/generator.h"
#include "runtime/stop_filter.h"

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

namespace {

// One call of generate(): the state shared by the plain and the speculative loops.
class GenerationRun {
public:
    GenerationRun(InferenceContext& ctx, const Model& model, const GenerateOptions& options,
                  const TokenCallback& onToken, std::span<const int32_t> prompt, Clock::time_point start)
        : ctx_(ctx), options_(options), onToken_(onToken), tok_(model.tokenizer()), sampler_(options.sampling),
          text_(tok_), stops_(options.stopStrings), history_(prompt.begin(), prompt.end()),
          vocab_(model.hparams().nVocab),
          // token_embd may have padding rows beyond the tokenizer's vocabulary; a sampled
          // padding id has no text, so only the ids the tokenizer knows are candidates.
          samplable_(std::min(vocab_, tok_.vocabSize())), cachedBefore_(ctx.position()), start_(start)
    {
    }

    GenerationStats stats;
    std::vector<float> logits; // the target's next-token logits after history_ (last row)

    GenerationStats plainLoop();
    // draft null: self-speculative with the first exitLayer layers of the model.
    GenerationStats speculativeLoop(InferenceContext* draft, int exitLayer, int maxDraft);

private:
    enum class After { Continue, StopBeforeToken, StopAfterToken };

    bool cancelled() const { return options_.cancel && options_.cancel->load(); }
    // The samplable part of the row of logits that ends at rowEnd.
    std::span<const float> row(const float* rowEnd) const
    {
        return std::span<const float>(rowEnd - vocab_, size_t(samplable_));
    }
    // The target's choice from the row of logits that ends at rowEnd.
    int32_t choose(const float* rowEnd) { return sampler_.sample(row(rowEnd), history_); }
    // Hands one chosen token to the caller. An end-of-generation token is not emitted (the cache
    // then holds every emitted token); after any other stop the last emitted token has not been
    // decoded, as in plain decoding.
    After emit(int32_t token);
    GenerationStats finish(StopReason why);

    InferenceContext& ctx_;
    const GenerateOptions& options_;
    const TokenCallback& onToken_;
    const Tokenizer& tok_;
    Sampler sampler_;
    StreamingDecoder text_;
    StopFilter stops_;
    std::vector<int32_t> history_;
    const int vocab_, samplable_;
    const int cachedBefore_; // tokens in the cache before the prompt (a continued conversation)
    const Clock::time_point start_;
    Clock::time_point firstTokenAt_{};
    StopReason why_ = StopReason::MaxTokens;
};

GenerationRun::After GenerationRun::emit(int32_t token)
{
    if (options_.stopAtEndOfGeneration && tok_.isEndOfGeneration(token)) {
        why_ = StopReason::EndOfGeneration;
        return After::StopBeforeToken;
    }
    history_.push_back(token);
    ++stats.generatedTokens;
    bool hitStop = false;
    const std::string piece = stops_.push(text_.push(token), hitStop);
    if (stats.generatedTokens == 1) {
        firstTokenAt_ = Clock::now();
        stats.timeToFirstTokenMs = msSince(start_);
    }
    if (onToken_ && !onToken_(token, piece))
        why_ = StopReason::Callback;
    else if (hitStop)
        why_ = StopReason::StopString;
    else if (stats.generatedTokens >= options_.maxTokens)
        why_ = StopReason::MaxTokens;
    else if (cachedBefore_ + int(history_.size()) - 1 >= ctx_.contextSize())
        why_ = StopReason::ContextFull; // no room to decode this token (counted, not read from the
                                        // cache, which holds a speculative round's proposals too)
    else
        return After::Continue;
    return After::StopAfterToken;
}

GenerationStats GenerationRun::finish(StopReason why)
{
    stats.stopReason = why;
    if (why != StopReason::StopString && why != StopReason::Callback) {
        std::string rest = text_.flush();
        bool ignored = false;
        rest = stops_.push(rest, ignored);
        rest += stops_.flush();
        if (!rest.empty() && onToken_)
            onToken_(-1, rest);
    }
    if (stats.generatedTokens > 0)
        stats.generateMs = std::chrono::duration<double, std::milli>(Clock::now() - firstTokenAt_).count();
    return stats;
}

GenerationStats GenerationRun::plainLoop()
{
    for (;;) {
        if (cancelled())
            return finish(StopReason::Cancelled);
        if (stats.generatedTokens >= options_.maxTokens)
            return finish(StopReason::MaxTokens);
        const int32_t token = choose(logits.data() + logits.size());
        if (emit(token) != After::Continue)
            return finish(why_);
        try {
            if (options_.earlyExit.threshold > 0) {
                stats.layersRun += ctx_.decodeEarlyExit(token, options_.earlyExit.exits,
                                                        options_.earlyExit.threshold, logits);
                ++stats.earlyExitPasses;
            } else {
                const int32_t one[1] = {token};
                ctx_.decode(one, false, logits, options_.cancel);
            }
            ++stats.targetPasses;
        } catch (const Cancelled&) {
            return finish(StopReason::Cancelled);
        }
    }
}

// Each round: t0 = the target's token (drawn from its current logits, or the correction left by
// the previous round); the draft, caught up on every emitted token, proposes d1..dk from its own
// sampling distribution q; the target decodes [t0, d1..dk] in one pass, which gives its
// distribution p after each of them. Greedy: d(i) is kept while it is the target's own choice.
// Sampling: d(i) is kept with probability min(1, p(d)/q(d)); at the first rejection the target
// draws from the residual max(0, p - q) (normalized), and that token starts the next round. This
// is the standard rule (Leviathan et al. 2023; Chen et al. 2023): every emitted token is
// distributed exactly as the target's own sampling, so the output distribution is unchanged.
// The target's cache is cut back to t0 and the kept tokens; its logits become the row after the
// last kept token.
GenerationStats GenerationRun::speculativeLoop(InferenceContext* draft, int exitLayer, int maxDraft)
{
    std::vector<float> draftLogits, rows;
    std::vector<int32_t> batch, draftHistory;
    std::vector<TokenDistribution> q; // the draft's distribution for each proposal
    SamplingParams draftParams = options_.sampling;
    draftParams.seed = options_.sampling.seed ^ 0x9e3779b97f4a7c15ull; // its own stream of draws
    Sampler draftSampler(draftParams);
    const bool greedy = options_.sampling.temperature <= 0;
    int draftPos = 0;          // history_ tokens already in the draft's cache
    int32_t correction = -1;   // a token drawn from the residual, to start the next round
    int k = std::min(4, maxDraft);
    try {
        for (;;) {
            if (cancelled())
                return finish(StopReason::Cancelled);
            if (stats.generatedTokens >= options_.maxTokens)
                return finish(StopReason::MaxTokens);
            const int base = ctx_.position();
            const int32_t t0 = correction >= 0 ? correction : choose(logits.data() + logits.size());
            correction = -1;
            if (emit(t0) != After::Continue)
                return finish(why_);
            // Room for the proposals: the context, and the tokens still wanted after t0.
            const int room = std::min(ctx_.contextSize() - base - 1, options_.maxTokens - stats.generatedTokens);
            const int propose = std::max(0, std::min(k, room));
            batch.assign(1, t0);
            q.clear();
            // One proposal from the draft's latest logits, with the distribution it came from.
            const auto addProposal = [&] {
                q.push_back(draftSampler.distribution(row(draftLogits.data() + draftLogits.size()), draftHistory));
                batch.push_back(greedy ? q.back().ids[0] : draftSampler.draw(q.back()));
                draftHistory.push_back(batch.back());
            };
            draftHistory = history_;
            if (propose > 0 && !draft) {
                // Self-draft: t0 and each proposal through the first layers, at the positions
                // they will take; the verification pass below rewrites those cache rows.
                for (int i = 0; i < propose; ++i) {
                    ctx_.decodeExit(std::span<const int32_t>(&batch.back(), 1), base + i, exitLayer, draftLogits);
                    addProposal();
                }
            } else if (propose > 0) {
                // Catch the draft up (the tokens kept since its last pass, and t0), then draft.
                draft->decode(std::span<const int32_t>(history_.data() + draftPos, history_.size() - size_t(draftPos)),
                              false, draftLogits, options_.cancel);
                if (draftLogits.size() != size_t(vocab_))
                    throw InvalidArgument("the draft model has " + std::to_string(draftLogits.size()) +
                                          " tokens in its vocabulary, the model " + std::to_string(vocab_));
                for (int i = 0; i < propose; ++i) {
                    addProposal();
                    if (i + 1 < propose)
                        draft->decode(std::span<const int32_t>(&batch.back(), 1), false, draftLogits, options_.cancel);
                }
            }
            stats.draftedTokens += propose;
            ctx_.decode(batch, true, rows, options_.cancel);
            ++stats.targetPasses;
            int kept = 0; // proposals emitted (and so in the target's cache)
            After after = After::Continue;
            for (int i = 1; i <= propose; ++i) {
                const float* rowEnd = rows.data() + size_t(i) * size_t(vocab_);
                const int32_t d = batch[size_t(i)];
                bool accept = false;
                if (greedy) {
                    accept = choose(rowEnd) == d;
                } else {
                    const TokenDistribution p = sampler_.distribution(row(rowEnd), history_);
                    const double pd = p.probability(d), qd = q[size_t(i - 1)].probability(d);
                    accept = qd > 0 && sampler_.uniform() < std::min(1.0, pd / qd);
                    if (!accept)
                        correction = sampler_.draw(residualDistribution(p, q[size_t(i - 1)]));
                }
                if (!accept)
                    break;
                ++stats.acceptedDraftTokens;
                after = emit(d);
                if (after == After::StopBeforeToken)
                    break;
                ++kept;
                if (after != After::Continue)
                    break;
            }
            // The draft has t0 and d1..d(propose-1) in its cache: cut it back to what was kept.
            if (draft) {
                const int inDraft = base + 1 + std::min(kept, std::max(0, propose - 1));
                if (propose > 0)
                    draft->truncate(std::min(draft->position(), inDraft));
                draftPos = draft->position();
            }
            if (after != After::Continue) {
                // As in plain decoding: every emitted token is in the cache before an end of
                // generation, all but the last one after another stop.
                ctx_.truncate(base + 1 + kept - (after == After::StopAfterToken ? 1 : 0));
                return finish(why_);
            }
            ctx_.truncate(base + 1 + kept);
            logits.assign(rows.begin() + ptrdiff_t(size_t(kept) * size_t(vocab_)),
                          rows.begin() + ptrdiff_t(size_t(kept + 1) * size_t(vocab_)));
            // Draft length: longer after a round that kept everything, just past the kept run
            // otherwise.
            k = kept == propose ? std::min(maxDraft, k + 1) : std::max(1, kept + 1);
        }
    } catch (const Cancelled&) {
        return finish(StopReason::Cancelled);
    }
}

} // namespace

GenerationStats generate(InferenceContext& ctx, const Model& model, std::span<const int32_t> prompt,
                         const GenerateOptions& options, const TokenCallback& onToken)
{
    const auto start = Clock::now();
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
    InferenceContext* draft = options.draft.ctx;
    const bool self = !draft && options.draft.selfExitLayer > 0;
    if ((draft || self) && options.draft.maxDraft < 1)
        throw InvalidArgument("the draft length must be at least 1, not " + std::to_string(options.draft.maxDraft));
    if (self && options.draft.selfExitLayer > model.hparams().nLayer)
        throw InvalidArgument("the exit layer " + std::to_string(options.draft.selfExitLayer) +
                              " is beyond the model's " + std::to_string(model.hparams().nLayer) + " layers");
    if (options.earlyExit.threshold > 0) {
        if (draft || self)
            throw InvalidArgument("early exit and speculative decoding cannot be combined");
        if (options.earlyExit.exits.empty())
            throw InvalidArgument("early exit needs at least one exit layer");
    }
    if (draft) {
        if (ctx.position() != 0)
            throw InvalidArgument("speculative decoding starts from an empty cache; the context "
                                  "holds " + std::to_string(ctx.position()) + " tokens");
        if (draft->contextSize() < ctx.contextSize())
            throw InvalidArgument("the draft model's context (" + std::to_string(draft->contextSize()) +
                                  " tokens) is smaller than the model's (" +
                                  std::to_string(ctx.contextSize()) + ")");
        draft->truncate(0);
    }

    GenerationRun run(ctx, model, options, onToken, prompt, start);
    try {
        for (int i = 0; i < n; i += kPromptBatch) {
            const int len = std::min(kPromptBatch, n - i);
            ctx.decode(prompt.subspan(size_t(i), size_t(len)), false, run.logits, options.cancel);
        }
    } catch (const Cancelled&) {
        run.stats.promptTokens = n;
        run.stats.promptMs = msSince(start);
        run.stats.stopReason = StopReason::Cancelled;
        return run.stats;
    }
    run.stats.promptTokens = n;
    run.stats.promptMs = msSince(start);
    if (draft || self)
        return run.speculativeLoop(draft, options.draft.selfExitLayer, options.draft.maxDraft);
    return run.plainLoop();
}

} // namespace tenfold
