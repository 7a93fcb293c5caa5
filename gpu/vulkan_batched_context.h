#pragma once
// Many sequences on a Vulkan device (runtime/batched_context.h): the KV cache is one pool of
// blocks per layer in device memory ([slot][kvDim] halves, slot = block * blockSize + row), the
// block bookkeeping is the CPU's (runtime/kv_blocks.h), and a host-written rows buffer carries
// each row's position, its sequence's block table and the indices of the rows whose outputs are
// wanted, so a recorded pass serves every batch of the same shape whatever sequences it mixes.
#include "gpu_model.h"
#include "runtime/batched_context.h"
#include "runtime/kv_blocks.h"
#include "vk/sequence.h"

#include <list>
#include <memory>

namespace tenfold {

class Model;

class VulkanBatchedContext final : public BatchedContext {
public:
    VulkanBatchedContext(std::shared_ptr<vk::Device> device, std::shared_ptr<const Model> model,
                         std::shared_ptr<vk::GpuModel> weights, const BatchedParams& params);
    ~VulkanBatchedContext() override;

    int blockSize() const override { return table_->blockSize(); }
    int totalBlocks() const override { return table_->totalBlocks(); }
    int freeBlocks() const override { return table_->freeBlocks(); }
    int maxSequenceLength() const override { return table_->maxSequenceLength(); }
    int vocabSize() const override;
    int embeddingSize() const override;

    SeqId openSequence() override { return table_->open(); }
    SeqId forkSequence(SeqId from, int length) override { return table_->fork(from, length); }
    void closeSequence(SeqId seq) override { table_->close(seq); }
    int sequenceLength(SeqId seq) const override { return table_->length(seq); }
    void truncateSequence(SeqId seq, int length) override { table_->truncate(seq, length); }
    int blocksNeeded(SeqId seq, int nNew) const override { return table_->blocksNeeded(seq, nNew); }
    std::vector<int> sequenceBlocks(SeqId seq) const override { return table_->blocks(seq); }
    void retainBlock(int block) override { table_->retain(block); }
    void releaseBlock(int block) override { table_->release(block); }
    int blockReferences(int block) const override { return table_->references(block); }
    SeqId openSequenceWithBlocks(std::span<const int> blocks, int length) override
    {
        return table_->adopt(blocks, length);
    }

    std::vector<uint8_t> exportSequence(SeqId seq, int length) const override;
    SeqId importSequence(int length, std::span<const uint8_t> data) override;

    void decode(std::span<const BatchRow> rows, std::vector<float>& logits,
                std::vector<float>* embeddings, const std::atomic<bool>* cancel) override;
    uint64_t bytesHeld() const override { return bytes_; }
    // GPU timestamps of every dispatch of the last decode() (all its chunks) with profile set.
    std::vector<OpTiming> lastTimings() const override { return timings_; }

    int batchCapacity() const { return batch_; }

private:
    vk::Sequence& passFor(uint32_t nTokens, uint32_t nLogits, uint32_t nEmbed);
    void record(vk::Sequence& s, uint32_t nTokens, uint32_t nLogits, uint32_t nEmbed);
    void runChunk(std::span<const BatchRow> rows, std::span<const uint32_t> positions,
                  std::vector<float>& logits, std::vector<float>* embeddings);

    std::shared_ptr<vk::Device> device_;
    std::shared_ptr<const Model> model_;
    std::shared_ptr<vk::GpuModel> w_;
    std::unique_ptr<vk::GpuOps> ops_;
    std::unique_ptr<KvBlockTable> table_;
    int batch_ = 0;          // rows per pass
    uint32_t maxBlocks_ = 0; // block-table entries per row
    uint64_t layerWords_ = 0;
    uint64_t bytes_ = 0;
    bool profile_ = false;
    std::vector<OpTiming> timings_;

    vk::Buffer rows_, tokens_, logitsHost_, embedHost_;
    vk::Buffer x_, xn_, q_, k_, v_, attn_, gate_, up_, logits_, kCache_, vCache_;
    std::list<std::pair<uint64_t, std::unique_ptr<vk::Sequence>>> passes_;
};

} // namespace tenfold
