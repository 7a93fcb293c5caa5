#include "serve/prefix_cache.h"

#include <algorithm>

namespace tenfold {

PrefixCache::PrefixCache(BatchedContext& ctx, int maxBlocks) : ctx_(ctx), maxBlocks_(std::max(0, maxBlocks)) {}

PrefixCache::~PrefixCache() { clear(); }

void PrefixCache::releaseAll(Node& n)
{
    for (auto& [key, child] : n.children) {
        releaseAll(*child);
        ctx_.releaseBlock(child->block);
        --held_;
    }
    n.children.clear();
}

void PrefixCache::clear() { releaseAll(root_); }

PrefixMatch PrefixCache::lookup(std::span<const int32_t> tokens, int maxTokens)
{
    PrefixMatch m;
    ++stats_.lookups;
    const size_t bs = size_t(ctx_.blockSize());
    const size_t limit = std::min(tokens.size(), size_t(std::max(0, maxTokens)));
    Node* node = &root_;
    const uint64_t now = ++clock_;
    std::vector<int32_t> key(bs);
    for (size_t at = 0; at + bs <= limit; at += bs) {
        std::copy(tokens.begin() + std::ptrdiff_t(at), tokens.begin() + std::ptrdiff_t(at + bs), key.begin());
        const auto it = node->children.find(key);
        if (it == node->children.end())
            break;
        node = it->second.get();
        node->lastUse = now;
        m.blocks.push_back(node->block);
    }
    m.tokens = int(m.blocks.size() * bs);
    if (m.tokens > 0) {
        ++stats_.hits;
        stats_.tokensReused += uint64_t(m.tokens);
    }
    return m;
}

void PrefixCache::insert(std::span<const int32_t> tokens, SeqId seq)
{
    if (maxBlocks_ == 0)
        return;
    const size_t bs = size_t(ctx_.blockSize());
    const size_t length = std::min(size_t(ctx_.sequenceLength(seq)), tokens.size());
    const std::vector<int> blocks = ctx_.sequenceBlocks(seq);
    Node* node = &root_;
    const uint64_t now = ++clock_;
    for (size_t b = 0; (b + 1) * bs <= length && b < blocks.size(); ++b) {
        std::vector<int32_t> key(tokens.begin() + std::ptrdiff_t(b * bs), tokens.begin() + std::ptrdiff_t((b + 1) * bs));
        auto it = node->children.find(key);
        if (it == node->children.end()) {
            auto child = std::make_unique<Node>();
            child->key = std::move(key);
            child->block = blocks[b];
            child->parent = node;
            ctx_.retainBlock(blocks[b]);
            ++held_;
            it = node->children.emplace(child->key, std::move(child)).first;
        }
        node = it->second.get();
        node->lastUse = now;
    }
    if (held_ > maxBlocks_)
        evict(held_ - maxBlocks_);
}

void PrefixCache::collectLeaves(Node& n, std::vector<Node*>& out)
{
    for (auto& [key, child] : n.children) {
        if (child->children.empty())
            out.push_back(child.get());
        else
            collectLeaves(*child, out);
    }
}

int PrefixCache::evict(int want)
{
    int freed = 0;
    while (freed < want) {
        std::vector<Node*> leaves;
        collectLeaves(root_, leaves);
        // Only blocks no sequence holds can go back to the pool.
        leaves.erase(std::remove_if(leaves.begin(), leaves.end(),
                                    [&](Node* n) { return ctx_.blockReferences(n->block) > 1; }),
                     leaves.end());
        if (leaves.empty())
            break;
        // The least recently used leaf goes; its parent may be the next one.
        Node* leaf = *std::min_element(leaves.begin(), leaves.end(),
                                       [](Node* a, Node* b) { return a->lastUse < b->lastUse; });
        ctx_.releaseBlock(leaf->block);
        --held_;
        ++freed;
        ++stats_.evictedBlocks;
        leaf->parent->children.erase(leaf->key);
    }
    return freed;
}

PrefixCacheStats PrefixCache::stats() const
{
    PrefixCacheStats s = stats_;
    s.blocksHeld = held_;
    return s;
}

} // namespace tenfold
