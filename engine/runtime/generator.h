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

struct GenerateOptions {
    int maxTokens = 256;
    SamplingParams sampling;
    bool stopAtEndOfGeneration = true;   // stop on EOS/EOT
    std::vector<std::string> stopStrings;
    const std::atomic<bool>* cancel = nullptr; // checked between tokens and between ops
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
// the context, naming both lengths.
GenerationStats generate(InferenceContext& ctx, const Model& model, std::span<const int32_t> prompt,
                         const GenerateOptions& options, const TokenCallback& onToken);

} // namespace tenfold
