#pragma once
// Internal: the CPU backend's BatchedContext. The KV cache is one pool of blocks per layer
// ([block][row][kvDim] in F16); the forward pass is CpuContext's, with a position and a block
// table per row instead of one contiguous cache.
#include "model/model.h"
#include "runtime/batched_context.h"
#include "runtime/kv_blocks.h"
#include "runtime/matmul.h"
#include "runtime/thread_pool.h"

#include <atomic>
#include <memory>

namespace tenfold {

class CpuBatchedContext final : public BatchedContext {
public:
    CpuBatchedContext(std::shared_ptr<const Model> model, const BatchedParams& params,
                      int nThreads, std::shared_ptr<std::atomic<uint64_t>> memoryCounter);
    ~CpuBatchedContext() override;

    int blockSize() const override { return table_.blockSize(); }
    int totalBlocks() const override { return table_.totalBlocks(); }
    int freeBlocks() const override { return table_.freeBlocks(); }
    int maxSequenceLength() const override { return table_.maxSequenceLength(); }
    int vocabSize() const override { return hp_.nVocab; }
    int embeddingSize() const override { return hp_.nEmbd; }

    SeqId openSequence() override { return table_.open(); }
    SeqId forkSequence(SeqId from, int length) override { return table_.fork(from, length); }
    void closeSequence(SeqId seq) override { table_.close(seq); }
    int sequenceLength(SeqId seq) const override { return table_.length(seq); }
    void truncateSequence(SeqId seq, int length) override { table_.truncate(seq, length); }
    int blocksNeeded(SeqId seq, int nNew) const override { return table_.blocksNeeded(seq, nNew); }
    std::vector<int> sequenceBlocks(SeqId seq) const override { return table_.blocks(seq); }
    void retainBlock(int block) override { table_.retain(block); }
    void releaseBlock(int block) override { table_.release(block); }
    int blockReferences(int block) const override { return table_.references(block); }
    SeqId openSequenceWithBlocks(std::span<const int> blocks, int length) override
    {
        return table_.adopt(blocks, length);
    }

    std::vector<uint8_t> exportSequence(SeqId seq, int length) const override;
    SeqId importSequence(int length, std::span<const uint8_t> data) override;

    void decode(std::span<const BatchRow> rows, std::vector<float>& logits,
                std::vector<float>* embeddings, const std::atomic<bool>* cancel) override;

    // A pipeline stage's part of decode(): appends the rows to their sequences and runs layers
    // [firstLayer(), endLayer()) on the residual stream (rows x embeddingSize() floats), which the
    // first stage (firstLayer() 0) makes from the tokens and every other stage takes in `stream`.
    // The same checks, errors and all-or-nothing rule as decode().
    void decodeLayers(std::span<const BatchRow> rows, std::vector<float>& stream,
                      const std::atomic<bool>* cancel = nullptr);
    // The rest of decode() on a stream the last stage returned: final norm, then logits (and
    // embeddings) of the rows that ask. Touches no sequence.
    void outputHead(std::span<const BatchRow> rows, std::span<const float> stream, std::vector<float>& logits,
                    std::vector<float>* embeddings);
    // Throws what decode() would for these rows (unknown sequence, bad token, too long, pool
    // full) without changing anything.
    void checkRows(std::span<const BatchRow> rows, bool haveEmbeddingOutput) const;
    int firstLayer() const { return layerBegin_; }
    int endLayer() const { return layerEnd_; }
    uint64_t bytesHeld() const override { return bytes_; }
    std::vector<OpTiming> lastTimings() const override { return timings_; }

    // Tests: force the GEMM (1) or mat-vec (0) matmul path; -1 automatic.
    void forceMatmulPath(int gemm) { matmul_.forcePath(gemm); }

private:
    void reserveBatch(int T);
    // Plans the rows, copies shared blocks, runs fn (which computes), commits; rolls back on a throw.
    template <class F>
    void appendRows(std::span<const BatchRow> rows, bool haveEmbeddingOutput, F&& fn);
    void runLayers(std::span<const BatchRow> rows, const float* input, const std::atomic<bool>* cancel);
    void head(std::span<const BatchRow> rows, std::vector<float>& logits, std::vector<float>* embeddings);
    uint8_t* blockData(std::vector<uint8_t>& pool, int block) const
    {
        return pool.data() + size_t(block) * blockBytes_;
    }
    void accountBytes(uint64_t before);
    // Runs fn, timed as `name` of `layer` when profiling (CpuContext's op names).
    template <class F>
    void op(const char* name, int layer, F&& fn);

    std::shared_ptr<const Model> model_;
    LlamaHParams hp_;
    int layerBegin_, layerEnd_;
    mutable KvBlockTable table_; // checkRows plans and rolls back
    ThreadPool pool_;
    Matmul matmul_;
    size_t kvDim_;
    size_t blockBytes_; // one block of one layer's keys (or values)
    std::vector<std::vector<uint8_t>> kPool_, vPool_; // per own layer (index il - firstLayer)

    int batchCap_ = 0;
    int maxBlocksPerSeq_ = 0;
    std::vector<float> x_, xn_, q_, k_, v_, attn_, tmp_, gate_, up_, ffn_, cos_, sin_;
    std::vector<int32_t> positions_;
    std::vector<const void*> kRows_, vRows_; // per row: its sequence's block pointers (one layer)
    std::vector<std::vector<float>> scores_;  // per thread
    uint64_t bytes_ = 0;
    std::shared_ptr<std::atomic<uint64_t>> memoryCounter_;
    bool profile_ = false;
    std::vector<OpTiming> timings_;
};

} // namespace tenfold
