#pragma once
// Many sequences in one forward pass, over a paged KV cache.
//
// The cache is one pool of fixed-size blocks (blockSize() token positions each, every layer's keys
// and values for them). Each sequence owns a block table: position p of the sequence lives in
// block table[p / blockSize()] at row p % blockSize(). Blocks are reference-counted, so
// forkSequence() shares a whole prefix between sequences at no cost; the first write into a
// shared block copies it (copy-on-write). Memory is a budget (the pool), not a per-sequence
// maximum: a sequence may grow to maxSequenceLength() positions while blocks remain.
//
// decode() takes rows from any number of sequences, each row appended at its sequence's current
// length (rows of one sequence in order, not necessarily adjacent), reads the weights once for
// all of them, and returns logits only for the rows that ask. It is the batched counterpart of
// InferenceContext::decode, which stays the single-sequence API; the two agree to rounding
// (tests/engine/runtime/tst_batched.cpp).
//
// Not thread-safe: one thread (the scheduler's) drives a context.
#include "core/error.h"
#include "runtime/op_timing.h"

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

namespace tenfold {

using SeqId = int32_t;

struct BatchRow {
    int32_t token = 0;
    SeqId seq = -1;
    bool logits = false;      // return this row's logits
    bool embedding = false;   // return this row's final normed hidden state (nEmbd floats)
};

struct BatchedParams {
    int maxSequenceLength = 0; // positions per sequence; 0: the model's training context
    int blockSize = 16;        // token positions per KV block
    uint64_t kvBudgetBytes = 0; // the pool's size in bytes; 0: enough for maxSequences full sequences
    int maxSequences = 16;      // only sizes the default budget
    int nThreads = 0;           // CPU only; 0: the backend's
    bool profile = false;       // time every op of each pass (lastTimings); costs a little speed
    // A pipeline stage (dist/pipeline_batched.h) holds the KV cache of layers [firstLayer,
    // endLayer) only; endLayer 0: the last. The pool has as many blocks as the whole model's would,
    // so every stage's block table stays identical to rank 0's.
    int firstLayer = 0;
    int endLayer = 0;
};

// The pool has no block left for a row. decode() throws it before touching anything, so the
// caller (the scheduler) can preempt a sequence and retry.
class KvCacheFull : public Error {
public:
    using Error::Error;
};

class BatchedContext {
public:
    virtual ~BatchedContext() = default;

    virtual int blockSize() const = 0;
    virtual int totalBlocks() const = 0;
    virtual int freeBlocks() const = 0;
    virtual int maxSequenceLength() const = 0;
    virtual int vocabSize() const = 0;
    virtual int embeddingSize() const = 0;

    // A new empty sequence. Ids are never reused while the sequence is open.
    virtual SeqId openSequence() = 0;
    // A new sequence holding the first `length` positions of `from` (all when length < 0), sharing
    // its blocks.
    virtual SeqId forkSequence(SeqId from, int length = -1) = 0;
    // Frees the sequence's blocks at once (shared blocks when their last owner goes).
    virtual void closeSequence(SeqId seq) = 0;
    virtual int sequenceLength(SeqId seq) const = 0;
    // Forgets positions >= length (frees whole blocks past it).
    virtual void truncateSequence(SeqId seq, int length) = 0;
    // Blocks decode() would take from the pool to append nNew positions to seq (new blocks plus a
    // copy of a shared partial last block).
    virtual int blocksNeeded(SeqId seq, int nNew) const = 0;

    // Block-level access for a prefix cache (serve/prefix_cache.h), which keeps blocks alive
    // beyond the sequences that wrote them. The block ids of a sequence, in position order:
    virtual std::vector<int> sequenceBlocks(SeqId seq) const = 0;
    // Holds / lets go of one more reference to a block (a block returns to the pool when its last
    // reference goes); references(block) counts them.
    virtual void retainBlock(int block) = 0;
    virtual void releaseBlock(int block) = 0;
    virtual int blockReferences(int block) const = 0;
    // A new sequence whose first `length` positions are the given blocks' rows (shared, retained).
    virtual SeqId openSequenceWithBlocks(std::span<const int> blocks, int length) = 0;
    // The first `length` positions of seq laid out as InferenceContext::exportKv lays out a cache
    // (per layer: every position's keys, then every position's values, F16), so a prompt-state
    // file (runtime/prompt_state.h) moves between the two. Throws InvalidArgument for an unknown
    // sequence or a length past its end.
    virtual std::vector<uint8_t> exportSequence(SeqId seq, int length) const = 0;
    // A new sequence of `length` positions whose keys and values are `data` (exportSequence's
    // layout): a saved prefix restored without recomputing it. Throws InvalidArgument when the
    // size does not match, KvCacheFull when the pool lacks blocks (nothing changed then).
    virtual SeqId importSequence(int length, std::span<const uint8_t> data) = 0;

    // Runs the rows, appending each to its sequence. logits receives vocabSize() floats per row
    // with .logits set, in row order; embeddings receives embeddingSize() floats per row with
    // .embedding set (may be null when no row asks). Throws InvalidArgument for an unknown
    // sequence, a token outside the vocabulary or a sequence that would exceed
    // maxSequenceLength(); KvCacheFull when the pool runs out; Cancelled when *cancel becomes
    // true between ops. After any throw every sequence is exactly as before the call.
    virtual void decode(std::span<const BatchRow> rows, std::vector<float>& logits,
                        std::vector<float>* embeddings = nullptr,
                        const std::atomic<bool>* cancel = nullptr) = 0;

    // Bytes held by the pool and the activation buffers.
    virtual uint64_t bytesHeld() const = 0;

    // The ops of the last decode() with BatchedParams::profile set (the names InferenceContext
    // uses, so the Profiler shows a server's passes like a chat's); empty otherwise, and on a
    // backend that does not time batched passes.
    virtual std::vector<OpTiming> lastTimings() const { return {}; }
};

} // namespace tenfold
