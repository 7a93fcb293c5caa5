#pragma once
// A prompt's embedding for semantic response caching outside the server: the mean of the model's
// final normed hidden states over the prompt's positions, L2-normalised (the same vector the
// scheduler returns for an embedding request, so desktop and server entries compare alike).
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace tenfold {

class Backend;
class Model;

// Runs the tokens through a one-sequence batched context of `backend` (no logits) and returns
// the normalised mean hidden state. Throws UnsupportedError when the backend has no batched
// contexts, Cancelled when *cancel becomes true, InvalidArgument for an empty prompt.
std::vector<float> meanPooledEmbedding(Backend& backend, std::shared_ptr<const Model> model,
                                       std::span<const int32_t> tokens, const std::atomic<bool>* cancel = nullptr);

} // namespace tenfold
