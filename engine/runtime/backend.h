#pragma once
// The compute backend interface. The CPU runtime implements it in engine/runtime/, the Vulkan
// backend in gpu/. A backend holds the model's weights where it computes (memory-mapped for the
// CPU, uploaded once for a GPU); a context holds one sequence's KV cache on that backend and runs
// one forward pass per batch of tokens.
#include "core/error.h"
#include "runtime/batched_context.h"
#include "runtime/op_timing.h"
#include "tensor/ggml_type.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tenfold {

class Model;

struct ContextParams {
    int nCtx = 0;                      // 0: the model's training context
    int nThreads = 0;                  // CPU only; 0: all cores
    GGMLType kvType = GGMLType::F16;   // KV cache element type
    bool profile = false;              // collect per-op timings (costs a little speed)
    // A pipeline stage (engine/dist) holds the KV cache of layers [firstLayer, endLayer) only;
    // endLayer 0: every layer. CPU only.
    int firstLayer = 0;
    int endLayer = 0;
};

class InferenceContext {
public:
    virtual ~InferenceContext() = default;
    virtual int contextSize() const = 0;
    virtual int position() const = 0; // tokens already in the KV cache

    // Runs tokens at positions position() .. position()+n-1 and appends their keys/values.
    // logits receives vocab floats for the last token, or n*vocab when allLogits.
    // Throws InvalidArgument if the tokens would overflow the context or an id is out of range,
    // Cancelled if *cancel becomes true between ops (the cache is then rolled back).
    virtual void decode(std::span<const int32_t> tokens, bool allLogits, std::vector<float>& logits,
                        const std::atomic<bool>* cancel = nullptr) = 0;
    // Like decode(tokens, allLogits = true) but only the logits of rows firstRow..n-1 are wanted:
    // logits receives (n - firstRow) * vocab floats. Backends override it to skip the output
    // projection of the other rows (perplexity scores only the second half of each window).
    virtual void decodeRows(std::span<const int32_t> tokens, int firstRow,
                            std::vector<float>& logits, const std::atomic<bool>* cancel = nullptr)
    {
        decode(tokens, true, logits, cancel);
        const size_t vocab = logits.size() / tokens.size();
        logits.erase(logits.begin(), logits.begin() + std::ptrdiff_t(size_t(firstRow) * vocab));
    }
    // Forgets cache entries at positions >= nPos (for regenerate, prefix reuse, speculative undo).
    virtual void truncate(int nPos) = 0;
    // Early exit, for self-speculative drafting: runs tokens at positions position..position+n-1
    // through the first exitLayer layers only, writes those layers' keys and values there, and
    // returns the last token's logits from the final norm and output head applied to that
    // layer's output. position() does not move: the rows stay scratch until a full decode
    // rewrites them. position must be >= position(), and rows between position() and position
    // must have been written by earlier calls with the same exitLayer. Backends without it throw
    // UnsupportedError.
    virtual void decodeExit(std::span<const int32_t> tokens, int position, int exitLayer,
                            std::vector<float>& logits);
    // The KV cache of positions [0, n) as bytes, layer by layer (keys, then values, each n rows of
    // nHeadKv * headDim elements of the cache type), for saving a prompt's state
    // (runtime/prompt_state.h). n must be <= position().
    virtual std::vector<uint8_t> exportKv(int n) const;
    // Replaces the cache with n positions exported by exportKv() from a context of the same model
    // and cache type; position() becomes n. Throws InvalidArgument when the size does not match.
    virtual void importKv(int n, std::span<const uint8_t> data);
    // Early exit (lossy, CALM-style): decodes one token at position(), checking after each layer
    // in `exits` (ascending) whether the exit head's top probability reaches `threshold`; at the
    // first that does (or after all layers) it stops, returns that head's logits and the layers
    // it ran, and fills the keys and values of the skipped layers from the exited hidden state
    // so later tokens attend to a complete cache. position() advances by one. Backends without it
    // throw UnsupportedError.
    virtual int decodeEarlyExit(int32_t token, std::span<const int> exits, float threshold,
                                std::vector<float>& logits);
    // Timings of the last decode() when ContextParams::profile was set; empty otherwise.
    virtual std::vector<OpTiming> lastTimings() const = 0;
};

inline void InferenceContext::decodeExit(std::span<const int32_t>, int, int, std::vector<float>&)
{
    throw UnsupportedError("this backend cannot stop a forward pass early (self-speculative "
                           "decoding needs the CPU backend)");
}

inline int InferenceContext::decodeEarlyExit(int32_t, std::span<const int>, float, std::vector<float>&)
{
    throw UnsupportedError("this backend cannot stop a forward pass early (early exit needs the CPU backend)");
}

inline std::vector<uint8_t> InferenceContext::exportKv(int) const
{
    throw UnsupportedError("this backend cannot save its KV cache");
}

inline void InferenceContext::importKv(int, std::span<const uint8_t>)
{
    throw UnsupportedError("this backend cannot restore a KV cache");
}

// One memory heap of an accelerator, for the Profiler: what is in use against what may be used.
struct DeviceHeapUse {
    uint64_t sizeBytes = 0;
    uint64_t budgetBytes = 0;     // VK_EXT_memory_budget's budget; the heap's size without it
    uint64_t usedBytes = 0;       // with the extension: the driver's usage (every process); else
                                  // what this process reserved on the heap
    bool deviceLocal = false;
    bool driverReported = false;  // usedBytes/budgetBytes from VK_EXT_memory_budget
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;          // "CPU (AVX2+FMA+F16C, 2 threads)", "Vulkan: ..."
    // Makes the model's weights resident (first call per model) and a fresh context.
    virtual std::unique_ptr<InferenceContext> createContext(std::shared_ptr<const Model> model,
                                                            const ContextParams& params) = 0;
    virtual uint64_t memoryInUse() const = 0;      // bytes this backend holds (device or heap)
    // An accelerator's memory heaps now (cheap enough to read a few times a second); empty for
    // the CPU, whose memory is the process's (RSS).
    virtual std::vector<DeviceHeapUse> memoryHeaps() const { return {}; }
    // Many sequences over a paged KV cache (runtime/batched_context.h), for the server.
    // Backends without it throw UnsupportedError.
    virtual std::unique_ptr<BatchedContext> createBatchedContext(std::shared_ptr<const Model> model,
                                                                 const BatchedParams& params)
    {
        throw UnsupportedError(name() + " cannot run batched sequences yet");
    }
};

} // namespace tenfold
