#pragma once
// Prompt compression in the manner of LLMLingua (Jiang et al., 2023): a small model reads the
// prompt once, and the words it found easiest to predict (lowest surprisal, -log p of each token
// given the text before it) are dropped until the prompt fits a target share of its tokens.
// Sentences that ask or instruct (questions, "Summarize ...", "Answer ...") are kept whole, since
// dropping a word there changes what is asked rather than how much context comes with it.
// Words, not single tokens, are the unit: dropping half of a word leaves a token sequence no
// tokenizer would produce, which confuses the model more than losing the word.
//
// compareContinuations() measures what the compression changed in the answer: the greedy
// continuation of the original prompt is fed, token by token, after both prompts, and the KL
// divergence of the compressed prompt's next-token distributions from the original's is averaged
// over it (the same measure as quantization's KLD, with the prompt instead of the weights changed).
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenfold {

class InferenceContext;
class Tokenizer;

struct CompressionOptions {
    // Tokens the compressed prompt may keep, as a share of the original's, in (0, 1].
    double keepRatio = 0.5;
    // Keep question and instruction sentences whole (instructionSpans()).
    bool keepInstructions = true;
    // The last words of the prompt, up to this share of the token budget, are kept as they are:
    // the answer continues from them, as LLMLingua keeps the question (usually last) at a higher
    // ratio than the context before it. 0 turns it off.
    double tailShare = 0.25;
    // Nonzero: words are ranked by a random number from this seed instead of their surprisal,
    // the baseline that shows what the scoring model adds (same budget, same protected text).
    uint64_t randomBaselineSeed = 0;
};

struct ScoredToken {
    int32_t id = 0;
    float surprisal = 0;   // -ln p(token | text before it), nats
    bool kept = false;
    bool protectedSpan = false; // inside a question or instruction sentence, or the kept tail
};

struct CompressionResult {
    std::string text;                // the compressed prompt
    std::vector<ScoredToken> tokens; // the original prompt's tokens, in order (no BOS)
    int originalTokens = 0;
    int compressedTokens = 0;        // of `text`, tokenized again (no BOS)
    int tokenBudget = 0;             // what keepRatio allowed; protected text may exceed it
    double achievedRatio() const { return originalTokens ? double(compressedTokens) / originalTokens : 1.0; }
};

// Byte ranges [begin, end) of the sentences of `text` that ask (end in '?') or instruct (begin
// with an imperative such as "Summarize", "Answer", "Explain", "List", "Write", or with
// "Question:", "Instruction:", "Task:"). Sentences end at . ! ? (also the CJK forms) followed by
// white space, and at line breaks.
std::vector<std::pair<size_t, size_t>> instructionSpans(std::string_view text);

// Scores `text` with `scorer` (a model with the tokenizer `tok`; its context is reset) and drops
// the least surprising words. Throws InvalidArgument for a ratio outside (0, 1], an empty text or
// one longer than the scorer's context; Cancelled when *cancel becomes true.
CompressionResult compressPrompt(InferenceContext& scorer, const Tokenizer& tok, const std::string& text,
                                 const CompressionOptions& options, const std::atomic<bool>* cancel = nullptr);

struct ContinuationComparison {
    std::string originalContinuation;   // greedy, after the original prompt
    std::string compressedContinuation; // greedy, after the compressed prompt
    int positions = 0;                  // tokens of the original continuation scored
    double meanKld = 0;                 // mean KL(P_original || P_compressed), nats
    double maxKld = 0;
    double sameTopToken = 0;            // share of positions whose most likely token agrees
};

// Greedy continuation of up to `tokens` tokens (fewer if the model ends it) after each prompt,
// and the KL divergence along the original's continuation (see the header comment). `ctx` is the
// model that answers (its context is reset). Throws InvalidArgument when a prompt plus the
// continuation does not fit the context.
ContinuationComparison compareContinuations(InferenceContext& ctx, const Tokenizer& tok,
                                            const std::string& originalPrompt,
                                            const std::string& compressedPrompt, int tokens,
                                            const std::atomic<bool>* cancel = nullptr);

} // namespace tenfold
