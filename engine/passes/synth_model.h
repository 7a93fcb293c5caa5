#pragma once
// Synthetic models: random weights in the exact shape of a real model, written straight to GGUF
// so speed and memory can be measured on 1B-7B shapes without downloading anything. Weights are
// drawn like a real initialisation (N(0, 0.02); residual output projections scaled down by
// sqrt(2 * layers) as in GPT-2), norms are 1, so activations stay finite through every layer.
// The vocabulary is a valid SentencePiece-style one (<unk>, <s>, </s>, 256 byte tokens, then
// filler pieces built from letters) so the file loads, tokenizes any text and generates.
// Generation is deterministic for a given seed whatever the thread count, and streams: memory
// stays at one chunk of rows however large the model.
#include "tensor/ggml_type.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

struct SynthShape {
    std::string name;
    int nEmbd = 0;
    int nLayer = 0;
    int nHead = 0;
    int nHeadKv = 0;
    int nFF = 0;
    int nVocab = 0;
    int nCtx = 0;
    float ropeFreqBase = 10000.0f;
    float rmsEps = 1e-5f;
    bool tiedOutput = false;
    uint64_t parameterCount() const;
};

// tinyllama-1.1b, llama-3.2-1b, llama-2-7b, tenfold-ref-main, tenfold-ref-draft, stories260k.
const std::vector<SynthShape>& knownSynthShapes();
std::optional<SynthShape> findSynthShape(std::string_view name); // case-insensitive

struct SynthOptions {
    GGMLType type = GGMLType::F16;  // for 2-D weights, with chooseTensorType's fallback rule
    uint64_t seed = 1;
    int nThreads = 0;               // 0: one per core
    float stddev = 0.02f;
    std::function<void(size_t, size_t, const std::string&)> onTensor; // index, count, name
};

struct SynthReport {
    uint64_t fileBytes = 0;
    uint64_t parameters = 0;
};

// Throws InvalidArgument for an inconsistent shape (heads not dividing the width, ...), IoError
// when the file cannot be written.
SynthReport synthesizeModel(const SynthShape& shape, const std::filesystem::path& out,
                            const SynthOptions& options);

} // namespace tenfold
