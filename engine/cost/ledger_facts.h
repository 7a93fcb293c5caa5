#pragma once
// What the usage ledger records about the model and the CPU behind a generation, computed the
// same way by every writer (desktop chat, server, CLI).
#include <string>

namespace tenfold {
class Model;
}

namespace tenfold::cost {

// The weight type holding most of the file's bytes: what people call the model's quantization
// ("Q4_0" even though the norms are F32). "" for a model without a GGUF file behind it.
std::string dominantWeightType(const Model& model);
// Model::fingerprint() as 16 hex digits (the optimization runs' and response cache's key).
std::string modelHashHex(const Model& model);
// The CPU kernel level in use ("scalar", "avx2", "avx512") for a CPU device, "vulkan" otherwise.
std::string kernelLevelFor(const std::string& deviceTag);

} // namespace tenfold::cost
