#pragma once
// A prompt's KV state on disk, so a long system prompt or document is computed once and survives
// a restart (`tenfold-cli generate --prompt-cache FILE`). The file is versioned and names the
// model (Model::fingerprint()), the cache layout and the token ids, and every 1 MiB chunk of the
// cache carries its own checksum: a file from another model or version, or one truncated or
// corrupted, is refused with a reason, never trusted.
//
// Layout (little-endian): "TFKV", u32 version (1), u64 model fingerprint, u32 cache type (GGML
// type id), u32 layers, u32 row elements (nHeadKv * headDim), u32 token count, i32 tokens[count],
// u64 checksum of everything before it; then the cache bytes (InferenceContext::exportKv) in
// chunks of at most 1 MiB, each followed by its u64 checksum (FNV-1a).
#include "tensor/ggml_type.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tenfold {

class InferenceContext;
class Model;

struct PromptState {
    uint64_t modelFingerprint = 0;
    GGMLType cacheType = GGMLType::F16;
    int layers = 0;
    int rowElements = 0;
    std::vector<int32_t> tokens; // the positions the cache holds
    std::vector<uint8_t> kv;     // exportKv(tokens.size())
};

// Writes atomically (temp file + rename); throws IoError naming the file (disk full, no access).
void savePromptState(const std::filesystem::path& file, const PromptState& state);
// Reads and checks a file against the model and cache type: nullopt with *why set when the file is
// missing, from another model or version, truncated or corrupted.
std::optional<PromptState> loadPromptState(const std::filesystem::path& file, const Model& model,
                                           GGMLType cacheType, std::string* why);

// "<kind>-<model fingerprint>-<hash of the tokens>.tfkv": states of several models and uses (kind:
// "prefix", "conversation") share a folder without clashing.
std::string promptStateFileName(const std::string& kind, const Model& model, std::span<const int32_t> tokens);
// Whether `file` is named as promptStateFileName names them for `kind` (and `model`, when given).
bool isPromptStateFile(const std::filesystem::path& file, const std::string& kind, const Model* model = nullptr);
// Those files in dir, newest first (none when dir is missing or unreadable).
std::vector<std::filesystem::path> promptStateFiles(const std::filesystem::path& dir, const std::string& kind,
                                                    const Model* model = nullptr);
// Removes `model`'s `kind` files in dir whose names are not in `keep` (other models' stay).
void removePromptStatesExcept(const std::filesystem::path& dir, const std::string& kind, const Model& model,
                              const std::vector<std::string>& keep);

// The context's first n positions as a PromptState for `tokens` (n = tokens.size()).
PromptState capturePromptState(const InferenceContext& ctx, const Model& model, GGMLType cacheType,
                               std::span<const int32_t> tokens);
// Puts the longest usable prefix of `state` into ctx (which it empties first): the positions
// whose tokens match `prompt`, at most prompt.size() - 1 so the last prompt token is still
// computed (its logits pick the first new token). Returns how many positions were restored.
int restorePromptState(InferenceContext& ctx, const PromptState& state, std::span<const int32_t> prompt);

} // namespace tenfold
