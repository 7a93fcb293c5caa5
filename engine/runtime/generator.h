#pragma once
// The generation loop shared by the CLI, the desktop session and (later) the server: evaluate the
// prompt, then sample and stream tokens until a stop condition.
#include "runtime/sampling.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

class InferenceContext;
class Model;

// Speculative decoding with a draft model that shares the target's vocabulary: each round the
// draft proposes up to maxDraft tokens, the target checks them all in one forward pass, and both
// caches roll back past the first rejected one. Greedy: a proposal is kept when it is the target's
// own choice, so the output is exactly the target's greedy output. Sampling: the standard
// rejection rule (keep with probability min(1, p/q), else draw from the residual) keeps the
// output distributed exactly as the target's own sampling. Only the number of target passes
// changes. The draft length adapts: it grows after a fully accepted round and shrinks to just
// past the last accepted token otherwise.
// Self-speculative decoding needs no second model: with selfExitLayer = k > 0 (and no ctx) the
// model's own first k layers, followed by its final norm and output head, propose the tokens
// (InferenceContext::decodeExit, sharing the model's cache); the full model verifies them as
// above, so the output is the same.
struct SpeculativeDraft {
    InferenceContext* ctx = nullptr; // the draft model's context, holding no other sequence
    int selfExitLayer = 0;           // > 0 without ctx: draft with the model's first layers
    int maxDraft = 8;                // at most this many tokens proposed per round (>= 1)
};

// Early exit (lossy, opt-in): each token stops at the first of `exits` whose head's top
// probability reaches `threshold` (InferenceContext::decodeEarlyExit). threshold <= 0: off.
struct EarlyExit {
    float threshold = 0.0f;
    std::vector<int> exits; // ascending layers
};

struct GenerateOptions {
    int maxTokens = 256;
    SamplingParams sampling;
    bool stopAtEndOfGeneration = true;   // stop on EOS/EOT
    std::vector<std::string> stopStrings;
    const std::atomic<bool>* cancel = nullptr; // checked between tokens and between ops
    SpeculativeDraft draft;              // ctx null: plain decoding
    EarlyExit earlyExit;                 // not with a draft
};

enum class StopReason { EndOfGeneration, MaxTokens, StopString, ContextFull, Cancelled, Callback };
const char* stopReasonName(StopReason r);

struct GenerationStats {
    int promptTokens = 0;          // tokens evaluated for the prompt (after any cache reuse)
    int generatedTokens = 0;
    double timeToFirstTokenMs = 0; // from call to the first generated token's text
    double promptMs = 0;           // prompt evaluation time
    double generateMs = 0;         // time spent generating after the first token
    StopReason stopReason = StopReason::MaxTokens;
    // Speculative decoding: tokens the draft proposed, how many of them the target kept, and the
    // target's forward passes after the prompt.
    int draftedTokens = 0;
    int acceptedDraftTokens = 0;
    int targetPasses = 0;
    // Early exit: the layers run for the generated tokens' passes (average = layersRun / passes).
    int64_t layersRun = 0;
    int earlyExitPasses = 0;
    double acceptanceRate() const { return draftedTokens > 0 ? double(acceptedDraftTokens) / draftedTokens : 0.0; }
    double promptTokensPerSecond() const;
    double generatedTokensPerSecond() const;
};

// Called with each new token and the text it completes (may be empty mid-UTF-8 character, or
// while the text could be the start of a stop string). Return false to stop. Text held back when
// generation ends (an incomplete character, a partial stop string that never completed) arrives
// in one last call with token -1.
using TokenCallback = std::function<bool(int32_t token, std::string_view text)>;

// Evaluates `prompt` (tokens after ctx.position() are appended to the cache; a caller that wants
// a fresh start truncates first) and generates. Throws InvalidArgument if the prompt does not fit
// the context, naming both lengths, or if a draft is given with a different vocabulary size, a
// smaller context or a non-empty target cache. The draft context is truncated to empty first.
GenerationStats generate(InferenceContext& ctx, const Model& model, std::span<const int32_t> prompt,
                         const GenerateOptions& options, const TokenCallback& onToken);

} // namespace tenfold
