#pragma once
// The base model's next-token distributions at the scored positions of the perplexity method
// (runtime/perplexity.h), kept so that comparing many variants against one base runs the base
// once: in memory for one evaluation, on disk across evaluations.
//
// Per scored position: the log-sum-exp of the logits, the NLL of the actual next token and the
// argmax (all exact), and the distribution in one of three forms:
//  - Full32: every logit as the model produced it (float). For small vocabularies (<= 1024);
//    the KL divergence is then exactly klDivergence()'s, to the last bit.
//  - Full16: every logit as a 16-bit code on a per-position grid from (max - 64) to max, the
//    form the reference engine's --kl-divergence-base file uses. The KL divergence is computed
//    on the decoded distribution; rounding adds about step^2/24 (< 1e-8 nats) to each position,
//    far below any quantized model's KLD.
//  - TopK: the K largest logits with their token ids and the probability of all other tokens as
//    one outcome. Much smaller, but the KL divergence over K+1 outcomes is only a lower bound of
//    the exact value (log-sum inequality), and a loose one for a model whose distributions are
//    broad: for ref-main's Q4_0 against F16 it is 23% below at K = 64 and still 1.3% below at
//    K = 2048 (tests/engine/eval). Opt-in only, for vocabularies whose full rows are too big.
//
// File layout (little-endian): "TFBL", u32 version, the key (u64 base fingerprint, u64 token
// hash, i32 nCtx, firstScored, chunks, bos, nVocab, format, topK), u64 positions, u64 FNV-1a of
// all that; then the arrays lse, rest, nll (f64), argmax (i32), and by format: logits (f32) |
// lo, step (f32), codes (u16) | ids (i32), logits (f32); each array followed by its own u64
// FNV-1a. Written atomically (temp file + rename); a file from another key or version, short or
// damaged, is refused with a reason and the caller recomputes.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tenfold {

class InferenceContext;
struct PerplexityOptions;

enum class BaseLogitsFormat : int32_t { Full32 = 1, Full16 = 2, TopK = 3 };
const char* baseLogitsFormatName(BaseLogitsFormat format); // "full32", "full16", "top-k"

// Vocabularies up to this size keep every logit as float.
constexpr int32_t kFull32MaxVocab = 1024;

// What the stored distributions depend on: the base weights, the tokens, the window layout and
// the form they are kept in. Two evaluations with equal keys may share a file.
struct BaseLogitsKey {
    uint64_t baseFingerprint = 0; // Model::fingerprint() of the base
    uint64_t tokensHash = 0;      // FNV-1a of the chunks * nCtx tokens the windows cover
    int32_t nCtx = 0;
    int32_t firstScored = 0;
    int32_t chunks = 0;
    int32_t bos = -1;             // the token each window starts with (-1: kept)
    int32_t nVocab = 0;
    BaseLogitsFormat format = BaseLogitsFormat::Full32;
    int32_t topK = 0;             // entries per position for TopK, else 0
    bool operator==(const BaseLogitsKey&) const = default;
};

// The key for `tokens` under `options` (perplexityChunks windows of options.nCtx). topK > 0 asks
// for the TopK form where the vocabulary is larger than both kFull32MaxVocab and topK; otherwise
// the full distribution is kept (Full32 or Full16 by vocabulary size).
BaseLogitsKey makeBaseLogitsKey(uint64_t baseFingerprint, int32_t nVocab,
                                std::span<const int32_t> tokens, const PerplexityOptions& options,
                                int32_t topK = 0);

struct BaseLogits {
    BaseLogitsKey key;
    int64_t positions = 0;           // chunks * (nCtx - 1 - firstScored)
    std::vector<double> lse;         // log sum exp of the logits, per position
    std::vector<double> rest;        // TopK: probability of the tokens not kept; else 0
    std::vector<double> nll;         // -log p(actual next token)
    std::vector<int32_t> argmax;     // first index of the largest logit
    std::vector<float> logits;       // Full32: positions * nVocab; TopK: positions * topK
    std::vector<int32_t> ids;        // TopK: positions * topK token ids, largest first
    std::vector<float> lo, step;     // Full16: logit = lo + step * code, per position
    std::vector<uint16_t> codes;     // Full16: positions * nVocab

    bool exact() const { return key.format != BaseLogitsFormat::TopK; }
    uint64_t bytes() const;          // the size of its file
};

// Runs the base over the windows (progress(done, chunks) after each; options.cancel honoured)
// and keeps each scored position's distribution in the key's form.
BaseLogits computeBaseLogits(InferenceContext& base, std::span<const int32_t> tokens,
                             const PerplexityOptions& options, const BaseLogitsKey& key);

// <dir>/<16 hex digits of the key's hash>.tfbl
std::filesystem::path baseLogitsCacheFile(const std::filesystem::path& dir, const BaseLogitsKey& key);

// Writes atomically, creating the folder; throws IoError naming the file (no access, disk full),
// leaving no partial file behind.
void saveBaseLogits(const std::filesystem::path& file, const BaseLogits& logits);
// nullopt with *why set when the file is missing, from another key or version, short or damaged.
std::optional<BaseLogits> loadBaseLogits(const std::filesystem::path& file, const BaseLogitsKey& key,
                                         std::string* why = nullptr);

// Statistics of one test-model row against a stored base position.
struct PositionComparison {
    double kld = 0;        // KL(base || test), clamped at 0
    int32_t testArgmax = 0;
};
// row: the test model's logits at that position; lseTest = logSumExp(row). scratch is reused
// between calls to avoid allocating per position.
PositionComparison compareToBase(const BaseLogits& base, int64_t position,
                                 std::span<const float> row, double lseTest,
                                 std::vector<double>& scratch);

} // namespace tenfold
