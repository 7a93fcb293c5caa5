#pragma once
// Fitting early-exit adapters (tuned-lens style) for self-speculative decoding: for a layer k, the
// affine map h_L ~ W h_k + b from the hidden state after k layers to the one after all L layers,
// by ridge least squares over calibration text, so that the final norm and output head applied to
// the mapped state predict the full model's next token far better than applied to h_k as it is.
// The adapters travel in the GGUF (model.h ExitAdapter; docs/GGUF_EXTENSIONS.md).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace tenfold {

class Model;

struct ExitFit {
    int layer = 0;
    std::vector<float> weight; // [nEmbd out][nEmbd in], row-major
    std::vector<float> bias;   // [nEmbd]
};

struct ExitFitOptions {
    std::vector<int> layers;  // exits to fit (1..nLayer-1)
    int window = 256;         // tokens per forward pass (each window starts a fresh cache)
    double ridge = 1e-4;      // times the mean diagonal of X^T X, added to it
    int threads = 0;
};

// Fits one adapter per requested layer on `tokens` (windows of options.window). Throws
// InvalidArgument for a bad layer or fewer tokens than nEmbd + 1 (the system would be
// underdetermined: it says how many are needed), Cancelled when *cancel turns true.
std::vector<ExitFit> fitExitAdapters(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens,
                                     const ExitFitOptions& options,
                                     const std::function<void(double)>& progress = {},
                                     const std::atomic<bool>* cancel = nullptr);

// How well an exit predicts the full model on held-out tokens: the mean KL(full || exit) of the
// next-token distributions and how often both pick the same top token.
struct ExitQuality {
    int layer = 0;
    double meanKl = 0;
    double top1Agreement = 0;
    int tokens = 0;
};
// adapter null: the raw final norm + head on h_k.
ExitQuality evaluateExit(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens, int layer,
                         const ExitFit* adapter, int window = 256, int threads = 0);

// Early exit on held-out text, teacher-forced: each token goes through
// InferenceContext::decodeEarlyExit (so later tokens see the propagated keys and values, as in
// generation) and its logits are compared with a full pass over the same tokens.
struct EarlyExitQuality {
    float threshold = 0;
    double averageLayers = 0;
    double meanKl = 0;         // KL(full || early exit) per token
    double top1Agreement = 0;
    double tokensPerSecond = 0;     // early-exit decode, one token per pass
    double fullTokensPerSecond = 0; // plain decode of the same tokens
    int tokens = 0;
};
EarlyExitQuality evaluateEarlyExit(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens,
                                   std::span<const int> exits, float threshold, int threads = 0);

// Writes `model` with these adapters (replacing any it had), default exit layer `defaultLayer`
// (metadata tenfold.exit.default_layer) and, when > 0, the early-exit threshold calibrate-exits
// chose (tenfold.exit.default_threshold) to `path`, atomically.
void writeModelWithExitAdapters(const Model& model, std::span<const ExitFit> adapters, int defaultLayer,
                                const std::filesystem::path& path, float defaultThreshold = 0.0f);

} // namespace tenfold
