#pragma once
// The prefix KV cache: a radix tree over token sequences, one node per full KV block, so a request
// that starts like an earlier one (a shared system prompt, the earlier turns of a chat, a
// preempted request coming back) reuses those blocks and computes only the rest.
//
// A node's key is the blockSize tokens its block holds; the path from the root spells the tokens
// before it, so a node's keys and values are exactly what any sequence starting with that path
// would compute. The cache holds one reference on every block it lists: a block lives while the
// cache or a sequence holds it, and eviction (least recently used leaves first) only takes blocks
// no sequence uses. Besides full blocks, a node keeps a few "tails": partly filled last blocks of
// sequences that ended there, with the tokens they hold. A lookup shares, after the whole blocks
// that match, the one block (a full block's first positions or a tail) that matches the most of
// what follows, so reuse is exact to the token; the first write into such a shared block copies
// it (copy-on-write), so neither sequence sees the other's later tokens.
#include "runtime/batched_context.h"

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

namespace tenfold {

struct PrefixMatch {
    std::vector<int> blocks; // in position order
    int tokens = 0;          // positions they cover (the last block may be partly used)
};

// One path of the tree to a leaf (or to a tail): the tokens it spells and their blocks.
struct CachedPrefix {
    std::vector<int32_t> tokens;
    std::vector<int> blocks;
    uint64_t lastUse = 0; // larger: used more recently
};

struct PrefixCacheStats {
    uint64_t lookups = 0;
    uint64_t hits = 0;          // lookups that reused at least one block
    uint64_t tokensReused = 0;  // prompt tokens not computed
    uint64_t evictedBlocks = 0;
    int blocksHeld = 0;
};

class PrefixCache {
public:
    // maxBlocks: the most blocks the cache keeps for itself (blocks sequences also use count too).
    PrefixCache(BatchedContext& ctx, int maxBlocks);
    ~PrefixCache(); // releases every block it holds
    PrefixCache(const PrefixCache&) = delete;
    PrefixCache& operator=(const PrefixCache&) = delete;

    // The longest cached prefix of `tokens`, at most maxTokens tokens. Marks what it used.
    PrefixMatch lookup(std::span<const int32_t> tokens, int maxTokens);
    // Adds the blocks of `seq` (its full blocks, and its partly filled last one as a tail), whose
    // positions hold `tokens` (at least its length), then evicts down to the budget.
    void insert(std::span<const int32_t> tokens, SeqId seq);
    // Lets go of up to `want` blocks that only the cache holds, oldest leaves first; returns how
    // many went back to the pool.
    int evict(int want);
    void clear();

    // Every prefix the cache would answer in full: each childless node's path and each tail
    // (prefixes of these are not listed), most recently used first.
    std::vector<CachedPrefix> prefixes() const;

    int maxBlocks() const { return maxBlocks_; }
    PrefixCacheStats stats() const;

private:
    struct Tail {
        std::vector<int32_t> tokens; // fewer than blockSize
        int block = -1;
        uint64_t lastUse = 0;
    };
    struct Node {
        std::vector<int32_t> key;
        int block = -1;
        uint64_t lastUse = 0;
        Node* parent = nullptr;
        std::map<std::vector<int32_t>, std::unique_ptr<Node>> children;
        std::vector<Tail> tails;
    };
    // An evictable entry: a tail (index) or a childless, tailless node (tail -1).
    struct Victim {
        Node* node;
        int tail;
        uint64_t lastUse;
    };
    static constexpr size_t kMaxTailsPerNode = 4;
    void collectEvictable(Node& n, std::vector<Victim>& out);
    void releaseAll(Node& n);
    static void collectPrefixes(const Node& n, CachedPrefix& path, std::vector<CachedPrefix>& out);

    BatchedContext& ctx_;
    int maxBlocks_;
    Node root_;
    int held_ = 0;
    uint64_t clock_ = 0;
    PrefixCacheStats stats_;
};

} // namespace tenfold
