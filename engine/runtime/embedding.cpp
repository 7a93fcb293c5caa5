#include "runtime/embedding.h"

#include "core/error.h"
#include "runtime/backend.h"
#include "runtime/batched_context.h"

#include <algorithm>
#include <cmath>

namespace tenfold {

std::vector<float> meanPooledEmbedding(Backend& backend, std::shared_ptr<const Model> model,
                                       std::span<const int32_t> tokens, const std::atomic<bool>* cancel)
{
    if (tokens.empty())
        throw InvalidArgument("an embedding needs at least one token");
    BatchedParams params;
    params.maxSequenceLength = int(tokens.size());
    params.maxSequences = 1; // sizes the KV pool for exactly this prompt
    auto ctx = backend.createBatchedContext(std::move(model), params);
    const SeqId seq = ctx->openSequence();
    const int dim = ctx->embeddingSize();
    std::vector<double> sum(size_t(dim), 0.0);
    std::vector<float> logits, hidden;
    // Chunks bound the activation buffers for long prompts; every row contributes its state.
    constexpr size_t kChunk = 256;
    std::vector<BatchRow> rows;
    for (size_t at = 0; at < tokens.size(); at += kChunk) {
        const size_t n = std::min(kChunk, tokens.size() - at);
        rows.clear();
        for (size_t i = 0; i < n; ++i)
            rows.push_back({tokens[at + i], seq, false, true});
        hidden.clear();
        ctx->decode(rows, logits, &hidden, cancel);
        for (size_t i = 0; i < n; ++i)
            for (int d = 0; d < dim; ++d)
                sum[size_t(d)] += hidden[i * size_t(dim) + size_t(d)];
    }
    double norm = 0;
    for (double v : sum)
        norm += v * v;
    norm = std::sqrt(norm);
    std::vector<float> out(static_cast<size_t>(dim));
    for (int d = 0; d < dim; ++d)
        out[size_t(d)] = float(norm > 0 ? sum[size_t(d)] / norm : 0.0);
    return out;
}

} // namespace tenfold
