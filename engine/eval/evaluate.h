#pragma once
// The evaluation harness: one report per model file against a base model file on a text, with
// the perplexity method of runtime/perplexity.h (windows of nCtx tokens, each starting with BOS
// from an empty cache, the predictions from positions nCtx/2 .. nCtx-2 scored).
//
// The base model's distributions at the scored positions come from eval/base_logits.h: computed
// once and, with a cache folder, kept on disk under a key of the base weights, the tokens and the
// window layout, so that comparing ten variants costs ten forward passes plus one for the base.
// By default the whole distribution is kept (float for vocabularies up to 1024, where the KL
// divergence is klDivergence()'s to the last bit; 16-bit codes above that, within ~1e-8 nats
// per position), so the figures compare with the reference engine's. topK > 0 keeps only the
// base's top K tokens plus the rest as one outcome: a far smaller cache, but a lower bound that
// is 23% below the exact KLD for ref-main's Q4_0 at K = 64 (its distributions are broad).
#include "runtime/perplexity.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

class Backend;
class Model;

struct EvalOptions {
    int nCtx = 512;               // window length
    int maxChunks = 0;            // 0: every full window of the text
    int nThreads = 0;             // CPU threads when no backend is given; 0: one per core
    int topK = 0;                 // > 0: keep only the base's top K per position (a lower bound)
    int decodeTokens = 64;        // greedy decode steps timed for decode speed; 0: skip
    std::filesystem::path cacheDir; // where base distributions are kept; empty: not on disk
    Backend* backend = nullptr;   // null: a CPU backend of nThreads (the caller keeps ownership)
    // Called after every window of either model: done and total windows (total counts the
    // base's windows only when they are not cached).
    std::function<void(int done, int total)> progress;
    const std::atomic<bool>* cancel = nullptr; // Cancelled is thrown between windows/ops
};

struct EvalReport {
    std::string modelPath, basePath;
    uint64_t modelFingerprint = 0, baseFingerprint = 0;
    std::string backend;          // "CPU (AVX2+FMA+F16C, 2 threads)", ...

    int nCtx = 0;
    int chunks = 0;
    int64_t predictions = 0;
    PerplexityResult test;        // the evaluated model
    PerplexityResult base;

    // KL(base || model) per scored position.
    double meanKld = 0, kldStderr = 0, kldMedian = 0, kld99 = 0;
    double sameTopPct = 0;        // % of positions whose argmax agrees
    bool kldExact = false;        // whole distributions kept (else the top-K lower bound)
    std::string baseFormat;       // "full32", "full16" or "top-k" (eval/base_logits.h)
    int topK = 0;                 // base entries per position in the top-K form, else 0

    uint64_t fileBytes = 0;       // the model file's size
    uint64_t parameters = 0;      // elements of every tensor in the file
    uint64_t tensorBytes = 0;     // bytes of tensor data
    double bitsPerWeight = 0;     // tensorBytes * 8 / parameters, as `tenfold-cli inspect` counts

    double prefillTokensPerSecond = 0; // the model's windows: nCtx tokens per forward pass
    int decodeTokens = 0;
    double decodeTokensPerSecond = 0;  // greedy, one token per forward pass

    bool baseFromCache = false;   // base distributions read from cacheFile
    int baseWindowsRun = 0;       // base forward passes this evaluation ran (0 when cached)
    std::string cacheFile;        // empty without a cache folder
    uint64_t cacheBytes = 0;      // size of the base distributions (on disk when cached)
    std::string cacheNote;        // why the cache was not read or could not be written

    double baseSeconds = 0;       // running the base (0 when cached)
    double modelSeconds = 0;      // the model's windows
    double seconds = 0;           // the whole evaluation
};

// Loads both files (IoError/FormatError naming the path) and evaluates. Throws InvalidArgument
// for different vocabularies or a text without one full window (the message says how many
// tokens are needed), Cancelled when options.cancel is set.
EvalReport evaluateModel(const std::filesystem::path& model, const std::filesystem::path& base,
                         std::span<const int32_t> tokens, const EvalOptions& options);
// The same for models already loaded; the paths in the report are the models' file labels.
EvalReport evaluateModel(std::shared_ptr<const Model> model, std::shared_ptr<const Model> base,
                         std::span<const int32_t> tokens, const EvalOptions& options);

// The text as the method tokenizes it: once, with a leading BOS when the vocabulary adds one.
std::vector<int32_t> evaluationTokens(const Model& base, std::string_view text);
// The token each window starts with: BOS when the vocabulary adds one, else -1 (kept).
int32_t evaluationBos(const Model& base);

// The report as one JSON object (what `tenfold-cli evaluate --json` prints and the store keeps).
std::string evalReportJson(const EvalReport& report);

} // namespace tenfold
