#pragma once
// The bookkeeping of a paged KV cache, independent of where the blocks live (CPU memory or a GPU
// buffer): which blocks are free, how many sequences share each, and each sequence's block table.
// Appending is transactional: plan() reserves the blocks a batch needs (new blocks, and a private
// copy of a shared, partly filled last block), the backend copies and computes, and then commit()
// makes the new lengths visible or rollback() returns everything as it was.
#include "runtime/batched_context.h"

#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tenfold {

class KvBlockTable {
public:
    KvBlockTable(int totalBlocks, int blockSize, int maxSequenceLength);

    int blockSize() const { return blockSize_; }
    int totalBlocks() const { return int(refs_.size()); }
    int freeBlocks() const { return int(free_.size()); }
    int maxSequenceLength() const { return maxLen_; }

    SeqId open();
    SeqId fork(SeqId from, int length);
    void close(SeqId seq);
    int length(SeqId seq) const;
    void truncate(SeqId seq, int length);
    int blocksNeeded(SeqId seq, int nNew) const;
    bool contains(SeqId seq) const { return seqs_.count(seq) != 0; }
    // Block ids of the sequence, in position order.
    const std::vector<int>& blocks(SeqId seq) const;
    int references(int block) const;
    void retain(int block);
    void release(int block); // returns the block to the pool when its last reference goes
    SeqId adopt(std::span<const int> blocks, int length);

    struct Plan {
        std::vector<std::pair<SeqId, int>> appends;          // sequence, new positions
        std::vector<std::pair<SeqId, std::vector<int>>> old; // tables before the plan
        std::vector<int> fresh;                              // blocks taken from the pool
        std::vector<int> unshared;                           // shared blocks a sequence let go
        // Copy-on-write: rows [0, rows) of block `from` must be copied into block `to` before
        // the batch runs.
        struct Copy { int from, to, rows; };
        std::vector<Copy> copies;
        // planRows: each row's position (after its sequence's cached positions and the batch's
        // earlier rows of the same sequence).
        std::vector<int32_t> positions;
    };
    // Reserves blocks for appending `appends` (each sequence at most once). Throws
    // InvalidArgument for an unknown sequence or one that would exceed maxSequenceLength(), and
    // KvCacheFull when the pool lacks blocks; in both cases nothing changed.
    Plan plan(std::span<const std::pair<SeqId, int>> appends);
    // A batch for BatchedContext::decode: checks its rows (open sequences, tokens below `vocab`,
    // an embedding output when a row asks for one; InvalidArgument names the row), counts each
    // sequence's new positions and plans them as plan() does, positions included.
    Plan planRows(std::span<const BatchRow> rows, int vocab, bool haveEmbeddingOutput);
    void commit(const Plan& plan);
    void rollback(Plan& plan);

private:
    struct Sequence {
        std::vector<int> blocks;
        int length = 0;
    };
    const Sequence& get(SeqId seq) const;
    int take();
    void checkBlock(int block) const;

    int blockSize_;
    int maxLen_;
    SeqId nextId_ = 0;
    std::vector<int> refs_;
    std::vector<int> free_;
    std::unordered_map<SeqId, Sequence> seqs_;
};

} // namespace tenfold
